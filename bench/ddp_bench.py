"""Several processes vs several threads on one machine: `torchrun` (DDP over gloo) against one process.

    python bench/ddp_bench.py            # 2 processes x 1 thread vs 1 process x 2 threads (this machine's 2 cores)
    python bench/ddp_bench.py --quick    # a smoke run on few rows

Both train the same rows with the same effective batch through the CLI, as a user would run it; the
figure compared is the ratio of their samples/s, measured one after the other in the same run.
Writes bench/results/ddp.json, bench/results/ddp.md and the README table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import SHARED_DATA, machine, md_table, write  # noqa: E402

BIN = Path(sys.executable).parent


def train(launcher: list[str], csv: Path, root: Path, name: str, batch: int, threads: int, epochs: int) -> dict:
    """One CLI training; returns its JSON plus the wall time of the whole command."""
    cmd = [*launcher, "-m", "bertdemo", "--models-dir", str(root), "train", str(csv), "--name", name, "--json"]
    cmd += ["--epochs", str(epochs), "--batch-size", str(batch), "--max-length", "128", "--seed", "0"]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "TRANSFORMERS_VERBOSITY": "error"}
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    info = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "command": " ".join(cmd).replace(str(BIN) + "/", ""),
        "wall_seconds": round(wall, 1),
        "train_seconds": info["train_seconds"],
        "samples_per_second": info["samples_per_second"],
        "accuracy": info["metrics"]["accuracy"],
        "distributed": info.get("distributed"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rows", type=int, default=800, help="rows of sentiment_sentences (80/20 split)")
    args = ap.parse_args()
    import pandas as pd

    rows = 80 if args.quick else args.rows
    tmp = Path(tempfile.mkdtemp(prefix="bench-ddp-"))
    csv = tmp / "sentences.csv"
    pd.read_csv(SHARED_DATA / "sentiment_sentences.csv").sample(rows, random_state=0)[["text", "label"]].to_csv(
        csv, index=False
    )
    epochs = 1 if args.quick else 2
    one = train([sys.executable], csv, tmp, "one-process", batch=16, threads=2, epochs=epochs)
    two = train([str(BIN / "torchrun"), "--nproc_per_node", "2"], csv, tmp, "ddp", batch=8, threads=1, epochs=epochs)
    results = {"machine": machine(), "rows": rows, "epochs": epochs, "one_process": one, "torchrun": two}
    ratio = two["samples_per_second"] / one["samples_per_second"]
    results["ddp_over_threads"] = ratio
    table = md_table(
        ["how", "effective batch", "training samples/s", "whole command s", "accuracy"],
        [
            [
                "1 process x 2 threads (`python -m bertdemo train`)",
                16,
                one["samples_per_second"],
                one["wall_seconds"],
                one["accuracy"],
            ],
            [
                "2 processes x 1 thread (`torchrun --nproc_per_node 2`)",
                "2 x 8",
                two["samples_per_second"],
                two["wall_seconds"],
                two["accuracy"],
            ],
        ],
    )
    table += (
        f"\n\nDDP / threads: **{ratio:.2f}x** samples/s; {rows} rows of sentiment_sentences, {epochs} epochs, "
        f"128 tokens. Measured by `python bench/ddp_bench.py` on {results['machine']['cpu']}."
    )
    write("ddp_quick" if args.quick else "ddp", results, table)
    print(table)


if __name__ == "__main__":
    main()
