"""The app as its own `python app.py` process on loopback, and clients for it.

Used by bench/load_bench.py and by the tests (tests/conftest.py, tests/test_faults.py); no pytest here.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api_client(url: str):
    """A gradio_client Client for an app on loopback.

    ssl_verify=False: the app speaks plain http on 127.0.0.1 (no TLS to verify), and otherwise gradio_client
    loads the CA bundle for every request: ~0.2 s of CPU per call on a 2-core machine, 20x the call itself.
    """
    from gradio_client import Client

    return Client(url, verbose=False, ssl_verify=False)


def start_app(
    models: Path, port: int, log: Path, env_extra: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.Popen:
    """`python app.py` over `models` on 127.0.0.1:port, in its own session; returns once it answers."""
    import httpx

    env = {
        **os.environ,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "BERTDEMO_MODELS_DIR": str(models),
        **(env_extra or {}),
    }
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "app.py"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.time() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with {proc.returncode}: {log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if time.time() > deadline:
            proc.kill()
            raise RuntimeError(f"app.py did not answer within {timeout:g} s: see {log}")
        time.sleep(0.5)


def stop_app(proc: subprocess.Popen, timeout: float = 30) -> None:
    """End an app started by start_app: SIGTERM, then SIGKILL after `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()


def start_training(client, job_csv: Path, name: str, rows: int, batch: int, epochs: int = 50) -> tuple[str, dict]:
    """A training job through the app's /train, once it has taken two steps: (job id, its status then)."""
    from gradio_client import handle_file

    job = client.predict(
        handle_file(str(job_csv)),
        {"name": name, "epochs": epochs, "batch_size": batch, "max_rows": rows},
        api_name="/train",
    )
    deadline = time.time() + 600
    while (status := client.predict(job["job_id"], api_name="/status"))["step"] < 2:
        if status["state"] != "running" or time.time() > deadline:
            raise SystemExit(f"the background job did not start training: {status}")
        time.sleep(0.5)
    return job["job_id"], status


def write_labeled_csv(path: Path, source: Path, rows: int, seed: int = 1) -> Path:
    """`rows` seeded rows of a labeled CSV, written as text,label: the file a benchmark's training job uploads."""
    import csv

    from bertdemo.data import labeled

    data = labeled.read_labeled_csv(source, max_rows=rows, seed=seed)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        writer.writerows(zip(data.texts, data.labels, strict=True))
    return path
