"""A training lever over seeds: IMDB's defaults with one config setting each way, both in one process, per seed.

    python bench/lever_seeds.py --lever warmup --seeds 42 0 1        # two whole runs a seed (~4-5 min each, 2 cores)
    python bench/lever_seeds.py --lever quick-length --seeds 0 1

The accuracy benchmark (bench/accuracy_bench.py) trains each set once; a lever that changes what is computed on
long texts is judged here on its IMDB split (1600/400, the same rows) over several training seeds, both sides one
after the other in one process, so a seed's difference is a paired one. Levers:
- quick-length: the quick model's probe at 128 tokens (config.QUICK_MODEL_MAX_LENGTH) or at the run's length;
  LP-FT starts from that probe, so its length could move the final accuracy.
- warmup: the first epoch's texts cut to 128 tokens (config.TRAIN_WARMUP_LENGTH) or at the run's length.
Each writes bench/results/<lever's name>.json and .md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import RESULTS, machine, md_table, write  # noqa: E402


@dataclass(frozen=True)
class Lever:
    """A config setting and its two sides: the defaults' value first."""

    name: str  # the results' file name
    setting: str  # the bertdemo.config attribute
    sides: dict[str, int]
    about: str


LEVERS = {
    "quick-length": Lever(
        "quick_length",
        "QUICK_MODEL_MAX_LENGTH",
        {"probe at 128 tokens (the defaults)": 128, "probe at the run's length": 512},
        "LP-FT from the quick model's probe",
    ),
    "warmup": Lever(
        "length_warmup",
        "TRAIN_WARMUP_LENGTH",
        {"first epoch at 128 tokens (the defaults)": 128, "every epoch at the run's length": 0},
        "the first epoch's length warm-up on and off",
    ),
}


def measure(split, lever: Lever, seed: int) -> dict[str, Any]:
    """Both sides of `lever` on this split (accuracy_bench's IMDB one) with this training seed."""
    from bench.configured import config_set
    from bertdemo.training.hyperparameters import TrainConfig
    from bertdemo.training.trainer import train_run

    out: dict[str, Any] = {"seed": seed}
    for side, value in lever.sides.items():
        started = time.perf_counter()
        with config_set(**{lever.setting: value}):
            info = train_run(split, TrainConfig(seed=seed), f"imdb-{seed}-{value}", root=Path(tempfile.mkdtemp()))
        quick = info.get("quick_model") or {}
        out[side] = {
            "accuracy": info["metrics"]["accuracy"],
            "f1_macro": info["metrics"]["f1_macro"],
            "train_seconds": round(info["train_seconds"], 1),
            "epochs_run": len(info["history"]),
            "length_warmup": info.get("length_warmup"),
            "quick_accuracy": quick.get("accuracy"),
            "quick_seconds": quick.get("seconds"),
            "quick_max_length": quick.get("max_length"),
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(seed, side, out[side], flush=True)
    return out


def render(res: dict[str, Any], lever: Lever) -> str:
    """A row per seed and side, then the mean difference of the final accuracy (and of the time where known)."""
    rows = []
    for m in res["seeds"]:
        for side in lever.sides:
            r = m[side]
            train_s = r.get("train_seconds")  # runs before it was recorded have the whole call's seconds only
            rows.append(
                [
                    m["seed"],
                    side,
                    f"{r['accuracy']:.4f}",
                    f"{train_s:.0f}" if train_s is not None else "-",
                    f"{r['quick_accuracy']:.4f}",
                    f"{r['quick_seconds']:.1f}",
                ]
            )
    on, off = lever.sides
    a, b = (statistics.mean(m[side]["accuracy"] for m in res["seeds"]) for side in lever.sides)
    timed = [m for m in res["seeds"] if m[on].get("train_seconds") and m[off].get("train_seconds")]
    speed = (
        f" Fine-tuning time, {off} / {on}: "
        + ", ".join(f"{m[off]['train_seconds'] / m[on]['train_seconds']:.2f}x" for m in timed)
        + " (per seed)."
        if timed
        else ""
    )
    return (
        md_table(["seed", "side", "final accuracy", "train s", "quick model's accuracy", "quick model s"], rows)
        + f"\n\nIMDB reviews 1600/400 (bench/accuracy_bench.py's split), bertdemo's defaults, {lever.about}; mean "
        f"final accuracy over {len(res['seeds'])} seed(s): {a:.4f} against {b:.4f} ({100 * (a - b):+.2f} points)."
        f"{speed} {res['machine']['cpu']}, `python bench/lever_seeds.py --lever "
        f"{next(k for k, v in LEVERS.items() if v == lever)}`."
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lever", choices=sorted(LEVERS), required=True)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--add", action="store_true", help="keep the seeds the lever's last results hold, add these")
    args = ap.parse_args()
    from bench.accuracy_bench import datasets

    lever = LEVERS[args.lever]
    split = datasets(False)["imdb"][1]()
    res = {"machine": machine(), "lever": args.lever, "seeds": []}
    if args.add:  # the same split and code, run earlier on this machine kind: the table gains seeds
        res["seeds"] = json.loads((RESULTS / f"{lever.name}.json").read_text())["seeds"]
    for seed in [s for s in args.seeds if s not in {m["seed"] for m in res["seeds"]}]:
        res["seeds"].append(measure(split, lever, seed))
        write(lever.name, res, render(res, lever))  # after every seed: a cut run keeps what it measured
    print(render(res, lever))


if __name__ == "__main__":
    main()
