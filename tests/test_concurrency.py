"""Many users at once, through gradio_client against the real app: one training at a time, private uploads,
predictions while a job trains, and a run deleted under running requests."""

from __future__ import annotations

import csv
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from bertdemo.runs import access, store
from tests.conftest import api_client, tiny_rows
from tests.helpers import make_tiny_run, wait_done, write_csv

pytestmark = pytest.mark.filterwarnings("ignore:'HTTP_422_UNPROCESSABLE_ENTITY' is deprecated")

JOB_TIMEOUT_S = 300
REVIEW_LABELS = {"negative", "positive"}
SPAM_LABELS = {"ham", "spam"}


def spam_rows(n_per_class: int = 30) -> list[tuple[str, str]]:
    """A second data set with other labels: a run trained on it can never be confused with a reviews run."""
    rows = []
    for i in range(n_per_class):
        rows.append((f"WIN a free cruise now, reply YES to claim prize {i}", "spam"))
        rows.append((f"Are we still meeting for lunch on day {i}?", "ham"))
    return rows


@pytest.fixture(scope="module")
def same_name_files(tmp_path_factory) -> dict[str, Path]:
    """Two different files that are both called data.csv, as two users' uploads would be."""
    base = tmp_path_factory.mktemp("uploads")
    (base / "alice").mkdir()
    (base / "bob").mkdir()
    return {
        "alice": write_csv(base / "alice" / "data.csv", tiny_rows()),
        "bob": write_csv(base / "bob" / "data.csv", spam_rows()),
    }


LABELS = {"alice": REVIEW_LABELS, "bob": SPAM_LABELS}


def run_threads(targets: list, timeout: float = 600) -> None:
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a client thread hung"


def validation_texts(root: Path, name: str) -> set[str]:
    with open(root / name / store.VALIDATION_CSV, newline="", encoding="utf-8") as fh:
        return {row["text"] for row in csv.DictReader(fh)}


def file_texts(path: Path) -> set[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {row["text"] for row in csv.DictReader(fh)}


def test_two_clients_press_train_at_once(app_server, same_name_files) -> None:
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def press(user: str) -> None:
        client = api_client(app_server.url)
        upload = handle_file(str(same_name_files[user]))
        settings = {"model": str(app_server.tiny), "epochs": 1, "name": f"race-{user}"}
        barrier.wait(timeout=120)
        try:
            results[user] = client.predict(upload, settings, api_name="/train")
        except AppError as exc:
            results[user] = exc

    run_threads([lambda u=u: press(u) for u in same_name_files])
    winners = [u for u, r in results.items() if isinstance(r, dict)]
    losers = [u for u, r in results.items() if isinstance(r, AppError)]
    assert len(winners) == 1 and len(losers) == 1, results
    winner, loser = winners[0], losers[0]
    busy = str(results[loser])
    assert busy.startswith("Busy:") and f"race-{winner}" in busy and "\n" not in busy

    # The job trains on its own copy: even the server-side upload being overwritten (a same-name upload
    # landing on it) cannot change what it trains on.
    job_id = results[winner]["job_id"]
    upload_path = Path(app_server.runner._jobs[job_id].request.csv_path)
    original = upload_path.read_bytes()
    upload_path.write_bytes(same_name_files[loser].read_bytes())
    client = api_client(app_server.url)
    try:
        assert wait_done(client, job_id)["state"] == "done"
    finally:
        upload_path.write_bytes(original)  # gradio reuses a cached upload of the same content
    root = app_server.root
    info = store.load_run(f"race-{winner}", root)
    assert set(info["labels"]) == LABELS[winner], info["labels"]
    assert info["data"]["rows"] == len(file_texts(same_name_files[winner]))
    assert validation_texts(root, f"race-{winner}") <= file_texts(same_name_files[winner])
    assert not (root / f"race-{loser}").exists()
    assert not [p for p in root.iterdir() if p.name.startswith(".")], "no staging left behind"
    store.delete_run(f"race-{winner}", root)


def test_same_name_uploads_do_not_overwrite_each_other(app_server, same_name_files) -> None:
    barrier = threading.Barrier(2)
    seen: dict[str, list] = {user: [] for user in same_name_files}

    def inspect_many(user: str) -> None:
        client = api_client(app_server.url)
        barrier.wait(timeout=120)
        for _ in range(5):
            report = client.predict(handle_file(str(same_name_files[user])), "", "", api_name="/inspect")
            seen[user].append(set(report["class_counts"]))

    run_threads([lambda u=u: inspect_many(u) for u in same_name_files])
    for user, label_sets in seen.items():
        assert label_sets == [LABELS[user]] * 5, (user, label_sets)


@pytest.mark.slow
def test_predictions_keep_answering_while_a_job_trains(app_server) -> None:
    root = app_server.root
    make_tiny_run(root, "served")
    client = api_client(app_server.url)
    job = client.predict(
        handle_file(str(app_server.small_csv)),
        {"model": str(app_server.tiny), "epochs": 100, "batch_size": 1, "name": "long-job"},
        api_name="/train",
    )
    try:
        deadline = time.time() + JOB_TIMEOUT_S
        while client.predict(job["job_id"], api_name="/status")["phase"] != "training":
            assert time.time() < deadline, "the job never started training"
            time.sleep(0.5)
        answers: list[str] = []
        errors: list[str] = []

        def user(i: int) -> None:
            c = api_client(app_server.url)
            for k in range(5):
                try:
                    answers.append(
                        c.predict("served", f"user {i} says the film was great ({k})", api_name="/predict")["label"]
                    )
                except Exception as exc:  # noqa: BLE001 - every failure is a finding here
                    errors.append(f"{type(exc).__name__}: {exc}")

        run_threads([lambda i=i: user(i) for i in range(6)])
        assert errors == []
        assert len(answers) == 30 and set(answers) <= REVIEW_LABELS
        status = client.predict(job["job_id"], api_name="/status")
        assert status["state"] == "running", "the predictions must overlap the training"
    finally:
        client.predict(job["job_id"], api_name="/stop")
        assert wait_done(client, job["job_id"], timeout=120)["state"] == "stopped"
    assert not (root / "long-job").exists()
    store.delete_run("served", root)


def test_delete_while_predicting_and_comparing(app_server) -> None:
    root = app_server.root
    make_tiny_run(root, "victim")
    store.update_run("victim", {"owner": access.owner_key("victim-owner")}, root)  # as if trained through /train
    stop = threading.Event()
    lock = threading.Lock()
    counts: Counter[str] = Counter()
    unexpected: list[str] = []
    deleted: list[dict] = []
    gone = "No saved run named 'victim'"

    def count(key: str) -> None:
        with lock:
            counts[key] += 1

    def hammer(api_name: str, args: tuple) -> None:
        c = api_client(app_server.url)
        for _ in range(200):  # bounded, whatever happens
            if stop.is_set():
                return
            try:
                c.predict(*args, api_name=api_name)
                count(f"{api_name} ok")
            except AppError as exc:
                if gone in str(exc):
                    count(f"{api_name} gone")
                else:
                    unexpected.append(str(exc))

    def deleter() -> None:
        try:
            c = api_client(app_server.url)
            deadline = time.time() + 120
            while (counts["/predict ok"] < 3 or counts["/compare ok"] < 1) and time.time() < deadline:
                time.sleep(0.1)
            deleted.append(c.predict("victim", "victim-owner", api_name="/delete"))
            deadline = time.time() + 120
            while (counts["/predict gone"] < 3 or counts["/compare gone"] < 1) and time.time() < deadline:
                time.sleep(0.1)
        finally:
            stop.set()

    texts = ["a wonderful film", "dull and far too long"]
    run_threads(
        [
            lambda: hammer("/predict", ("victim", "what a film", "pytorch", "victim-owner")),
            lambda: hammer("/predict", ("victim", "dull", "pytorch", "victim-owner")),
            lambda: hammer("/compare", ("victim", texts, "victim-owner")),
            deleter,
        ]
    )
    assert deleted == [{"deleted": "victim"}]
    assert counts["/predict ok"] >= 3 and counts["/compare ok"] >= 1, counts
    assert counts["/predict gone"] >= 1 and counts["/compare gone"] >= 1, counts
    # A request caught in the middle of the delete may fail another way, but with a clear one-line
    # message, never with the generic "the app raised an exception" of an unhandled error.
    assert not [m for m in unexpected if "upstream Gradio app" in m or "\n" in m], unexpected
    client = api_client(app_server.url)
    for api_name, args in (
        ("/predict", ("victim", "hello", "pytorch", "victim-owner")),
        ("/compare", ("victim", texts, "victim-owner")),
        ("/delete", ("victim", "victim-owner")),
    ):
        with pytest.raises(AppError, match=gone):
            client.predict(*args, api_name=api_name)
    assert "victim" not in {r["name"] for r in client.predict(api_name="/models")}
