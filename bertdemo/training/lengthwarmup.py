"""Sequence-length warm-up: the first epoch of a long-text run reads its texts cut shorter.

A training step's cost grows with the length of its batch (attention quadratically), and at 256 tokens nearly
every batch of reviews is full. In the first epoch the model is still far from its end point (with LP-FT it
starts from the quick model's probe, fitted at a short length), so the whole text buys little there: that
epoch reads each text cut to a shorter length the same way the run cuts it (head, or head+tail), and every
later epoch, every evaluation and the saved model read the run's full length. The idea is the sequence-length
warm-up of Li et al. 2022 ("The Stability-Efficiency Dilemma"), here for one epoch of fine-tuning.

The short encodings ride along in the training set as extra columns (SHORT_PREFIX + the column), tokenized
with the run's own truncation, so a text cut short is exactly what the run's tokenizing at that length gives.
The collator swaps them in while the callback says the epoch is short, and drops them otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transformers import DataCollatorWithPadding, TrainerCallback

SHORT_PREFIX = "short_"  # a training column holding the same field cut to the warm-up length


def warmup_plan(max_length: int, epochs: int, short_length: int, frozen: bool) -> tuple[int, str | None]:
    """The length of the first epoch (0: none) and why, for a run at `max_length` over `epochs` epochs.

    Off when the run is no longer than the short length, when it has a single epoch (that epoch is the model),
    and with frozen lower layers (their cache holds each text's full-length outputs).
    """
    if short_length <= 0 or max_length <= short_length or epochs < 2 or frozen:
        return 0, None
    why = (
        f"the first epoch reads each text cut to {short_length} tokens (the same truncation), every later epoch "
        f"and every evaluation all {max_length}: that pass costs about half, and it starts from the probe"
    )
    return short_length, why


def short_columns(encoded: dict[str, list]) -> dict[str, list]:
    """The tokenizer's output for the short length, under the names the training set carries it as."""
    return {SHORT_PREFIX + key: value for key, value in encoded.items()}


@dataclass
class WarmupCollator(DataCollatorWithPadding):
    """Pads batches as DataCollatorWithPadding does; while `short` is set, from the short encodings."""

    short: bool = False

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        batch = []
        for feature in features:
            feature = dict(feature)
            cut = {k[len(SHORT_PREFIX) :]: feature.pop(k) for k in list(feature) if k.startswith(SHORT_PREFIX)}
            if self.short:
                feature.update(cut)
            batch.append(feature)
        return super().__call__(batch)


class LengthWarmupCallback(TrainerCallback):
    """Sets the collator short for the first `epochs` epochs, and full again before each evaluation."""

    def __init__(self, collator: WarmupCollator, epochs: int = 1):
        self.collator = collator
        self.epochs = epochs
        self.begun = 0
        self.short_steps = 0

    def on_epoch_begin(self, args, state, control, **kwargs):
        # The Trainer calls this before it draws the epoch's first batch (the dataloader is lazy).
        self.begun += 1
        self.collator.short = self.begun <= self.epochs

    def on_step_end(self, args, state, control, **kwargs):
        self.short_steps += int(self.collator.short)

    def on_epoch_end(self, args, state, control, **kwargs):
        self.collator.short = False  # the evaluation that follows reads full-length texts
