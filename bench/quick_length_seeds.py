"""The quick model's length on long texts, over seeds: IMDB's defaults with the probe at 128 tokens and at the run's.

    python bench/quick_length_seeds.py --seeds 0 1     # each seed: two whole runs (about 5 minutes each on 2 cores)

LP-FT fine-tunes from the quick model's probe, so the probe's length (config.QUICK_MODEL_MAX_LENGTH) could move
the final accuracy. accuracy_bench.py's IMDB row compares the two on one training seed; this reruns that split
(IMDB 1600/400, the same rows) with other training seeds, both sides one after the other in one process.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import machine, md_table, write  # noqa: E402

NAME = "quick_length"
SIDES = {"probe at 128 tokens (the defaults)": 128, "probe at the run's length": 512}


def measure(split, seed: int) -> dict[str, Any]:
    """Both sides on this split (accuracy_bench's IMDB one) with this training seed."""
    from bertdemo import config
    from bertdemo.training.hyperparameters import TrainConfig
    from bertdemo.training.trainer import train_run

    out: dict[str, Any] = {"seed": seed}
    chosen = config.QUICK_MODEL_MAX_LENGTH
    try:
        for side, length in SIDES.items():
            config.QUICK_MODEL_MAX_LENGTH = length
            started = time.perf_counter()
            info = train_run(split, TrainConfig(seed=seed), f"imdb-{seed}-{length}", root=Path(tempfile.mkdtemp()))
            quick = info.get("quick_model") or {}
            out[side] = {
                "accuracy": info["metrics"]["accuracy"],
                "quick_accuracy": quick.get("accuracy"),
                "quick_seconds": quick.get("seconds"),
                "quick_max_length": quick.get("max_length"),
                "seconds": round(time.perf_counter() - started, 1),
            }
            print(seed, side, out[side], flush=True)
    finally:
        config.QUICK_MODEL_MAX_LENGTH = chosen
    return out


def render(res: dict[str, Any]) -> str:
    """A row per seed and side, then the mean difference of the final accuracy."""
    rows = []
    for m in res["seeds"]:
        for side in SIDES:
            r = m[side]
            rows.append(
                [m["seed"], side, f"{r['accuracy']:.4f}", f"{r['quick_accuracy']:.4f}", f"{r['quick_seconds']:.1f}"]
            )
    a, b = (statistics.mean(m[side]["accuracy"] for m in res["seeds"]) for side in SIDES)
    return (
        md_table(["seed", "quick model", "final accuracy", "quick model's accuracy", "quick model s"], rows)
        + f"\n\nIMDB reviews 1600/400 (bench/accuracy_bench.py's split), bertdemo's defaults, LP-FT from the quick "
        f"model's probe; mean final accuracy over {len(res['seeds'])} seed(s): {a:.4f} against {b:.4f} "
        f"({100 * (a - b):+.2f} points). {res['machine']['cpu']}, `python bench/quick_length_seeds.py`."
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    args = ap.parse_args()
    from bench.accuracy_bench import datasets

    split = datasets(False)["imdb"][1]()
    res = {"machine": machine(), "seeds": [measure(split, seed) for seed in args.seeds]}
    table = render(res)
    write(NAME, res, table)
    print(table)


if __name__ == "__main__":
    main()
