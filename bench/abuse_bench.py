"""Abuse benchmark: four hostile API callers against the app for a few minutes, a well-behaved visitor beside them.

    python bench/abuse_bench.py                 # 120 s of abuse (make bench-abuse)
    python bench/abuse_bench.py --quick         # a smoke run: 30 s (numbers not meaningful)

Starts `python app.py` on a free loopback port (its own temp folder, so its temp bytes are its own) over a models
folder with one shared run, fine-tuned once from the bundled model. First the well-behaved visitor calls /predict
alone (quiet), then, for --seconds, beside four abusers, each loop bounded in time and count:
- downloads: the Models tab's "Download as zip" of the shared run, back to back (a page event, as a browser sends it);
- train-export: /train on the example file then /export with every variant, again and again, with a new owner
  token each time (one caller posing as many visitors);
- huge jobs: /train {"epochs": 100, "batch_size": 1, "max_length": 512}, again and again;
- predict_file: --file-callers threads labeling a 2,000-row file back to back.
The well-behaved visitor predicts back to back and trains one small run (waiting while the slot is busy).
Reports the app's disk (visitors' runs) and temp bytes against their limits, its resident memory over time, the
visitor's /predict p50/p95 against the quiet run, and every error that visitor saw. Writes bench/results/abuse.json,
abuse.md and the README table.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.appprocess import api_client, free_port, start_app, stop_app  # noqa: E402
from bench.report import SHARED_DATA, machine, md_table, reuse_or_train, write  # noqa: E402
from bertdemo import config  # noqa: E402
from bertdemo.data import labeled, splits  # noqa: E402
from bertdemo.runs import quota  # noqa: E402

CSV = SHARED_DATA / "sentiment_sentences.csv"
MAX_CALLS = 10_000  # every loop stops here whatever the clock says
TARGET_P95_RATIO = 3.0
SETTLE_S = 20.0  # sampling goes on this long after the last call
LIMITS = {  # the app's settings for the run (small, so the limits are reached within minutes)
    "BERTDEMO_TEMP_BUDGET_MB": "300",
    "BERTDEMO_VISITORS_MAX_MB": "1500",
    "BERTDEMO_VISITOR_MAX_RUNS": "3",
    "BERTDEMO_JOB_TIME_LIMIT_MIN": "1",
}
MB = 1024 * 1024


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def tree_bytes(path: Path, prefix: str = "") -> int:
    """Bytes under the folders of path whose names start with prefix."""
    return sum(quota.folder_bytes(p) for p in path.glob(f"{prefix}*") if p.is_dir())


def niceness() -> dict[str, str]:
    """The priorities the app gives its training jobs and its heavy threads (from this environment, else the
    defaults): the lever the visitor's p95 depends on."""
    return {
        "BERTDEMO_JOB_NICENESS": os.environ.get("BERTDEMO_JOB_NICENESS", str(config.JOB_NICENESS)),
        "BERTDEMO_HEAVY_NICENESS": os.environ.get("BERTDEMO_HEAVY_NICENESS", str(config.HEAVY_NICENESS)),
    }


class Zipper:
    """The Models tab's "Download as zip" event, sent as a page sends it (queue join, then the event stream)."""

    def __init__(self, url: str):
        import httpx

        self.url, self.http = url, httpx.Client(timeout=120)
        cfg = self.http.get(f"{url}config").json()
        button = next(c["id"] for c in cfg["components"] if c.get("props", {}).get("value") == "Download as zip")
        click = next(d for d in cfg["dependencies"] if [button, "click"] in [list(t) for t in d["targets"]])
        # The click only greys the button out; the zip is made by the event chained after it (.then).
        dep = next(d for d in cfg["dependencies"] if d.get("trigger_after") == click["id"])
        self.index = dep["id"]
        self.inputs = len(dep["inputs"])
        self.session = uuid.uuid4().hex

    def download(self, run: str) -> int:
        """One press, then the file fetched as the browser does: its bytes; raises on an error answer."""
        data = [self.session, run][: self.inputs]  # the event's inputs: the browser's id, the run
        body = {"data": data, "fn_index": self.index, "session_hash": self.session, "event_data": None}
        self.http.post(f"{self.url}gradio_api/queue/join", json=body).raise_for_status()
        with self.http.stream("GET", f"{self.url}gradio_api/queue/data", params={"session_hash": self.session}) as s:
            for line in s.iter_lines():
                message = json.loads(line[5:]) if line.startswith("data:") else {}
                if message.get("msg") == "process_completed":
                    if not message.get("success"):
                        raise RuntimeError(str(message.get("output", {}).get("error")))
                    url = message["output"]["data"][0]["value"]["url"]
                    with self.http.stream("GET", url) as got:
                        got.raise_for_status()
                        return sum(len(chunk) for chunk in got.iter_bytes())
        raise RuntimeError("the event stream ended without an answer")


class Abuse:
    """The abusers' and the visitor's threads, their counts and what they were told."""

    def __init__(self, url: str, run: str, texts: list[str], files: dict[str, Path], deadline: float):
        self.url, self.run, self.texts, self.files, self.deadline = url, run, texts, files, deadline
        self.counts: dict[str, int] = {}
        self.refusals: dict[str, set[str]] = {}
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.visitor_errors: list[str] = []
        self.visitor_train: dict[str, Any] = {}

    def alive(self) -> bool:
        return time.time() < self.deadline

    def count(self, what: str, refused: str | None = None) -> None:
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1
            if refused:
                self.refusals.setdefault(what, set()).add(refused.split(":")[0][:80])

    def wait_job(self, client, job_id: str) -> dict[str, Any]:
        while (status := client.predict(job_id, api_name="/status"))["state"] == "running" and self.alive():
            time.sleep(1)
        if status["state"] == "running":
            client.predict(job_id, api_name="/stop")
        return status

    def loop(self, what: str, once) -> None:
        """once() again and again until the deadline (or MAX_CALLS); a refusal is an answer: counted, then on."""
        for _ in range(MAX_CALLS):
            if not self.alive():
                return
            try:
                once()
            except Exception as exc:  # noqa: BLE001
                self.count(f"{what} refused", str(exc))
                time.sleep(1)

    def downloads(self) -> None:
        zipper = Zipper(self.url)

        def once() -> None:
            zipper.download(self.run)
            self.count("zip downloads")

        self.loop("zip downloads", once)

    def train_export(self) -> None:
        from gradio_client import handle_file

        client = api_client(self.url)

        def once() -> None:
            token = uuid.uuid4().hex  # a new visitor each time: per-visitor quotas do not hold this one back
            settings = {"epochs": 1, "owner_token": token}
            job = client.predict(handle_file(str(config.EXAMPLE_CSV)), settings, api_name="/train")
            status = self.wait_job(client, job["job_id"])
            self.count("train-export: trained" if status["state"] == "done" else "train-export: job ended")
            if status["state"] == "done":
                client.predict(status["name"], True, True, token, api_name="/export")
                self.count("train-export: exported")

        self.loop("train-export", once)

    def huge_jobs(self) -> None:
        from gradio_client import handle_file

        client = api_client(self.url)

        def once() -> None:
            huge = {"epochs": 100, "batch_size": 1, "max_length": 512, "owner_token": uuid.uuid4().hex}
            job = client.predict(handle_file(str(config.EXAMPLE_CSV)), huge, api_name="/train")
            status = self.wait_job(client, job["job_id"])
            self.count(f"huge job {status['state']}", status.get("message") if status["state"] != "done" else None)

        self.loop("huge job", once)

    def predict_files(self) -> None:
        from gradio_client import handle_file

        client = api_client(self.url)

        def once() -> None:
            client.predict(handle_file(str(self.files["label"])), self.run, "", "", "", api_name="/predict_file")
            self.count("predict_file")

        self.loop("predict_file", once)

    def visitor_predicts(self, latencies: list[float], errors: list[str], deadline: float) -> None:
        client = api_client(self.url)
        for k in range(MAX_CALLS):
            if time.time() >= deadline:
                return
            start = time.perf_counter()
            try:
                client.predict(self.run, self.texts[k % len(self.texts)], api_name="/predict")
                latencies.append((time.perf_counter() - start) * 1000)
            except Exception as exc:  # noqa: BLE001 - every error this visitor sees is reported
                errors.append(f"/predict: {str(exc)[:160]}")
            time.sleep(0.2)  # a person, not a loop

    def visitor_trains(self) -> None:
        from gradio_client import handle_file

        client = api_client(self.url)
        waited = 0
        while self.alive():
            try:
                job = client.predict(handle_file(str(self.files["small"])), {"epochs": 1}, api_name="/train")
            except Exception as exc:  # noqa: BLE001
                if "Busy" in str(exc):  # the one slot is taken: a person waits and tries again, as told
                    waited += 1
                    time.sleep(2)
                    continue
                self.visitor_errors.append(f"/train: {str(exc)[:160]}")
                return
            status = self.wait_job(client, job["job_id"])
            self.visitor_train = {"state": status["state"], "busy_answers": waited}
            if status["state"] not in ("done", "running"):
                self.visitor_errors.append(f"/train job: {status.get('message')}")
            return
        self.visitor_train = {"state": "never started (slot busy the whole window)", "busy_answers": waited}


def percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120.0, help="length of the abuse window")
    ap.add_argument("--quiet-seconds", type=float, default=20.0, help="the visitor alone, before the abuse")
    ap.add_argument("--file-callers", type=int, default=2, help="parallel predict_file abusers")
    ap.add_argument("--models-dir", type=Path, default=None, help="saved runs folder (default: a new temporary one)")
    ap.add_argument("--data", type=Path, default=CSV, help="labeled CSV for the served run and the visitor's files")
    ap.add_argument("--quick", action="store_true", help="a smoke run (numbers are not meaningful)")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.quiet_seconds = min(args.seconds, 30.0), min(args.quiet_seconds, 5.0)
    work = Path(tempfile.mkdtemp(prefix="abuse-bench-"))  # removed at the end: its runs and zips are ~0.2-0.6 GB
    root = (args.models_dir or work / "models").resolve()
    root.mkdir(parents=True, exist_ok=True)
    app_tmp = work / "tmp"  # the app's own temp dir: its downloads, job folders and gradio's cache
    app_tmp.mkdir()

    def small_split():
        print(f"fine-tuning abuse-minilm on 200 rows of {args.data.name} (1 epoch) ...", flush=True)
        return splits.split_data(labeled.read_labeled_csv(args.data, max_rows=200, seed=0))

    run = reuse_or_train("abuse-minilm", root, small_split, epochs=1)
    data = labeled.read_labeled_csv(args.data, max_rows=2000, seed=4)
    texts = [t for t in data.texts if t.strip()][:200]
    files = {"label": work / "label.csv", "small": work / "small.csv"}
    for path, n in ((files["label"], 2000), (files["small"], 120)):
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["text", "label"])
            writer.writerows(list(zip(data.texts, data.labels, strict=True))[:n])

    env = {**LIMITS, "TMPDIR": str(app_tmp), "GRADIO_TEMP_DIR": str(app_tmp / "gradio")}
    port = free_port()
    load_before = os.getloadavg()
    app = start_app(root, port, work / "app.log", env)
    url = f"http://127.0.0.1:{port}/"
    samples: list[dict[str, float]] = []
    try:
        client = api_client(url)
        for text in texts[:5]:  # loads and warms the predictor up
            client.predict(run, text, api_name="/predict")
        shared_mb = quota.folder_bytes(root) / MB
        print(f"quiet: the visitor alone for {args.quiet_seconds:g} s ...", flush=True)
        quiet_lat: list[float] = []
        quiet_err: list[str] = []
        Abuse(url, run, texts, files, 0).visitor_predicts(quiet_lat, quiet_err, time.time() + args.quiet_seconds)

        print(f"abuse: 4 abusers and the visitor for {args.seconds:g} s ...", flush=True)
        started = time.time()
        abuse = Abuse(url, run, texts, files, started + args.seconds)
        stop_sampling = threading.Event()

        def sample() -> None:
            while not stop_sampling.is_set():
                samples.append(
                    {
                        "t": round(time.time() - started, 1),
                        "rss_mb": round(rss_mb(app.pid), 1),
                        "temp_mb": round(tree_bytes(app_tmp, "bertdemo-") / MB, 1),
                        "gradio_cache_mb": round(tree_bytes(app_tmp, "gradio") / MB, 1),
                        "visitor_runs_mb": round(quota.folder_bytes(root) / MB - shared_mb, 1),
                    }
                )
                stop_sampling.wait(2.0)

        workers = [
            threading.Thread(target=abuse.downloads),
            threading.Thread(target=abuse.train_export),
            threading.Thread(target=abuse.huge_jobs),
            *(threading.Thread(target=abuse.predict_files) for _ in range(args.file_callers)),
            threading.Thread(
                target=abuse.visitor_predicts, args=(abuse.latencies, abuse.visitor_errors, abuse.deadline)
            ),
            threading.Thread(target=abuse.visitor_trains),
            threading.Thread(target=sample),
        ]
        for worker in workers:
            worker.start()
        for worker in workers[:-1]:
            worker.join(timeout=args.seconds + 600)  # a job in flight at the deadline is stopped, then waited for
        stop_sampling.wait(SETTLE_S)  # memory once the last calls have ended
        stop_sampling.set()
        workers[-1].join()
    finally:
        stop_app(app)

    budget_mb, visitors_mb = float(LIMITS["BERTDEMO_TEMP_BUDGET_MB"]), float(LIMITS["BERTDEMO_VISITORS_MAX_MB"])
    rss = [s["rss_mb"] for s in samples]
    third = max(1, len(rss) // 3)
    # Flat: once the last calls have ended, memory is back within 25% of what the first third of the window peaked
    # at (an export peaks ~600 MB above it while it runs, one at a time).
    flat = bool(rss) and rss[-1] <= 1.25 * max(rss[:third])
    quiet_p95, abuse_p95 = percentile(quiet_lat, 95), percentile(abuse.latencies, 95)
    ratio = abuse_p95 / quiet_p95 if quiet_p95 and abuse_p95 else None
    errors = quiet_err + abuse.visitor_errors
    max_temp = max((s["temp_mb"] for s in samples), default=0.0)
    max_runs = max((s["visitor_runs_mb"] for s in samples), default=0.0)
    # A download may be built past the budget before it is checked (at most one zip, ~100 MB): allowed for here.
    checks = {
        "temp within budget": max_temp <= budget_mb + 100,
        "visitors' runs within their limit": max_runs <= visitors_mb + 300,  # one run in flight when checked
        "memory flat": flat,
        "visitor saw no error": not errors,
        f"visitor p95 within {TARGET_P95_RATIO:g}x of quiet": ratio is not None and ratio <= TARGET_P95_RATIO,
    }
    out = {
        "machine": machine(),
        "quick": args.quick,
        "seconds": args.seconds,
        "limits": LIMITS,
        "niceness": niceness(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "quiet": {"calls": len(quiet_lat), "p50_ms": percentile(quiet_lat, 50), "p95_ms": quiet_p95},
        "abuse": {"calls": len(abuse.latencies), "p50_ms": percentile(abuse.latencies, 50), "p95_ms": abuse_p95},
        "p95_ratio": round(ratio, 2) if ratio else None,
        "visitor_errors": errors,
        "visitor_train": abuse.visitor_train,
        "abusers": abuse.counts,
        "abusers_were_told": {k: sorted(v) for k, v in abuse.refusals.items()},
        "samples": samples,
        "checks": checks,
    }
    rows = [
        ["temp bytes (downloads, job folders), max", f"{max_temp:,.0f} MB", f"budget {budget_mb:,.0f} MB"],
        [
            "gradio's upload/download cache, max",
            f"{max((s['gradio_cache_mb'] for s in samples), default=0):,.0f} MB",
            "removed after a day",
        ],
        ["visitors' runs on disk, max", f"{max_runs:,.0f} MB", f"limit {visitors_mb:,.0f} MB"],
        [
            "app resident memory: start / max / end",
            " / ".join(f"{v:,.0f}" for v in (rss[0], max(rss), rss[-1])) + " MB" if rss else "-",
            "flat: the end within 25% of the first third's peak",
        ],
        ["visitor /predict p50 / p95, quiet", f"{out['quiet']['p50_ms']} / {quiet_p95} ms", ""],
        [
            "visitor /predict p50 / p95, under abuse",
            f"{out['abuse']['p50_ms']} / {abuse_p95} ms",
            f"p95 within {TARGET_P95_RATIO:g}x of quiet: {out['p95_ratio']}x",
        ],
        ["errors the visitor saw", str(len(errors)) + (f" ({'; '.join(errors[:3])})" if errors else ""), "0"],
        [
            "the visitor's training",
            f"{abuse.visitor_train.get('state')} after {abuse.visitor_train.get('busy_answers', 0)} busy answer(s)",
            "",
        ],
    ]
    table = md_table(["measure", "value", "target"], rows)
    done = ", ".join(f"{k}: {v}" for k, v in sorted(abuse.counts.items()))
    verdicts = ", ".join(f"{k}: {'met' if v else 'NOT met'}" for k, v in checks.items())
    table += (
        f"\n\nChecks: {verdicts}. "
        f"What the abusers got done in {args.seconds:g} s: {done}.\n\nMeasured by "
        f"`python bench/abuse_bench.py{' --quick' if args.quick else ''}`: `python app.py` on loopback with "
        f"{', '.join(f'{k}={v}' for k, v in {**LIMITS, **niceness()}.items())}; abusers: zip downloads back to back, "
        "train + export "
        f"loops with a new owner token each time, /train {{epochs 100, batch_size 1, max_length 512}} loops, "
        f"{args.file_callers} /predict_file loops on 2,000 rows; the visitor calls /predict every 0.2 s and trains "
        "once. "
        f"{out['machine']['cpu']}, {len(os.sched_getaffinity(0))} CPUs, 1-minute load average "
        f"{out['loadavg_before'][0]:.1f} before and {out['loadavg_after'][0]:.1f} after (above ~2, other processes "
        "were sharing the cores)."
    )
    write("abuse", out, table)
    print(table)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
