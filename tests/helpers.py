"""Shared test helpers: CSV files and in-memory data, a tiny random BERT classifier saved like a real run."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import pytest

from bertdemo.data.labeled import LabeledData, read_labeled_csv
from bertdemo.errors import DataError
from bertdemo.runs import store
from bertdemo.training import basemodels

TINY_LABELS = ["negative", "positive"]


def make_tiny_model_dir(path: Path, labels: list[str] = TINY_LABELS, seed: int = 0) -> Path:
    """Save a 2-layer, 32-wide random BertForSequenceClassification with the bundled tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(basemodels.bundled_model_path())
    cfg = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={lab: i for i, lab in enumerate(labels)},
    )
    model = BertForSequenceClassification(cfg).eval()
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def write_csv(path: Path, rows: list[tuple[str, str]], header: tuple[str, str] = ("text", "label")) -> Path:
    """Write (text, label) rows as a CSV file."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return Path(path)


def make_tiny_run(root: Path, name: str = "tiny", labels: list[str] = TINY_LABELS) -> Path:
    """A saved run in root/<name> (random tiny model, run.json, validation.csv), as training writes it."""
    staging = store.staging_dir(root)
    make_tiny_model_dir(staging, labels)
    val = [("a wonderful, moving film", labels[-1]), ("dull and far too long", labels[0])] * 4
    write_csv(staging / store.VALIDATION_CSV, val)
    info = {
        "name": name,
        "created": "2026-01-01T00:00:00",
        "base_model": "tiny-random-bert",
        "labels": labels,
        "params": {"max_length": 128, "epochs": 1},
        "data": {"train_rows": 8, "val_rows": len(val)},
        "history": [],
        "metrics": {"accuracy": 0.5, "f1_macro": 0.33},
    }
    (staging / store.RUN_JSON).write_text(json.dumps(info), encoding="utf-8")
    return store.commit_run(staging, name, root)


def wait_done(client, job_id: str, timeout: float = 300) -> dict:
    """Poll the app's /status until the job is no longer running (300 s: the job imports torch first)."""
    deadline = time.time() + timeout
    while True:
        status = client.predict(job_id, api_name="/status")
        if status["state"] != "running":
            return status
        assert time.time() < deadline, f"job still {status['phase']} after {timeout} s"
        time.sleep(0.5)


ROWS = [
    ("Très bon café, service rapide – je reviens!", "positive"),
    ("The “premium” case cracked… €40 wasted.", "negative"),
    ("Solid laptop, fast and quiet.", "positive"),
    ("Late delivery, box crushed.", "negative"),
    ("Great hotel; friendly staff, clean room.", "positive"),
    ("App keeps crashing | useless", "negative"),
]


def csv_text(rows, header=("text", "label"), delimiter=",", newline="\n") -> str:
    """Rows as CSV text, quoted the way csv.writer does."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def write_text(tmp_path: Path, text: str, name: str = "data.csv", encoding: str = "utf-8") -> Path:
    """Write text to tmp_path/name in an encoding; returns the path."""
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def labeled(texts_labels: list[tuple[str, str]]) -> LabeledData:
    """A LabeledData built in memory (for split tests)."""
    texts = [t for t, _ in texts_labels]
    labels = [lab for _, lab in texts_labels]
    return LabeledData(
        texts, labels, "text", "label", ["text", "label"], "x.csv", "utf-8", ",", len(texts), {}, 0, [], [], []
    )


def refused(path: Path, **kwargs) -> str:
    """The one-line DataError message read_labeled_csv gives for a file."""
    with pytest.raises(DataError) as info:
        read_labeled_csv(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message and len(message) < 300
    return message


def unlisted_column_csvs(folder: Path) -> dict[str, tuple[Path, str, str]]:
    """The issue's files whose column names no list knows: {name: (path, text column, label column)}."""
    from tests.conftest import tiny_rows

    rows = tiny_rows(12)
    reviews = folder / "reviews_export.csv"  # id;Review Text;Sentiment;date
    with open(reviews, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(["id", "Review Text", "Sentiment", "date"])
        writer.writerows((1000 + i, t, lab, f"2024-03-{1 + i % 28:02d}") for i, (t, lab) in enumerate(rows))
    spam = folder / "spam.csv"  # msg_id,utterance_en,is_spam
    with open(spam, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["msg_id", "utterance_en", "is_spam"])
        writer.writerows((f"m{i:05d}", t, int(lab == "negative")) for i, (t, lab) in enumerate(rows))
    return {"reviews": (reviews, "Review Text", "Sentiment"), "spam": (spam, "utterance_en", "is_spam")}
