"""The `predict` (texts, or a whole CSV with --csv) and `explain` commands of `python -m bertdemo`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from bertdemo import config
from bertdemo.cli.train import models_root
from bertdemo.errors import BertDemoError


def add_parsers(sub) -> None:
    """Register `predict` and `explain` on the CLI's subparsers."""
    sp = sub.add_parser(
        "predict",
        help="classify texts, or every row of a CSV (--csv IN --out OUT), with a saved run",
        description=f"CSV mode streams the file in chunks (up to {config.PREDICT_MAX_ROWS:,} rows, .csv or .csv.gz) "
        "and writes the input columns plus the predicted label and one probability column per class.",
    )
    sp.add_argument("name", help="saved run name")
    sp.add_argument("texts", nargs="*", help="texts to classify (or use --csv)")
    sp.add_argument("--csv", type=Path, help="a CSV whose every row is classified")
    sp.add_argument("--out", type=Path, help="where the CSV with predictions goes (with --csv)")
    sp.add_argument(
        "--backend",
        choices=config.BACKENDS,
        help="default: pytorch for texts; for --csv the fastest variant whose export check passed",
    )
    sp.add_argument("--text-column", help="text column of --csv (default: detected)")
    sp.add_argument(
        "--label-column", help=f"label column of --csv, for accuracy (default: detected; {config.NO_COLUMN!r}: none)"
    )
    sp.add_argument("--json", action="store_true", help="print one JSON document as the last line")

    sp = sub.add_parser("explain", help="which words pushed a prediction towards a class (integrated gradients)")
    sp.add_argument("name", help="saved run name")
    sp.add_argument("text", help="the text to explain")
    sp.add_argument("--target", help="the class to explain (default: the predicted one)")
    sp.add_argument("--steps", type=int, default=config.EXPLAIN_STEPS, help="integration steps")
    sp.add_argument("--json", action="store_true", help="print one JSON document as the last line")


def cmd_predict(args: argparse.Namespace) -> dict[str, Any]:
    """Texts given on the command line, or a whole CSV with --csv/--out."""
    if args.csv is not None:
        return _predict_csv(args)
    if args.out is not None:
        raise BertDemoError("--out goes with --csv: give the CSV to classify (--csv IN.csv --out OUT.csv).")
    if not args.texts:
        raise BertDemoError('Nothing to classify: pass texts ("a review" ...) or --csv IN.csv --out OUT.csv.')
    from bertdemo.inference.predictors import load_predictor

    backend = args.backend or "pytorch"
    pred = load_predictor(args.name, backend, models_root(args)).predict(args.texts)
    rows = [
        {"text": t, "label": lab, "probabilities": dict(zip(pred.label_names, map(float, p), strict=True))}
        for t, lab, p in zip(args.texts, pred.labels, pred.probabilities, strict=True)
    ]
    if not args.json:
        for r in rows:
            print(f"{r['label']}\t{r['probabilities'][r['label']]:.3f}\t{r['text']}")
    return {"name": args.name, "backend": backend, "predictions": rows}


def _predict_csv(args: argparse.Namespace) -> dict[str, Any]:
    from bertdemo.inference.batchpredict import predict_file

    if args.texts:
        raise BertDemoError("Give texts or --csv, not both.")
    if args.out is None:
        raise BertDemoError("Where should the predictions go? Add --out OUT.csv.")
    if args.out.resolve() == args.csv.resolve():
        raise BertDemoError("--out must differ from --csv: the input file is never overwritten.")
    last = [0.0]

    def progress(p: dict[str, Any]) -> None:
        now = time.monotonic()
        if args.json or (now - last[0] < 2 and p["done"] < p["total"]):
            return
        last[0] = now
        eta = f", ETA {p['eta']:.0f} s" if p.get("eta") is not None else ""
        print(f"{p['done']:,}/{p['total']:,} rows ({p['rows_per_second']:.1f}/s{eta})", file=sys.stderr)

    report = predict_file(
        args.name,
        args.csv,
        args.out,
        backend=args.backend,
        text_column=args.text_column,
        label_column=args.label_column,
        root=models_root(args),
        progress=progress,
    )
    if not args.json:
        print(
            f"{report['predicted']:,} of {report['rows']:,} rows predicted with {report['backend']} in "
            f"{report['seconds']:.1f} s ({report['texts_per_second'] or 0:.1f} texts/s) -> {report['out']}"
        )
        m, seen = report.get("metrics"), report.get("metrics_seen")
        where = " not seen in training" if report.get("seen_in_training") is not None else ""
        if m:
            print(
                f"accuracy {m['accuracy']:.4f}  macro-F1 {m['f1_macro']:.4f} on {m['scored_rows']:,} labeled "
                f"rows{where}"
            )
        if seen:
            print(
                f"accuracy {seen['accuracy']:.4f}  macro-F1 {seen['f1_macro']:.4f} on {seen['scored_rows']:,} labeled "
                "rows the run trained on (not a fair test)"
            )
        for note in report["notes"]:
            print(f"note: {note}")
    return report


def cmd_explain(args: argparse.Namespace) -> dict[str, Any]:
    """Token scores of one text towards the predicted (or --target) class."""
    from bertdemo.inference.explain import explain

    report = explain(args.name, args.text, target=args.target, root=models_root(args), steps=args.steps)
    report.pop("segments")  # a display detail of the UI; tokens and words carry the scores
    if not args.json:
        print(
            f"predicted {report['label']} ({report['probabilities'][report['label']]:.3f}); scores towards "
            f"{report['target']} (completeness error {report['delta']:.2g})"
        )
        for word, score in report["words"]:
            print(f"{score:+.4g}  {word}")
    return report


COMMANDS = {"predict": cmd_predict, "explain": cmd_explain}
