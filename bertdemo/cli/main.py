"""`python -m bertdemo`: inspect, train, models, delete, predict, explain, export, compare, audit.

Every subcommand takes --json and then prints one JSON document as the last line of
stdout. A user error prints one line starting with 'error:' to stderr and exits 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bertdemo import config
from bertdemo.cli import audit, predict
from bertdemo.cli.train import add_train_arguments, cmd_train, models_root
from bertdemo.errors import BertDemoError, one_line

EXIT_USER_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to document the CLI)."""
    p = argparse.ArgumentParser(prog="python -m bertdemo", description="Fine-tune and serve BERT text classifiers.")
    p.add_argument("--models-dir", type=Path, default=None, help=f"saved runs folder (default {config.MODELS_DIR})")
    p.add_argument("-v", "--verbose", action="store_true", help="show library logs")
    sub = p.add_subparsers(dest="command", required=True)

    def csv_opts(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("csv", type=Path, help="labeled CSV file (text + label columns)")
        sp.add_argument("--text-column", help="name of the text column (default: detected)")
        sp.add_argument("--label-column", help="name of the label column (default: detected)")
        sp.add_argument(
            "--max-rows",
            type=int,
            default=config.DEFAULT_MAX_ROWS,
            help=f"use a seeded random sample of at most this many rows (default {config.DEFAULT_MAX_ROWS:,})",
        )
        sp.add_argument("--json", action="store_true", help="print one JSON document as the last line")

    sp = sub.add_parser("inspect", help="check a CSV: columns, classes, dropped rows, token lengths")
    csv_opts(sp)

    sp = sub.add_parser("train", help="fine-tune a model on a CSV and save it in models/")
    add_train_arguments(sp)

    sp = sub.add_parser("models", help="list saved runs")
    sp.add_argument("--json", action="store_true")

    sp = sub.add_parser("delete", help="delete a saved run")
    sp.add_argument("name")
    sp.add_argument("--json", action="store_true")

    predict.add_parsers(sub)  # predict (texts or --csv) and explain
    audit.add_parser(sub)  # rows whose label looks wrong, duplicates, leakage

    sp = sub.add_parser("export", help="export a saved run to ONNX (and check it against PyTorch)")
    sp.add_argument("name")
    sp.add_argument("--optimize", action="store_true", help="also a graph-optimized variant (ORTOptimizer)")
    sp.add_argument(
        "--quantize", action="store_true", help="also a dynamic int8 variant (of the O2 graph with --optimize)"
    )
    sp.add_argument("--json", action="store_true")

    sp = sub.add_parser("compare", help="PyTorch vs ONNX Runtime: answers, latency, throughput, size")
    sp.add_argument("name")
    sp.add_argument("--text", action="append", default=[], help="a text to compare (repeatable)")
    sp.add_argument("--csv", type=Path, help="a CSV whose text column is compared")
    sp.add_argument(
        "--repeats",
        type=int,
        default=config.CLI_COMPARE_REPEATS,
        help="timed rounds: each times every back-end in its own block of calls",
    )
    sp.add_argument("--json", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    _quiet_libraries(args.verbose)
    # SIGTERM (the app's stop fallback) unwinds like Ctrl-C, so staging folders are removed.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    if getattr(args, "parent_pid", None):
        _exit_with_parent(args.parent_pid)
    try:
        result = COMMANDS[args.command](args)
    except BertDemoError as exc:
        hint = f" {exc.cli_hint}" if getattr(exc, "cli_hint", "") else ""
        print(f"error: {one_line(str(exc))}{hint}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("error: interrupted; nothing was saved.", file=sys.stderr)
        return 130
    if args.json and result is not None:  # None: a non-main process of a distributed training
        print(json.dumps(result, ensure_ascii=False, default=str))
    return 0


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _exit_with_parent(parent_pid: int) -> None:
    """SIGTERM ourselves once the app that started us is gone (killed, crashed, restarted).

    The job runs in its own session, so a kill of the app's process group misses it; an orphan would
    train on for nobody, keep its staging folder from the next start-up's sweep and race a new job.
    Polling getppid, not PR_SET_PDEATHSIG: that fires when the *thread* that forked us exits.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _quiet_libraries(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if not verbose:
        import warnings

        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
        warnings.filterwarnings("ignore")


def cmd_inspect(args) -> dict[str, Any]:
    from bertdemo.tokenizing import bundled_token_counter
    from bertdemo.training.inspection import inspect_csv

    # A loader, called only once the file is read: a bad file is refused before any tokenizer loads.
    report = inspect_csv(args.csv, args.text_column, args.label_column, args.max_rows, tokenizer=bundled_token_counter)
    if not args.json:
        _print_inspection(report)
    return report


def _print_inspection(r: dict[str, Any]) -> None:
    print(
        f"{r['source']}: {r['rows']:,} usable rows of {r['rows_read']:,} "
        f"(text column {r['text_column']!r}, label column {r['label_column']!r})"
    )
    print(f"encoding {r['encoding']}, delimiter {r['delimiter']!r}, duplicates {r['duplicates']}")
    for label, n in r["class_counts"].items():
        print(f"  {label:<20} {n:>8,}")
    for reason, n in (r.get("dropped") or {}).items():
        print(f"dropped {n:,}: {reason}")
    if r.get("token_lengths"):
        t = r["token_lengths"]
        print("tokens: " + ", ".join(f"{k} {v}" for k, v in t.items()))
    found = r.get("audit") or {}
    if found.get("duplicates"):
        d = found["duplicates"]
        print(
            f"duplicates: {d['exact_rows']:,} exact, {d['near_rows']:,} near (case/space/punctuation); "
            f"{d['conflict_groups']:,} text(s) with conflicting labels"
        )
    if found.get("leakage"):
        print(f"leakage: {found['leakage']['leaked_rows']:,} validation rows also in training (default split)")
    for line in r.get("notes", []):
        print(f"note: {line}")
    for line in r.get("warnings", []):
        print(f"warning: {line}")


def cmd_models(args) -> dict[str, Any]:
    from bertdemo.runs import store

    runs = store.list_runs(models_root(args))
    if not args.json:
        if not runs:
            print(f"no saved runs in {store.models_dir(models_root(args))}")
        for r in runs:
            acc = f"{r['accuracy']:.4f}" if r.get("accuracy") is not None else "-"
            print(f"{r['name']:<40} acc {acc}  labels {','.join(r['labels'])}  base {r['base_model']}  {r['created']}")
    return {"models": runs}


def cmd_delete(args) -> dict[str, Any]:
    from bertdemo.runs import store

    store.delete_run(args.name, models_root(args))
    if not args.json:
        print(f"deleted {args.name}")
    return {"deleted": args.name}


def cmd_export(args) -> dict[str, Any]:
    from bertdemo.onnx.export import export_run

    report = export_run(args.name, optimize=args.optimize, quantize=args.quantize, root=models_root(args))
    if not args.json:
        for variant, v in report["variants"].items():
            print(
                f"{variant:<16} {v.get('size_mb', 0):8.1f} MB  max|diff| {v.get('max_abs_diff', float('nan')):.2e}  "
                f"agreement {v.get('agreement', 0):.4f}  accuracy {v.get('accuracy', 0):.4f}  "
                f"{'ok' if v.get('passed', True) else 'CHECK FAILED'}"
            )
    return report


def cmd_compare(args) -> dict[str, Any]:
    from bertdemo.data import labeled
    from bertdemo.onnx.compare import compare_backends

    texts = list(args.text)
    if args.csv:
        texts += labeled.read_texts(args.csv)
    if not texts:
        raise BertDemoError("Nothing to compare: pass --text 'a review' (repeatable) or --csv FILE.")
    report = compare_backends(args.name, texts, root=models_root(args), repeats=args.repeats)
    if not args.json:
        for backend, b in report["backends"].items():
            print(
                f"{backend:<16} p50 {b['p50_ms']:7.2f} ms  p95 {b['p95_ms']:7.2f} ms  "
                f"{b['throughput']:8.1f} texts/s  x{b.get('speedup_p50', 1):.2f}  {b.get('size_mb', 0):.1f} MB"
            )
        m = report["measurement"]
        print(f"measured: {m['method']}; ORT spinning {'on' if m['ort_spinning'] else 'off'} ({m['why']})")
        if m.get("first_call"):
            firsts = ", ".join(f"{k} {v['first_call_ms']:.2f} ms" for k, v in report["backends"].items())
            print(f"first call after {m['first_call']['idle_s']:g} s idle (not in p50/p95): {firsts}")
        for warning in report.get("warnings") or []:
            print(f"warning: {warning}")
    return report


COMMANDS = {
    "inspect": cmd_inspect,
    "train": cmd_train,
    "models": cmd_models,
    "delete": cmd_delete,
    **predict.COMMANDS,
    "export": cmd_export,
    "compare": cmd_compare,
    "audit": audit.cmd_audit,
}
