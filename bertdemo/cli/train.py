"""CLI `python -m bertdemo train`: read and split the CSV, train, save, report per epoch on stderr (the CLI prints)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bertdemo import settings
from bertdemo.training import distributed
from bertdemo.training.baseline import verdict
from bertdemo.training.monitor import TrainingMonitor


def models_root(args) -> Path | None:
    """The --models-dir of the command line, resolved (None: config.MODELS_DIR)."""
    return args.models_dir.resolve() if args.models_dir else None


def add_train_arguments(sp: argparse.ArgumentParser) -> None:
    """The `train` subcommand's options: one per setting of the schema (pipeline.TrainRequest)."""
    from bertdemo.training.pipeline import TrainRequest

    settings.add_arguments(sp, TrainRequest)
    sp.add_argument("--json", action="store_true", help="print one JSON document as the last line")
    # For the app's job runner: the whole request as a JSON file, progress mirrored to a file,
    # stop when a file appears, and stop when the app dies.
    sp.add_argument("--request", type=Path, help=argparse.SUPPRESS)
    sp.add_argument("--status-file", type=Path, help=argparse.SUPPRESS)
    sp.add_argument("--stop-file", type=Path, help=argparse.SUPPRESS)
    sp.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)
    sp.add_argument("--owner", help=argparse.SUPPRESS)  # the app: hash of the browser/API caller owning the run


def cmd_train(args) -> dict[str, Any] | None:
    from bertdemo.training.pipeline import TrainRequest, train_from_request

    request = TrainRequest.read(args.request) if args.request else settings.from_namespace(TrainRequest, args)
    main = distributed.is_main()  # under torchrun / accelerate launch only the main process prints
    monitor = PrintingMonitor(status_path=args.status_file, stop_path=args.stop_file, quiet=args.json or not main)
    info = train_from_request(request, monitor=monitor, root=models_root(args), owner=args.owner)
    if not main:
        return None
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
            "baseline",
            "distributed",
        )
    }
    if not args.json:
        m = info["metrics"]
        print(
            f"saved {info['name']} in {info['path']}: accuracy {m['accuracy']:.4f}, macro-F1 {m['f1_macro']:.4f}, "
            f"{info['train_seconds']:.1f} s ({info['samples_per_second']:.1f} samples/s)"
        )
        print(verdict(m["accuracy"], info.get("baseline")))
    return result


class PrintingMonitor(TrainingMonitor):
    """A TrainingMonitor that also shows the chosen settings and one line per epoch on stderr."""

    def __init__(self, status_path: Path | None = None, stop_path: Path | None = None, quiet: bool = False):
        super().__init__(status_path=status_path, stop_path=stop_path)
        self.quiet = quiet

    def begin(self, epochs: int, chosen: dict[str, str], device: dict[str, Any]) -> None:
        super().begin(epochs, chosen, device)
        if not self.quiet:
            print(
                f"training on {device['device']} ({device.get('name')}) in {device.get('precision', 'fp32')} "
                f"for {epochs} epoch(s)",
                file=sys.stderr,
            )
            for key, why in chosen.items():
                print(f"  {key}: {why}", file=sys.stderr)

    def set_baseline(self, baseline: dict[str, Any]) -> None:
        super().set_baseline(baseline)
        if not self.quiet and baseline.get("accuracy") is not None:
            print(
                f"  baseline: TF-IDF + logistic regression on the same split, accuracy {baseline['accuracy']:.4f}, "
                f"macro-F1 {baseline['f1_macro']:.4f} ({baseline['seconds']:.1f} s)",
                file=sys.stderr,
            )

    def add_epoch(self, record: dict[str, Any]) -> None:
        super().add_epoch(record)
        if not self.quiet:
            fields = ", ".join(f"{k} {v:.4f}" for k, v in record.items() if isinstance(v, float) and k != "epoch")
            print(f"epoch {record['epoch']:g}: {fields}", file=sys.stderr)
