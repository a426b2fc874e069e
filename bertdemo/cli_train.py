"""CLI `python -m bertdemo train`: read and split the CSV, train, save, report per epoch on stderr (the CLI prints)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from bertdemo.errors import BertDemoError, TrainingError, TrainingStopped
from bertdemo.monitor import TrainingMonitor


def models_root(args) -> Path | None:
    """The --models-dir of the command line, resolved (None: config.MODELS_DIR)."""
    return args.models_dir.resolve() if args.models_dir else None


def cmd_train(args) -> dict[str, Any]:
    from bertdemo import basemodels, data, splits, store

    # Name, data and a missing model folder first: they are refused in a fraction of a second,
    # before torch and transformers load.
    name = store.check_new_name(args.name or store.default_run_name(args.model), models_root(args))
    basemodels.resolve_base_model(args.model)
    loaded = data.read_labeled_csv(args.csv, args.text_column, args.label_column, args.max_rows, args.seed)
    if args.val_csv:
        val = data.read_labeled_csv(args.val_csv, args.text_column, args.label_column, None, args.seed)
        split = splits.split_with_validation(loaded, val)
    else:
        split = splits.split_data(loaded, args.val_fraction, args.seed)

    from bertdemo.hyperparameters import TrainConfig

    cfg = TrainConfig.from_options(args)
    cfg.validate()  # before torch loads: `--epochs 0` is refused at once

    from bertdemo.training import train_run

    monitor = PrintingMonitor(status_path=args.status_file, stop_path=args.stop_file, quiet=args.json)
    summary = {
        "source": loaded.source,
        "rows": len(loaded.texts),
        "text_column": loaded.text_column,
        "label_column": loaded.label_column,
        "notes": loaded.notes,
        "warnings": loaded.warnings,
    }
    try:
        info = train_run(
            split, cfg, name, monitor=monitor, root=models_root(args), data_summary=summary, owner=args.owner
        )
    except BertDemoError as exc:
        _report_failure(monitor, str(exc), "stopped" if isinstance(exc, TrainingStopped) else "failed")
        raise
    except Exception as exc:
        reason = store.write_failure(exc)  # a full disk while saving weights: not an OSError from safetensors
        if reason is None:
            raise
        error = TrainingError(
            f"Could not write the model to {store.models_dir(models_root(args))} ({reason}): "
            "check free disk space and that the models folder is writable."
        )
        _report_failure(monitor, str(error), "failed")
        raise error from exc
    result = {
        k: info.get(k)
        for k in (
            "name",
            "path",
            "labels",
            "history",
            "metrics",
            "confusion_matrix",
            "train_seconds",
            "samples_per_second",
            "params",
            "device",
        )
    }
    if not args.json:
        m = info["metrics"]
        print(
            f"saved {info['name']} in {info['path']}: accuracy {m['accuracy']:.4f}, macro-F1 {m['f1_macro']:.4f}, "
            f"{info['train_seconds']:.1f} s ({info['samples_per_second']:.1f} samples/s)"
        )
    return result


def _report_failure(monitor: TrainingMonitor, message: str, phase: str) -> None:
    """Mirror the failure into the status file; on a full disk that write fails too, and the error line matters more."""
    try:
        monitor.fail(" ".join(message.split()), phase=phase)
    except OSError:
        pass


class PrintingMonitor(TrainingMonitor):
    """A TrainingMonitor that also shows the chosen settings and one line per epoch on stderr."""

    def __init__(self, status_path: Path | None = None, stop_path: Path | None = None, quiet: bool = False):
        super().__init__(status_path=status_path, stop_path=stop_path)
        self.quiet = quiet

    def begin(self, epochs: int, chosen: dict[str, str], device: dict[str, Any]) -> None:
        super().begin(epochs, chosen, device)
        if not self.quiet:
            print(f"training on {device['device']} ({device.get('name')}) for {epochs} epoch(s)", file=sys.stderr)
            for key, why in chosen.items():
                print(f"  {key}: {why}", file=sys.stderr)

    def add_epoch(self, record: dict[str, Any]) -> None:
        super().add_epoch(record)
        if not self.quiet:
            fields = ", ".join(f"{k} {v:.4f}" for k, v in record.items() if isinstance(v, float) and k != "epoch")
            print(f"epoch {record['epoch']:g}: {fields}", file=sys.stderr)
