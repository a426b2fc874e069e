"""Core sharing: what a visitor's /predict pays, and what training gains, when a job takes every core while nobody
predicts (bertdemo.training.coreshare) instead of always leaving one to serving.

    python bench/coreshare_bench.py            # 2 rounds of both modes, 60 s windows
    python bench/coreshare_bench.py --quick    # smoke run (numbers are not meaningful)

Each round starts `python app.py` once per mode (BERTDEMO_JOB_ALL_CORES_WHEN_QUIET=0: all cores but one, always;
=1: every core while the app has been quiet for config.JOB_SHARE_QUIET_S), then:
1. quiet: one visitor's bursts of /predict with no job running (the reference p95);
2. a training job through /train (bundled model, sentences, many epochs), and the same visitor's bursts while it
   trains: `burst` calls 0.25 s apart, then a pause longer than the quiet time, so that a sharing job takes every
   core back in each pause and the burst's first call meets it there;
3. the job's samples/s over that window, then the job is stopped.
Writes bench/results/coreshare.json, coreshare.md and the README table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.appprocess import api_client, free_port, start_app, start_training, stop_app, write_labeled_csv  # noqa: E402
from bench.report import SHARED_DATA, machine, md_table, reuse_or_train, write  # noqa: E402
from bertdemo import config, hardware  # noqa: E402
from bertdemo.data import labeled, splits  # noqa: E402

CSV = SHARED_DATA / "sentiment_sentences.csv"
JOB_BATCH = 8
MODES = {"all cores but one": "0", "every core while quiet": "1"}
SPACING_S = 0.25


def visitor(client, run: str, texts: list[str], seconds: float, burst: int, gap_s: float) -> dict[str, Any]:
    """Bursts of /predict for `seconds`: every call's latency (ms), and the bursts' first calls apart."""
    every, first = [], []
    end = time.perf_counter() + seconds
    k = 0
    while time.perf_counter() < end:
        for i in range(burst):
            start = time.perf_counter()
            client.predict(run, texts[k % len(texts)], api_name="/predict")
            ms = (time.perf_counter() - start) * 1e3
            every.append(ms)
            if i == 0:
                first.append(ms)
            k += 1
            time.sleep(SPACING_S)
        time.sleep(gap_s)
    return {"calls": every, "first_calls": first}


def steps(client, job_id: str) -> tuple[int, float, str]:
    status = client.predict(job_id, api_name="/status")
    return status["step"], time.perf_counter(), status["state"]


def one_mode(root: Path, run: str, texts: list[str], job_csv: Path, mode: str, args) -> dict[str, Any]:
    """One app launch in one mode: the quiet visitor, then the visitor beside a training job."""
    port = free_port()
    app = start_app(root, port, root.parent / f"app-{port}.log", {"BERTDEMO_JOB_ALL_CORES_WHEN_QUIET": MODES[mode]})
    try:
        client = api_client(f"http://127.0.0.1:{port}/")
        for text in texts[:5]:  # loads and warms the predictor up
            client.predict(run, text, api_name="/predict")
        quiet = visitor(client, run, texts, args.seconds / 2, args.burst, args.gap)
        job_id, _ = start_training(client, job_csv, f"share-{port}", args.job_rows, JOB_BATCH)
        job = {"job_id": job_id}
        a0, u0, _ = steps(client, job["job_id"])
        time.sleep(args.seconds / 3)  # nobody predicting: a sharing job has every core
        s0, t0, _ = steps(client, job["job_id"])
        busy = visitor(client, run, texts, args.seconds, args.burst, args.gap)
        s1, t1, state = steps(client, job["job_id"])
        client.predict(job["job_id"], api_name="/stop")
        while client.predict(job["job_id"], api_name="/status")["state"] == "running":
            time.sleep(0.5)
    finally:
        stop_app(app)
    return {
        "quiet": quiet,
        "training": busy,
        "job_samples_per_s_alone": round((s0 - a0) * JOB_BATCH / (t0 - u0), 2),
        "job_samples_per_s": round((s1 - s0) * JOB_BATCH / (t1 - t0), 2),
        "job_still_running": state == "running",
    }


def summarize(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """p50/p95 over every round's calls, and the job's median samples/s."""

    def pct(key: str, field: str, q: float) -> float:
        values = np.concatenate([r[key][field] for r in rounds])
        return round(float(np.percentile(values, q)), 1)

    return {
        "quiet_p50": pct("quiet", "calls", 50),
        "quiet_p95": pct("quiet", "calls", 95),
        "training_p50": pct("training", "calls", 50),
        "training_p95": pct("training", "calls", 95),
        "first_call_p95": pct("training", "first_calls", 95),
        "calls": sum(len(r["training"]["calls"]) for r in rounds),
        "job_samples_per_s": statistics.median(r["job_samples_per_s"] for r in rounds),
        "job_samples_per_s_alone": statistics.median(r["job_samples_per_s_alone"] for r in rounds),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2, help="rounds; each runs both modes, their order alternating")
    ap.add_argument("--seconds", type=float, default=60.0, help="the visitor's window beside the job")
    ap.add_argument("--burst", type=int, default=10, help="calls per burst, 0.25 s apart")
    ap.add_argument("--gap", type=float, default=config.JOB_SHARE_QUIET_S + 2, help="pause between bursts, s")
    ap.add_argument("--job-rows", type=int, default=800, help="rows of the background training job")
    ap.add_argument("--quick", action="store_true", help="a smoke run (numbers are not meaningful)")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.burst = 1, 10.0, 3
    root = (Path(tempfile.mkdtemp(prefix="coreshare-bench-")) / "models").resolve()
    root.mkdir(parents=True)
    run = reuse_or_train(
        "share-minilm", root, lambda: splits.split_data(labeled.read_labeled_csv(CSV, max_rows=200, seed=0)), epochs=1
    )
    texts = [t for t in labeled.read_labeled_csv(CSV, max_rows=500, seed=3).texts if t.strip()][:200]
    job_csv = write_labeled_csv(root.parent / "job.csv", CSV, args.job_rows)

    load_before = os.getloadavg()[0]
    measured: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    for r in range(args.rounds):
        order = list(MODES) if r % 2 == 0 else list(reversed(MODES))
        for mode in order:
            print(f"round {r + 1}: {mode} ...", flush=True)
            measured[mode].append(one_mode(root, run, texts, job_csv, mode, args))
    results = {mode: summarize(rounds) for mode, rounds in measured.items()}
    data = {
        "machine": machine(),
        "cpus": hardware.usable_cpus(),
        "quick": args.quick,
        "settings": {k: getattr(args, k) for k in ("rounds", "seconds", "burst", "gap", "job_rows")},
        "quiet_s": config.JOB_SHARE_QUIET_S,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "results": results,
        "rounds": measured,
    }
    base = results["all cores but one"]
    rows = [
        [
            mode,
            f"{r['quiet_p50']:.0f} / {r['quiet_p95']:.0f}",
            f"{r['training_p50']:.0f} / {r['training_p95']:.0f}",
            f"{r['training_p95'] / r['quiet_p95']:.2f}x",
            f"{r['first_call_p95']:.0f}",
            f"{r['job_samples_per_s_alone']:.1f} "
            f"({r['job_samples_per_s_alone'] / base['job_samples_per_s_alone']:.2f}x)",
            f"{r['job_samples_per_s']:.1f} ({r['job_samples_per_s'] / base['job_samples_per_s']:.2f}x)",
        ]
        for mode, r in results.items()
    ]
    table = md_table(
        [
            "training job's threads",
            "visitor p50 / p95 ms, no job",
            "visitor p50 / p95 ms, beside the job",
            "p95 beside / no job",
            "bursts' first call p95 ms",
            "job samples/s, nobody predicting",
            "job samples/s beside the visitor",
        ],
        rows,
    ) + (
        f"\n\nOne visitor calls /predict through gradio_client in bursts of {args.burst} calls {SPACING_S} s apart "
        f"with {args.gap:g} s pauses ({config.JOB_SHARE_QUIET_S:g} s of quiet give a sharing job every core back), "
        f"{args.seconds:g} s beside a training job ({args.job_rows} sentences, batch {JOB_BATCH}, niced), half "
        f"that with no job; the job alone (nobody predicting) for a third of it before the visitor comes; "
        f"{args.rounds} round(s), each mode in its own `python app.py`, their order alternating. "
        f"{data['machine']['cpu']}, {data['cpus']} CPUs, 1-minute load average {load_before:.1f} before and "
        f"{data['load_after']:.1f} after. `python bench/coreshare_bench.py`."
    )
    write("coreshare_quick" if args.quick else "coreshare", data, table)
    print(table)


if __name__ == "__main__":
    main()
