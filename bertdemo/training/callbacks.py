"""Trainer pieces: progress/stop callback, the cores a job may use, and a Trainer that also counts training accuracy."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import SequentialSampler
from transformers import Trainer, TrainerCallback

from bertdemo.errors import TrainingError
from bertdemo.training.coreshare import serving_recently
from bertdemo.training.dynamics import ROW_COLUMN, TrainingDynamics
from bertdemo.training.lengthwarmup import SHORT_PREFIX
from bertdemo.training.monitor import TrainingMonitor


class MonitorCallback(TrainerCallback):
    """Feeds a TrainingMonitor from the Trainer and stops training when asked."""

    def __init__(self, monitor: TrainingMonitor):
        self.monitor = monitor
        self._loss_sum = 0.0  # this epoch's logged losses, weighted by the steps each one averages
        self._loss_steps = 0
        self._last_logged_step = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self.monitor.on_step(0, state.max_steps, 0.0)

    def on_step_end(self, args, state, control, **kwargs):
        self.monitor.on_step(state.global_step, state.max_steps, state.epoch or 0.0)
        if self.monitor.stop_requested:
            control.should_training_stop = True
            control.should_evaluate = False
            control.should_save = False
        return control

    def on_epoch_end(self, args, state, control, **kwargs):
        # The flow callback asks for the epoch-end evaluation; a stopped run gets none.
        if self.monitor.stop_requested:
            control.should_evaluate = False
        else:
            control.should_log = True  # the epoch's last partial window of steps, so its mean loss is complete
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs and "eval_loss" not in logs:
            loss = float(logs["loss"])
            if not math.isfinite(loss):
                raise TrainingError(
                    f"Training loss became {loss} in epoch {math.ceil(state.epoch or 1)}: "
                    "lower the learning rate (try 2e-5) and check the data."
                )
            window = max(1, state.global_step - self._last_logged_step)
            self._last_logged_step = state.global_step
            self._loss_sum += loss * window
            self._loss_steps += window
            self.monitor.add_loss(state.global_step, state.epoch or 0.0, loss)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        metrics = metrics or {}
        self.monitor.add_epoch(
            {
                "epoch": round(state.epoch or 0, 3),
                "step": state.global_step,
                "train_loss": self._loss_sum / self._loss_steps if self._loss_steps else None,
                "train_accuracy": self.monitor.pop_train_accuracy(),
                "val_loss": metrics.get("eval_loss"),
                "val_accuracy": metrics.get("eval_accuracy"),
                "val_f1_macro": metrics.get("eval_f1_macro"),
                "val_precision_macro": metrics.get("eval_precision_macro"),
                "val_recall_macro": metrics.get("eval_recall_macro"),
                # How many validation rows this epoch's figures read (a sample on large files) and what it cost.
                "val_rows": _rows(kwargs.get("eval_dataloader")),
                "eval_seconds": metrics.get("eval_runtime"),
            }
        )
        self._loss_sum, self._loss_steps = 0.0, 0


def _rows(dataloader) -> int | None:
    try:
        return len(dataloader.dataset)
    except (AttributeError, TypeError):
        return None


class AccuracyTrainer(Trainer):
    """Trainer that also counts training accuracy from the logits it computes anyway."""

    train_correct = 0
    train_seen = 0
    dynamics: TrainingDynamics | None = None  # set to record each training row's probabilities (the data audit)

    def _set_signature_columns_if_needed(self):
        # Keep the row positions in the batches (the Trainer drops columns the model does not take).
        super()._set_signature_columns_if_needed()
        if ROW_COLUMN not in self._signature_columns:
            self._signature_columns.append(ROW_COLUMN)
        # ... and the short encodings of a length warm-up (lengthwarmup.WarmupCollator takes them out).
        columns = getattr(self.train_dataset, "column_names", None) or []
        self._signature_columns += [
            c for c in columns if c.startswith(SHORT_PREFIX) and c not in self._signature_columns
        ]

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        rows = inputs.pop(ROW_COLUMN, None)  # not a model input
        loss, outputs = super().compute_loss(model, inputs, return_outputs=True, num_items_in_batch=num_items_in_batch)
        if model.training and "labels" in inputs:
            preds = outputs.logits.detach().argmax(-1)
            self.train_correct += int((preds == inputs["labels"]).sum())
            self.train_seen += int(inputs["labels"].numel())
            if rows is not None and self.dynamics is not None:
                self.dynamics.record(rows, outputs.logits)
        return (loss, outputs) if return_outputs else loss

    def _get_eval_sampler(self, eval_dataset):
        # group_by_length would also shuffle evaluation by length; predictions must come
        # back in dataset order so they line up with the texts for the final report.
        return SequentialSampler(eval_dataset) if eval_dataset is not None else None

    def pop_train_accuracy(self) -> float | None:
        """Accuracy over the training batches since the last call (one epoch)."""
        acc = self.train_correct / self.train_seen if self.train_seen else None
        self.train_correct = self.train_seen = 0
        return acc


class CoreShareCallback(TrainerCallback):
    """Before each step: every core while the app is quiet, all but one while it serves (bertdemo.training.coreshare).

    torch.set_num_threads only when the wanted count changes; the steps taken at each count are kept for run.json.
    """

    def __init__(self, mark: Path, busy_threads: int, quiet_threads: int, quiet_s: float):
        self.mark, self.busy, self.quiet, self.quiet_s = mark, busy_threads, quiet_threads, quiet_s
        self.current = torch.get_num_threads()
        self.steps = {busy_threads: 0, quiet_threads: 0}

    def on_step_begin(self, args, state, control, **kwargs):
        want = self.busy if serving_recently(self.mark, self.quiet_s) else self.quiet
        if want != self.current:
            torch.set_num_threads(want)
            self.current = want
        self.steps[want] += 1

    def summary(self) -> dict[str, Any]:
        """The thread counts and how many steps ran with every core."""
        return {
            "threads_while_serving": self.busy,
            "threads_while_quiet": self.quiet,
            "steps_with_all_cores": self.steps[self.quiet],
            "steps": sum(self.steps.values()),
        }
