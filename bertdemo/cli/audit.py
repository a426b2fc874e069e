"""The `audit` command of `python -m bertdemo`: a saved run's rows whose label looks wrong, duplicates, leakage."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bertdemo import config
from bertdemo.cli.train import models_root


def add_parser(sub) -> None:
    """Register `audit` on the CLI's subparsers."""
    sp = sub.add_parser(
        "audit",
        help="rows of a run's file whose label looks wrong, duplicates and validation leakage",
        description="Ranks every row of the file a run trained on (training and validation rows) by how likely "
        "its label is wrong, from the run's training dynamics, its validation predictions and out-of-fold "
        "bag-of-words probabilities. Row numbers are the data rows of the uploaded file (header not counted).",
    )
    sp.add_argument("name", help="saved run name")
    sp.add_argument(
        "--top", type=int, default=config.AUDIT_TOP_ROWS, help=f"rows listed (default {config.AUDIT_TOP_ROWS}; 0: all)"
    )
    sp.add_argument(
        "--out", type=Path, help="write the uploaded file with suggested_label, audit_score, audit_reason added"
    )
    sp.add_argument("--json", action="store_true", help="print one JSON document as the last line")


def cmd_audit(args: argparse.Namespace) -> dict[str, Any]:
    """Print (or return as JSON) the run's audit; with --out, write the annotated file."""
    from bertdemo import service

    report = service.audit(args.name, args.top, root=models_root(args), trusted=True)
    if args.out is not None:
        report["out"] = str(service.audit_csv(args.name, root=models_root(args), trusted=True, out=args.out))
    if not args.json:
        _print(report)
    return report


def _print(report: dict[str, Any]) -> None:
    for note in report["notes"]:
        print(f"note: {note}")
    dup, leak = report.get("duplicates") or {}, report.get("leakage") or {}
    if dup:
        print(
            f"duplicates: {dup['exact_rows']:,} exact, {dup['near_rows']:,} near (case/space/punctuation); "
            f"{dup['conflict_groups']:,} text(s) with conflicting labels"
        )
    if leak:
        print(f"leakage: {leak['leaked_rows']:,} of {leak['val_rows']:,} validation rows also in training")
    print(f"{'row':>6}  {'score':>5}  {'given':<14} {'suggested':<14} reason / text")
    for r in report["rows"]:
        score = f"{r['score']:.2f}" if r["score"] is not None else "-"
        print(f"{r['row']:>6}  {score:>5}  {r['given_label'][:14]:<14} {r['suggested_label'][:14]:<14} {r['reason']}")
        print(f"{'':>30}{r['text'][:100]}")
    if report.get("out"):
        print(f"wrote {report['out']}")
