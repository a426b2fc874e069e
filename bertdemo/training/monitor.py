"""Training progress for the UI: a thread-safe state and a cooperative stop flag."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from bertdemo import config
from bertdemo.runs.records import TrainingProgress

KEEP_BEST = "keep-best"  # stop file content: stop, but save the best epoch so far


class TrainingMonitor:
    """Progress (step, epoch, elapsed, ETA), per-epoch history and a stop flag.

    In-process callers read snapshot(); a training subprocess also mirrors the
    snapshot into `status_path` (atomic replace) and watches `stop_path`, so the
    app can poll and stop a job it runs as a separate process.
    """

    def __init__(self, status_path: Path | None = None, stop_path: Path | None = None):
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._status_path = Path(status_path) if status_path else None
        self._stop_path = Path(stop_path) if stop_path else None
        self._trainer = None
        self._started = time.monotonic()
        self._train_started: float | None = None  # first step's start: the ETA counts steps, not model loading
        self._keep_best = False
        self._last_write = 0.0
        self._state: dict[str, Any] = {
            "phase": "starting",
            "step": 0,
            "total_steps": 0,
            "epoch": 0.0,
            "epochs": 0,
            "elapsed": 0.0,
            "eta": None,
            "history": [],
            "chosen": {},
            "baseline": None,
            "loss_trace": [],
            "device": {},
            "message": "",
            "run": None,
            "kept_epoch": None,  # set by "Stop, keep best epoch"
            "quick": None,  # the quick model (linear probe): its run name and validation scores, once saved
        }

    # --- written by the training side -------------------------------------------------
    def begin(self, epochs: int, chosen: dict[str, str], device: dict[str, Any]) -> None:
        """Training is about to start (model loaded, settings chosen)."""
        self._started = time.monotonic()
        self._update(phase="loading", epochs=epochs, chosen=dict(chosen), device=dict(device), force=True)

    def set_chosen(self, chosen: dict[str, str]) -> None:
        """The settings chosen, again: those decided after begin (LP-FT's head, frozen layers, the length warm-up)."""
        self._update(chosen=dict(chosen), force=True)

    def set_baseline(self, baseline: dict[str, Any]) -> None:
        """The bag-of-words baseline's scores on the same split, known before fine-tuning starts."""
        self._update(baseline=dict(baseline), force=True)

    def set_quick(self, quick: dict[str, Any]) -> None:
        """The quick model is saved (its run and scores), or could not be made ({"run": None, "error": ...})."""
        self._update(quick=dict(quick), force=True)

    def attach(self, trainer) -> None:
        """Remember the trainer to read per-epoch training accuracy from it."""
        self._trainer = trainer

    def on_step(self, step: int, total: int, epoch: float) -> None:
        """Called after each optimizer step (step 0: training begins)."""
        now = time.monotonic()
        elapsed = now - self._started
        if step == 0 or self._train_started is None:
            self._train_started = now
        # From measured step time (evaluations so far included), not from the time spent loading the model.
        eta = (now - self._train_started) / step * (total - step) if step else None
        self._update(phase="training", step=step, total_steps=total, epoch=round(epoch, 3), elapsed=elapsed, eta=eta)

    def add_loss(self, step: int, epoch: float, loss: float) -> None:
        """One point of the live training-loss curve (logged every few steps)."""
        point = {"step": step, "epoch": round(epoch, 3), "loss": round(loss, 5)}
        with self._lock:
            self._state["loss_trace"] = [*self._state["loss_trace"], point]
        self._update()

    def add_epoch(self, record: dict[str, Any]) -> None:
        """Append one epoch's metrics to the history."""
        with self._lock:
            self._state["history"] = [*self._state["history"], record]
        self._update(force=True)

    def set_phase(self, phase: str, message: str = "") -> None:
        """evaluating, saving, ..."""
        self._update(phase=phase, message=message, force=True)

    def keep_epoch(self, epoch: int) -> None:
        """After "Stop, keep best epoch": the epoch whose weights the run will hold."""
        self._update(kept_epoch=int(epoch), force=True)

    def finish(self, run_name: str) -> None:
        """The run is saved."""
        self._update(phase="done", run=run_name, eta=0.0, message=f"Saved as {run_name}.", force=True)

    def fail(self, message: str, phase: str = "failed") -> None:
        """Training ended without a saved run."""
        self._update(phase=phase, message=message, eta=None, force=True)

    def pop_train_accuracy(self) -> float | None:
        """Training accuracy of the epoch just finished, when the trainer counts it."""
        pop = getattr(self._trainer, "pop_train_accuracy", None)
        return pop() if pop else None

    # --- read by the UI side ----------------------------------------------------------
    def request_stop(self, keep_best: bool = False) -> None:
        """Ask training to stop at the next step; nothing is saved, or the best epoch so far with keep_best."""
        self._keep_best = keep_best
        self._stop.set()

    @property
    def stop_keeps_best(self) -> bool:
        """True when the stop asked to keep the best epoch so far (flag, or the stop file says KEEP_BEST)."""
        if self._keep_best:
            return True
        try:
            return self._stop_path is not None and self._stop_path.read_text().strip() == KEEP_BEST
        except OSError:
            return False

    @property
    def stop_requested(self) -> bool:
        """True once a stop was asked for (in-process flag or stop file)."""
        if not self._stop.is_set() and self._stop_path is not None and self._stop_path.exists():
            self._stop.set()
        return self._stop.is_set()

    @property
    def history(self) -> list[dict[str, Any]]:
        """Per-epoch metric records so far."""
        with self._lock:
            return list(self._state["history"])

    def snapshot(self) -> TrainingProgress:
        """A copy of the current state (JSON-able)."""
        with self._lock:
            return json.loads(json.dumps(self._state))

    def _update(self, force: bool = False, **changes: Any) -> None:
        with self._lock:
            self._state.update(changes)
            self._state["elapsed"] = round(time.monotonic() - self._started, 2)
            now = time.monotonic()
            if self._status_path is None or not (force or now - self._last_write >= config.STATUS_WRITE_EVERY_S):
                return
            self._last_write = now
            data = json.dumps(self._state)
        tmp = self._status_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, self._status_path)  # the poller never reads half a file
