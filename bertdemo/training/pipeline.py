"""One training pipeline for every caller (CLI, the app's job subprocess or thread, the API's checks).

A TrainRequest (data settings + the TrainConfig settings) is checked by `prepare` before torch loads,
then `train_from_request` trains and saves it; every mode therefore writes the same run.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bertdemo import config, settings
from bertdemo.errors import BertDemoError, TrainingStopped, one_line
from bertdemo.settings import setting
from bertdemo.training.hyperparameters import TrainConfig
from bertdemo.training.monitor import TrainingMonitor


@dataclass(kw_only=True)
class TrainRequest(TrainConfig):
    """A whole training request: what data, how to read it, plus every TrainConfig setting (same names as the CLI)."""

    csv_path: str = setting(
        None,
        label="CSV file",
        help="labeled CSV file (text + label columns)",
        flags=("csv_path",),
        metavar="csv",
        api=False,
        ui="custom",
    )
    name: str | None = setting(None, label="run name", help="run name (default: <model>-<date>-<time>)", ui="custom")
    text_column: str | None = setting(
        None, label="text column", help="name of the text column (default: detected)", ui="custom"
    )
    label_column: str | None = setting(
        None, label="label column", help="name of the label column (default: detected)", ui="custom"
    )
    # A path on the server: the CLI's, never an API caller's (it could name any file there).
    val_csv: str | None = setting(
        None,
        label="validation CSV",
        help="separate validation CSV (default: split off --val-fraction)",
        api=False,
        ui="custom",
    )
    val_fraction: float = setting(
        config.DEFAULT_VAL_FRACTION,
        label="validation fraction",
        help="share of rows held out for validation (split.py checks the range)",
        ui_min=0.05,
        ui_max=0.5,
        step=0.05,
    )
    max_rows: int | None = setting(
        config.DEFAULT_MAX_ROWS,
        label="max rows",
        unit="random sample",
        help="use a seeded random sample of at most this many rows",
        ui_min=1,
        ui="advanced",
    )

    def train_config(self) -> TrainConfig:
        """The TrainConfig part of this request."""
        return TrainConfig(**{s.name: getattr(self, s.name) for s in settings.schema(TrainConfig)})

    def to_json(self) -> dict[str, Any]:
        """Every setting, JSON-able (the job runner's request file)."""
        return settings.to_json(self)

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> TrainRequest:
        """The inverse of to_json (unknown keys are refused)."""
        known = {s.name for s in settings.schema(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise BertDemoError(f"Unknown key(s) in the training request: {', '.join(unknown)}.")
        return cls(**values)

    def write(self, path: Path) -> None:
        """Save as a JSON request file."""
        Path(path).write_text(json.dumps(self.to_json(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> TrainRequest:
        """Load a JSON request file written by `write`."""
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


@dataclass
class Prepared:
    """A checked request: the run's free name, the split rows and what the data report says."""

    name: str
    split: Any  # splits.Split
    summary: dict[str, Any]


def prepare(
    request: TrainRequest, root: Path | None = None, visitor: bool = False, owner: str | None = None
) -> Prepared:
    """Check everything that can be checked before torch loads: name, settings, data, base model.

    `visitor`: the request comes from the app or the API, whose base models are restricted (basemodels).
    `owner` (a hash): the run is theirs, and its name is checked among their runs and the shared ones only.
    """
    from bertdemo.data import labeled, splits
    from bertdemo.runs import store
    from bertdemo.training import basemodels

    if not request.csv_path:
        raise BertDemoError("No CSV file: give the labeled CSV to train on.")
    name = store.check_new_name(request.name or store.default_run_name(request.model), root, owner)
    request.validate()  # `--epochs 0` is refused at once
    loaded = labeled.read_labeled_csv(
        request.csv_path, request.text_column, request.label_column, request.max_rows, request.seed
    )
    if request.val_csv:
        val = labeled.read_labeled_csv(request.val_csv, request.text_column, request.label_column, None, request.seed)
        split = splits.split_with_validation(loaded, val)
    else:
        split = splits.split_data(loaded, request.val_fraction, request.seed)
    if visitor:  # last: it imports transformers
        basemodels.resolve_app_base_model(request.model, root)
    else:
        basemodels.resolve_base_model(request.model)
    summary = {
        "source": loaded.source,
        "rows": len(loaded.texts),
        "text_column": loaded.text_column,
        "label_column": loaded.label_column,
        "notes": loaded.notes,
        "warnings": loaded.warnings,
    }
    from bertdemo.data.duplicates import leakage_warning
    from bertdemo.training.auditing import split_findings

    leak = leakage_warning(split_findings(split).get("leakage"))
    if leak:  # said before training starts, and kept in run.json
        summary["warnings"] = [*loaded.warnings, leak]
    return Prepared(name, split, summary)


def train_from_request(
    request: TrainRequest, monitor: TrainingMonitor | None = None, root: Path | None = None, owner: str | None = None
) -> dict[str, Any]:
    """Check, train and save one request; returns run.json (+ 'path'). A failure is also reported to the monitor."""
    monitor = monitor or TrainingMonitor()
    try:
        prepared = prepare(request, root, owner=owner)
        from bertdemo.training.trainer import train_run

        return train_run(
            prepared.split,
            request.train_config(),
            prepared.name,
            monitor=monitor,
            root=root,
            data_summary=prepared.summary,
            owner=owner,
            data_file=request.csv_path,
        )
    except BertDemoError as exc:
        report_failure(monitor, str(exc), "stopped" if isinstance(exc, TrainingStopped) else "failed")
        raise


def report_failure(monitor: TrainingMonitor, message: str, phase: str = "failed") -> None:
    """Mirror a failure into the monitor; on a full disk its status-file write fails too, and the error matters more."""
    try:
        monitor.fail(one_line(message), phase=phase)
    except OSError:
        pass
