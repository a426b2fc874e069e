"""Training dynamics ("Dataset Cartography"): each training row's class probabilities in each epoch's training pass.

Taken from the logits the training forward pass computes anyway (no extra pass over the data): the Trainer
hands each batch's row positions along (ROW_COLUMN) and AccuracyTrainer calls `record`. A row's probability
is therefore the one of the moment it was trained on in that epoch, with dropout on, as in the paper's code.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from transformers import TrainerCallback

ROW_COLUMN = "row"  # position of the row in the training split, carried through the collator


class TrainingDynamics:
    """Per epoch, the softmax of every training row's logits (NaN for rows another process trained on)."""

    def __init__(self, n_rows: int, n_classes: int):
        self.n_rows, self.n_classes = n_rows, n_classes
        self.epochs: list[np.ndarray] = []
        self.seconds = 0.0  # what recording cost, for the audit's time report
        self._current = self._blank()

    def _blank(self) -> np.ndarray:
        return np.full((self.n_rows, self.n_classes), np.nan, dtype=np.float32)

    def record(self, rows: torch.Tensor, logits: torch.Tensor) -> None:
        """Keep one training batch's probabilities."""
        started = time.perf_counter()
        probs = torch.softmax(logits.detach().float(), dim=-1).cpu().numpy()
        self._current[rows.detach().cpu().numpy()] = probs
        self.seconds += time.perf_counter() - started

    def end_epoch(self, complete: bool = True) -> None:
        """Close the epoch's record; an epoch cut short by a stop is not kept (nor one that saw no row).

        A cut epoch's rows were partly seen: kept, "training dynamics (2 epoch(s))" stood beside "Trained 1 epoch".
        """
        if complete and not np.isnan(self._current).all():
            self.epochs.append(self._current)
        self._current = self._blank()

    def stacked(self) -> np.ndarray | None:
        """(epochs, rows, classes), or None before the first epoch ended."""
        return np.stack(self.epochs) if self.epochs else None


class DynamicsCallback(TrainerCallback):
    """Closes each epoch's record of training dynamics."""

    def __init__(self, dynamics: TrainingDynamics):
        self.dynamics = dynamics

    def on_epoch_end(self, args, state, control, **kwargs):
        # The Trainer ends an epoch early on a stop: state.epoch is then a fraction (2 epochs and a half: 2.5).
        self.dynamics.end_epoch(complete=abs(state.epoch - round(state.epoch)) < 1e-6)
        return control
