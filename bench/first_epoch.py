"""Where the seconds up to the first evaluation go: bertdemo's defaults on the train bench's IMDB split.

    python bench/first_epoch.py                      # this CPU
    python bench/first_epoch.py --emulate-cpu avx2   # this CPU running an AVX2-only CPU's kernels (see train_bench)

On long texts the tutorial's target is reached in bertdemo's first epoch (bench/train_bench.py's recipes), so
the time to it is the time to the first evaluation: the baseline, the quick model (its probe, then its run
saved), the fine-tuning's set-up, the steps and the evaluation. One run, stopped once the first epoch is
scored; the clock starts where the train bench's does (monitor.begin).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import machine, md_table, write  # noqa: E402
from bench.train_bench import EMULATED_ISA, emulate_cpu, imdb_split  # noqa: E402


def timeline(rows: int) -> dict[str, Any]:
    """The moments of one run's first epoch, in seconds from monitor.begin."""
    from bench.train_recipes import EpochClock
    from bertdemo import config
    from bertdemo.errors import TrainingStopped
    from bertdemo.training.hyperparameters import TrainConfig
    from bertdemo.training.trainer import train_run

    marks: dict[str, float] = {}

    class Clock(EpochClock):
        def _mark(self, what: str) -> None:
            marks.setdefault(what, time.perf_counter() - (self.began or time.perf_counter()))

        def set_baseline(self, baseline: dict[str, Any]) -> None:
            self._mark("baseline")
            super().set_baseline(baseline)

        def set_chosen(self, chosen: dict[str, str]) -> None:
            super().set_chosen(chosen)
            # The first epoch's length: the run's, or the warm-up's (training/lengthwarmup.py) where it applies.
            marks["warmup_length"] = config.TRAIN_WARMUP_LENGTH if "length_warmup" in chosen else 0

        def set_quick(self, quick: dict[str, Any]) -> None:
            self._mark("quick model saved")
            marks.setdefault("quick probe s", quick.get("seconds") or 0.0)
            marks.setdefault("quick max_length", quick.get("max_length") or 0)
            super().set_quick(quick)

        def on_step(self, step: int, total: int, epoch: float) -> None:
            super().on_step(step, total, epoch)
            if step == 0:
                self._mark("first step starts")
            if epoch >= 1.0 and "steps of epoch 1 done" not in marks:
                self._mark("steps of epoch 1 done")
                marks["steps"] = step

        def add_epoch(self, record: dict[str, Any]) -> None:
            super().add_epoch(record)
            self._mark("epoch 1 scored")
            marks["accuracy"] = record.get("val_accuracy")
            self.request_stop(False)

    split = imdb_split(rows)
    try:
        info = train_run(split, TrainConfig(), "first-epoch", root=Path(tempfile.mkdtemp()), monitor=Clock())
    except TrainingStopped:
        info = None
    assert info is None, "the run was meant to stop after its first epoch"
    return {"train_rows": len(split.train_texts), "val_rows": len(split.val_texts), **marks}


def render(res: dict[str, Any]) -> str:
    """The phases, each with its seconds and share of the time to the first score."""
    t = res["timeline"]
    total = t["epoch 1 scored"]
    quick_rest = t["quick model saved"] - t["baseline"] - t["quick probe s"]
    steps = f"{t['steps']} training steps"
    if t.get("warmup_length"):
        steps += f" at {t['warmup_length']} tokens (the length warm-up)"
    phases = [
        ("reading the settings, TF-IDF baseline", t["baseline"]),
        (f"quick model: probe ({t['quick max_length']} tokens, train and validation rows)", t["quick probe s"]),
        ("quick model: loading the classifier, saving its run", quick_rest),
        ("fine-tuning set-up (model, tokenizing, Trainer)", t["first step starts"] - t["quick model saved"]),
        (steps, t["steps of epoch 1 done"] - t["first step starts"]),
        (f"evaluation of {t['val_rows']} rows, checkpoint", total - t["steps of epoch 1 done"]),
    ]
    rows = [[name, f"{s:.1f}", f"{s / total:.0%}"] for name, s in phases]
    rows.append([f"**first epoch scored** (held-out accuracy {t['accuracy']:.3f})", f"**{total:.1f}**", "100%"])
    m = res["machine"]
    where = f"{m['cpu']} ({res['simd']}), {m['torch_threads']} torch threads"
    if res.get("emulated"):
        where += f", running an {res['emulated']['kind'].upper()}-only CPU's kernels ({res['emulated']['env']})"
    return (
        md_table(["phase", "s", "share"], rows)
        + f"\n\nIMDB reviews ({t['train_rows']}/{t['val_rows']}), bertdemo's defaults, the clock of "
        + f"`bench/train_bench.py`'s recipes; measured by `python bench/first_epoch.py` on {where}."
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=600, help="IMDB reviews (80%% train), as the train bench's recipes")
    ap.add_argument("--emulate-cpu", choices=sorted(EMULATED_ISA), help="this kind of CPU's kernels, on this one")
    args = ap.parse_args()
    env = emulate_cpu(args.emulate_cpu) if args.emulate_cpu else None
    from bertdemo import hardware

    cpu = hardware.cpu_info()  # as bertdemo saw it (emulated: without the stripped flags)
    res: dict[str, Any] = {"machine": machine(), "cpu": cpu.as_dict(), "simd": cpu.simd}
    res["timeline"] = timeline(args.rows)
    if env:
        res["emulated"] = {"kind": args.emulate_cpu, "env": ", ".join(f"{k}={v}" for k, v in env.items())}
    name = f"first_epoch_{args.emulate_cpu}_emulated" if env else "first_epoch"
    table = render(res)
    write(name, res, table)
    print(table)


if __name__ == "__main__":
    main()
