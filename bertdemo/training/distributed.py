"""Training in several processes (torchrun, accelerate launch): which one is the main one, and agreeing on values.

The launchers set RANK and WORLD_SIZE; the Trainer does the rest (DDP). Only the main process checks the
run name, writes the run and prints; the others train and exit 0.
"""

from __future__ import annotations

import os
from typing import TypeVar

T = TypeVar("T")


def world_size() -> int:
    """How many processes train together (1 without a launcher)."""
    return int(os.environ.get("WORLD_SIZE") or 1)


def rank() -> int:
    """This process's global rank (0 without a launcher)."""
    return int(os.environ.get("RANK") or 0)


def is_main() -> bool:
    """True in the process that writes the run and owns the output."""
    return rank() == 0


def agree(value: T) -> T:
    """The main process's value, on every process (as it is, in a single process)."""
    if world_size() <= 1:
        return value
    import torch
    import torch.distributed as dist
    from accelerate import PartialState

    # The same process group the Trainer starts anyway (gloo on CPU, nccl on GPUs), started a little earlier.
    PartialState(cpu=not torch.cuda.is_available())
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]
