"""Few-shot recipe variants on fresh seeds: is a cell's gap to SetFit the recipe, or the rows a seed drew?

    python bench/fewshot_variants.py --set sst2 --per-class 8 --seeds 100 101 102      # every variant, SetFit beside
    python bench/fewshot_variants.py --set sst2 --per-class 8 --seeds 103 --variants now fp32
    python bench/fewshot_variants.py --table

The few-shot benchmark (bench/fewshot_bench.py) reads each cell over a few seeds, and 8 rows per class vary a lot
from one draw to the next. Here one cell's recipe variants (bertdemo.config's few-shot settings, or a training
setting) are run on seeds the benchmark does not use (100 on), each variant and SetFit on the same rows one after
the other, so every difference is a paired one. Results accumulate in bench/results/fewshot_variants.json (a
variant already measured on a seed is kept); the table gives each variant's mean, its mean difference to SetFit
and to today's recipe ("now") with the standard error over seeds, and its time over SetFit's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.configured import config_set  # noqa: E402
from bench.fewshot_bench import SETS, _frames, _sample, run_defaults, run_setfit  # noqa: E402
from bench.report import RESULTS, machine, md_table, write  # noqa: E402

NAME = "fewshot_variants"


@dataclass(frozen=True)
class Variant:
    """bertdemo.config settings and training settings (TrainRequest's) that differ from today's recipe."""

    about: str
    config: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


VARIANTS = {
    "now": Variant("today's recipe: 2/3 of SetFit's steps at 4e-5, 16 rows a step, clipped at 1, bf16 if there"),
    "fp32": Variant("the same in fp32", settings={"precision": "fp32"}),
    "third-6e-5": Variant(
        "1/3 of SetFit's steps at 6e-5", config={"FEWSHOT_STEP_SHARE": 1 / 3, "FEWSHOT_LEARNING_RATE": 6e-5}
    ),
    "all-2e-5": Variant(
        "all of SetFit's steps at SetFit's 2e-5", config={"FEWSHOT_STEP_SHARE": 1.0, "FEWSHOT_LEARNING_RATE": 2e-5}
    ),
    "8-rows": Variant("8 rows a step (28 pairs) instead of 16", config={"FEWSHOT_BATCH_SIZE": 8}),
}


def measure(set_name: str, per_class: int, seed: int, names: list[str], cell: dict[str, Any]) -> None:
    """SetFit and each named variant not yet in `cell` on this seed's rows (filled in place)."""
    pool, held = _frames(set_name)
    rows = _sample(pool, per_class, seed)
    for name in ["setfit", *names]:
        if name in cell:
            continue
        with tempfile.TemporaryDirectory(prefix="bench-variants-") as tmp:
            if name == "setfit":
                cell[name] = run_setfit(rows, held, seed, Path(tmp))
            else:
                variant = VARIANTS[name]
                with config_set(**variant.config):
                    cell[name] = run_defaults(rows, held, seed, Path(tmp), **variant.settings)["defaults"]
        print(set_name, per_class, seed, name, cell[name]["accuracy"], flush=True)


def render(data: dict[str, Any]) -> str:
    """One table per cell: every variant's accuracy and its paired differences, over the seeds it ran on."""
    header = ["variant", "what", "seeds", "accuracy", "minus SetFit, points", "minus now, points", "time / SetFit's"]
    out = []
    for key, seeds in sorted(data["cells"].items()):
        set_name, per_class = key.split("/")
        rows = []
        for name, variant in VARIANTS.items():
            both = [c for c in seeds.values() if name in c and "setfit" in c and "now" in c]
            if both:
                rows.append([name, variant.about, len(both), *_row(both, name)])
        setfit = statistics.mean(c["setfit"]["accuracy"] for c in seeds.values() if "setfit" in c)
        out.append(
            f"**{set_name}, {per_class} rows per class** (seeds {', '.join(sorted(seeds, key=int))}; SetFit "
            f"{setfit:.4f}):\n\n" + md_table(header, rows)
        )
    return "\n\n".join(out) + (
        "\n\nDifferences are paired (same rows, same held-out rows), mean ± standard error over the seeds. "
        f"{data['machine']['cpu']}. `python bench/fewshot_variants.py`."
    )


def _row(cells: list[dict[str, Any]], name: str) -> list[str]:
    """A variant's mean accuracy, its paired differences to SetFit and to today's recipe, its time over SetFit's."""
    mean = statistics.mean
    seconds = mean(c[name]["seconds"] for c in cells) / mean(c["setfit"]["seconds"] for c in cells)
    return [
        f"{mean(c[name]['accuracy'] for c in cells):.4f}",
        *(_paired([c[name]["accuracy"] - c[other]["accuracy"] for c in cells]) for other in ("setfit", "now")),
        f"{seconds:.2f}",
    ]


def _paired(diffs: list[float]) -> str:
    se = statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else 0.0
    return f"{100 * statistics.mean(diffs):+.2f} ± {100 * se:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="sst2", choices=list(SETS))
    ap.add_argument("--per-class", type=int, default=8)
    ap.add_argument("--seeds", nargs="+", type=int, default=[100, 101, 102])
    ap.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    ap.add_argument("--table", action="store_true", help="only re-render the table from the JSON")
    args = ap.parse_args()
    path = RESULTS / f"{NAME}.json"
    data = json.loads(path.read_text()) if path.exists() else {"machine": machine(), "cells": {}}
    if not args.table:
        if min(args.seeds) < 100:
            ap.error("seeds under 100 are the benchmark's own (bench/fewshot_bench.py): use fresh ones here")
        seeds = data["cells"].setdefault(f"{args.set}/{args.per_class}", {})
        for seed in args.seeds:
            measure(args.set, args.per_class, seed, ["now", *[v for v in args.variants if v != "now"]],
                    seeds.setdefault(str(seed), {}))  # fmt: skip
            write(NAME, data, render(data))  # after every seed: a cut run keeps what it measured
    write(NAME, data, render(data))
    print(render(data))


if __name__ == "__main__":
    main()
