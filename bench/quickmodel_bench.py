"""How soon the quick model is usable: seconds from a job's start (as the app starts it) to its quick run saved.

    python bench/quickmodel_bench.py              # the example data (300 rows), 3 tries
    python bench/quickmodel_bench.py --csv F      # another labeled CSV

Each try starts a training job through the app's JobRunner (a subprocess, as Train does), polls its status until
the quick model is announced, then stops the job (Stop and discard). Writes bench/results/quickmodel.json, .md
and the README section. Target: within 15 s on a 2-core CPU for the example data.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import machine, md_table, write  # noqa: E402
from bertdemo import config  # noqa: E402
from bertdemo.jobs.runner import JobRunner, TrainRequest  # noqa: E402

NAME = "quickmodel"


def one_try(runner: JobRunner, csv: Path, name: str) -> dict:
    started = time.time()
    job = runner.start(TrainRequest(csv_path=str(csv), name=name), owner="bench")
    while True:
        status = runner.status(job)
        quick = status.get("quick") or {}
        if quick.get("run") or quick.get("error") or status["state"] != "running":
            break
        time.sleep(0.1)
    ready = time.time() - started
    runner.stop(job)
    runner.wait(job, timeout=600)
    return {"ready_s": round(ready, 2), "fit_s": quick.get("seconds"), "accuracy": quick.get("accuracy")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", type=Path, default=config.EXAMPLE_CSV)
    ap.add_argument("--tries", type=int, default=3)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-quick-")) / "models"
    root.mkdir()
    runner = JobRunner(root=root)
    load_before = os.getloadavg()[0]
    tries = [one_try(runner, args.csv, f"quick-bench-{i}") for i in range(args.tries)]
    data = {"machine": machine(), "csv": args.csv.name, "tries": tries, "load_before": load_before,
            "load_after": os.getloadavg()[0]}  # fmt: skip
    ready = [t["ready_s"] for t in tries]
    rows = [[args.csv.name, len(tries), statistics.median(ready), max(ready), tries[0]["fit_s"], tries[0]["accuracy"],
             "yes" if max(ready) <= 15 else "no"]]  # fmt: skip
    table = md_table(
        ["data", "tries", "ready after, median s", "worst s", "its own fit, s", "val accuracy", "<= 15 s"], rows
    )
    table += (
        f"\n\nSeconds from the job's start (a subprocess, as the app's Train starts it: Python, torch and the model "
        f"load first) to its quick model saved as a run. {data['machine']['cpu']}, "
        f"{len(os.sched_getaffinity(0))} CPUs, 1-minute load average {load_before:.1f} before and "
        f"{data['load_after']:.1f} after. `python bench/quickmodel_bench.py`."
    )
    write(NAME, data, table)
    print(table)


if __name__ == "__main__":
    main()
