"""Load benchmark: concurrent API users calling /predict, with the app idle and while a training job runs.

    python bench/load_bench.py                             # fine-tunes a small run from the bundled model first
    python bench/load_bench.py --run NAME --models-dir DIR  # serves an existing run
    python bench/load_bench.py --quick                     # smoke run: 4 users, 5 s windows (numbers not meaningful)

Starts `python app.py` as a subprocess on a free loopback port over the models folder, then:
1. idle: --users gradio_client users call /predict in a loop for --seconds (each its own Client and thread);
2. training alone: a job started through /train (bundled model, a few hundred rows, many epochs) runs
   with nobody predicting, to measure its speed;
3. training: the same users again for --seconds while that job trains; then the job is stopped.
Reports requests/s, p50/p95/max latency and errors per phase, p95(training)/p95(idle), and the job's
samples/s alone and under load. Writes bench/results/load.json, load.md and the README table.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.appprocess import api_client, free_port, start_app, start_training, stop_app, write_labeled_csv  # noqa: E402
from bench.report import SHARED_DATA, machine, md_table, reuse_or_train, write  # noqa: E402
from bertdemo import config, hardware  # noqa: E402
from bertdemo.data import labeled, splits
from bertdemo.runs import store

REPO = Path(__file__).resolve().parents[1]
CSV = SHARED_DATA / "sentiment_sentences.csv"
TARGET_P95_RATIO = 5.0  # p95 while training below 5x idle p95
JOB_BATCH = 8
MAX_CALLS_PER_USER = 100_000  # a bound on every loop, whatever the clock says


def ensure_run(name: str | None, root: Path, rows: int) -> str:
    """The run to serve: the one named, else a 1-epoch fine-tune of the bundled model (trained once, then reused)."""
    if name:
        store.run_dir(name, root)
        return name

    def small_split():
        print(f"fine-tuning load-minilm on {rows} rows of {CSV.name} (1 epoch) ...", flush=True)
        return splits.split_data(labeled.read_labeled_csv(CSV, max_rows=rows, seed=0))

    return reuse_or_train("load-minilm", root, small_split, epochs=1)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_users(url: str, run: str, texts: list[str], users: int, seconds: float, app_pid: int) -> dict[str, Any]:
    """users threads, each with its own Client, calling /predict back to back for `seconds`.

    Also reports how many cores the app and these clients kept busy: on a small machine the clients'
    own share is part of the picture.
    """
    clients = [api_client(url) for _ in range(users)]
    latencies: list[list[float]] = [[] for _ in range(users)]
    errors: list[str] = []
    barrier = threading.Barrier(users + 1)
    deadline = [0.0]

    def user(i: int) -> None:
        barrier.wait()
        for k in range(MAX_CALLS_PER_USER):
            if time.perf_counter() >= deadline[0]:
                return
            text = texts[(i * 7 + k) % len(texts)]
            start = time.perf_counter()
            try:
                clients[i].predict(run, text, api_name="/predict")
                latencies[i].append(time.perf_counter() - start)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors.append(f"{type(exc).__name__}: {exc}"[:200])

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for t in threads:
        t.start()
    cpu0 = cpu_seconds(app_pid), cpu_seconds(os.getpid())
    started = time.perf_counter()
    deadline[0] = started + seconds
    barrier.wait()
    for t in threads:
        t.join(seconds + 300)
    elapsed = time.perf_counter() - started
    cpu1 = cpu_seconds(app_pid), cpu_seconds(os.getpid())
    lat = np.asarray([x for per_user in latencies for x in per_user]) * 1e3
    return {
        "users": users,
        "seconds": round(elapsed, 2),
        "requests": int(lat.size),
        "rps": round(lat.size / elapsed, 2),
        "p50_ms": round(float(np.percentile(lat, 50)), 1) if lat.size else None,
        "p95_ms": round(float(np.percentile(lat, 95)), 1) if lat.size else None,
        "max_ms": round(float(lat.max()), 1) if lat.size else None,
        "errors": len(errors),
        "error_examples": sorted(set(errors))[:5],
        "app_cores": round((cpu1[0] - cpu0[0]) / elapsed, 2),
        "client_cores": round((cpu1[1] - cpu0[1]) / elapsed, 2),
    }


def job_steps(client, job_id: str) -> tuple[int, float, str]:
    status = client.predict(job_id, api_name="/status")
    return status["step"], time.perf_counter(), status["state"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", help="saved run to serve (default: fine-tune load-minilm if it does not exist)")
    ap.add_argument("--models-dir", type=Path, default=None, help="saved runs folder (default: a new temporary one)")
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=30.0, help="length of each measured window")
    ap.add_argument("--serve-rows", type=int, default=200, help="rows of the served run's fine-tune")
    ap.add_argument("--job-rows", type=int, default=400, help="rows of the background training job")
    ap.add_argument("--quick", action="store_true", help="a smoke run (numbers are not meaningful)")
    ap.add_argument(
        "--app-threads",
        type=int,
        default=None,
        help="the app's PyTorch threads (BERTDEMO_SERVE_THREADS; default: CPUs / queue concurrency)",
    )
    ap.add_argument(
        "--job-threads",
        type=int,
        default=None,
        help="the training job's PyTorch threads (BERTDEMO_JOB_THREADS; default: all CPUs but one)",
    )
    ap.add_argument("--tag", default="", help="write results as load<tag> (for side-by-side experiments)")
    args = ap.parse_args()
    if args.quick:
        args.users, args.seconds = min(args.users, 4), min(args.seconds, 5.0)
    root = (args.models_dir or Path(tempfile.mkdtemp(prefix="bertdemo-load-")) / "models").resolve()
    root.mkdir(parents=True, exist_ok=True)
    run = ensure_run(args.run, root, args.serve_rows)

    texts = [t for t in labeled.read_labeled_csv(CSV, max_rows=500, seed=3).texts if t.strip()][:200]
    job_csv = write_labeled_csv(root.parent / "load-job.csv", CSV, args.job_rows)

    env_extra = {}
    if args.app_threads is not None:
        env_extra["BERTDEMO_SERVE_THREADS"] = str(args.app_threads)
    if args.job_threads is not None:
        env_extra["BERTDEMO_JOB_THREADS"] = str(args.job_threads)
    app_threads = args.app_threads or hardware.torch_serve_threads()
    port = free_port()
    log = root.parent / "load-app.log"
    load_before = os.getloadavg()
    app = start_app(root, port, log, env_extra)
    url = f"http://127.0.0.1:{port}/"
    results: dict[str, Any] = {}
    try:
        client = api_client(url)
        for text in texts[:5]:  # loads and warms the predictor up
            client.predict(run, text, api_name="/predict")

        print(f"idle: {args.users} users x {args.seconds:g} s of /predict ...", flush=True)
        results["idle"] = run_users(url, run, texts, args.users, args.seconds, app.pid)

        name = f"load-job-{time.strftime('%H%M%S')}"
        job_id, status = start_training(client, job_csv, name, args.job_rows, JOB_BATCH)
        job = {"job_id": job_id}
        threads = (status.get("device") or {}).get("threads")
        alone_s = max(5.0, args.seconds / 2)
        print(f"training alone for {alone_s:g} s ...", flush=True)
        s0, t0, _ = job_steps(client, job["job_id"])
        time.sleep(alone_s)
        s1, t1, _ = job_steps(client, job["job_id"])
        print(f"training: {args.users} users x {args.seconds:g} s of /predict while the job trains ...", flush=True)
        results["training"] = run_users(url, run, texts, args.users, args.seconds, app.pid)
        s2, t2, state = job_steps(client, job["job_id"])
        client.predict(job["job_id"], api_name="/stop")
        while client.predict(job["job_id"], api_name="/status")["state"] == "running":
            time.sleep(0.5)
        results["job"] = {
            "threads": threads,
            "samples_per_s_alone": round((s1 - s0) * JOB_BATCH / (t1 - t0), 2),
            "samples_per_s_under_load": round((s2 - s1) * JOB_BATCH / (t2 - t1), 2),
            "still_running_after_window": state == "running",
        }
    finally:
        stop_app(app)

    idle, busy, job_info = results["idle"], results["training"], results["job"]
    ratio = busy["p95_ms"] / idle["p95_ms"] if idle["p95_ms"] and busy["p95_ms"] else None
    met = ratio is not None and ratio < TARGET_P95_RATIO and idle["errors"] == busy["errors"] == 0
    out = {
        "machine": machine(),
        "quick": args.quick,
        "run": run,
        "base_model": store.load_run(run, root).get("base_model"),
        "users": args.users,
        "seconds": args.seconds,
        "queue_concurrency": config.QUEUE_CONCURRENCY,
        "app_threads": app_threads,
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        **results,
        "p95_ratio": round(ratio, 2) if ratio else None,
        "target": {"p95_ratio_below": TARGET_P95_RATIO, "errors": 0, "met": met},
    }
    rows = [
        [
            phase,
            r["users"],
            r["requests"],
            r["rps"],
            r["p50_ms"],
            r["p95_ms"],
            r["max_ms"],
            r["errors"],
            f"{r['app_cores']:.2f} / {r['client_cores']:.2f}",
        ]
        for phase, r in (("idle", idle), ("while training", busy))
    ]
    table = md_table(
        ["phase", "users", "requests", "req/s", "p50 ms", "p95 ms", "max ms", "errors", "cores app / clients"], rows
    )
    table += (
        f"\n\np95 while training / p95 idle: {ratio:.2f}x (target below {TARGET_P95_RATIO:g}x with zero errors: "
        f"{'met' if met else 'NOT met'}). The training job ({job_info['threads']} PyTorch thread(s)) made "
        f"{job_info['samples_per_s_alone']:.1f} samples/s alone and {job_info['samples_per_s_under_load']:.1f} "
        f"while serving.\n\nMeasured by `python bench/load_bench.py{' --quick' if args.quick else ''}`: "
        f"`python app.py` ({app_threads} PyTorch thread(s)) on loopback serving run `{run}` "
        f"({out['base_model']}, PyTorch back-end) to "
        f"{args.users} gradio_client users (one thread and Client each, calls back to back, "
        f"{args.seconds:g} s per window, queue concurrency {config.QUEUE_CONCURRENCY}); the training job is the "
        f"bundled model on {args.job_rows} rows, batch {JOB_BATCH}. {out['machine']['cpu']}, "
        f"{len(os.sched_getaffinity(0))} CPUs, 1-minute load average {out['loadavg_before'][0]:.1f} before and "
        f"{out['loadavg_after'][0]:.1f} after (above ~2, other processes were sharing the cores)."
    )
    write(f"load{args.tag}" if not args.quick else f"load_quick{args.tag}", out, table)
    print(table)
    if idle["error_examples"] or busy["error_examples"]:
        print("errors:", *(idle["error_examples"] + busy["error_examples"]), sep="\n  ")


if __name__ == "__main__":
    main()
