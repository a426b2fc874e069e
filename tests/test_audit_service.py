"""The audit of a saved run through the service, the CLI and /audit: rows, downloads, owner rules, bad input."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bertdemo import service
from bertdemo.data.csvread import read_table
from bertdemo.data.labeled import read_labeled_csv
from bertdemo.data.splits import split_data
from bertdemo.errors import BertDemoError, RunNotFound
from bertdemo.runs import access, store
from bertdemo.training.auditing import audit_split
from tests.conftest import REPO, tiny_rows
from tests.helpers import make_tiny_run, write_csv

BAD = Path(__file__).parent / "data" / "bad"
ENCODINGS = [
    "semicolon.csv",
    "tab.csv",
    "pipe.csv",
    "utf16_bom.csv",
    "cp1252.csv",
    "blank_lines.csv",
    "quoted_newlines.csv",
]


def audited_run(root: Path, name: str, csv_path: Path, owner: str | None = None) -> Path:
    """A saved run as training writes its audit (bag-of-words evidence only: no model needed for the audit)."""
    data = read_labeled_csv(csv_path)
    split = split_data(data, 0.2, seed=0)
    found, ranked = audit_split(split, None, None, seed=0)
    found.update(available=True, data_file=store.UPLOADED_CSV)
    staging = store.staging_dir(root)
    info = {
        "name": name,
        "labels": split.labels,
        "data": {"text_column": data.text_column, "label_column": data.label_column},
        "audit": found,
        **({"owner": access.owner_key(owner)} if owner else {}),
    }
    store.write_json_atomic(staging / store.RUN_JSON, info)
    store.write_json_atomic(staging / store.AUDIT_JSON, {"rows": ranked})
    shutil.copyfile(csv_path, staging / store.UPLOADED_CSV)
    return store.commit_run(staging, name, root)


@pytest.mark.parametrize("name", ENCODINGS)
def test_downloads_keep_every_row_and_fix_only_accepted_labels(models_root: Path, name: str) -> None:
    source = BAD / name
    audited_run(models_root, "r", source)
    report = service.audit("r", 3, models_root)
    assert len(report["rows"]) == 3 and report["total_rows"] == len(read_labeled_csv(source).texts)
    assert "No training dynamics" in " ".join(report["notes"])  # said, not refused
    before = read_table(source)
    data = read_labeled_csv(source)
    ti, li = before.columns.index(data.text_column), before.columns.index(data.label_column)
    for r in report["rows"]:  # each listed row is that row of the file
        assert " ".join(before.rows[r["row"] - 1][ti].split()) == " ".join(r["text"].split())
    accept = [r["row"] for r in report["rows"][:2]]
    fixed = read_table(service.audit_csv("r", accept, models_root))
    assert fixed.columns == before.columns + ["suggested_label", "audit_score", "audit_reason"]
    assert len(fixed.rows) == len(before.rows)
    suggested = {r["row"]: r["suggested_label"] for r in report["rows"]}
    for number, (old, new) in enumerate(zip(before.rows, fixed.rows, strict=True), start=1):
        assert new[ti] == old[ti]
        assert new[li] == (suggested[number] if number in accept else old[li])
    plain = read_table(service.audit_csv("r", None, models_root))
    assert [row[li] for row in plain.rows] == [row[li] for row in before.rows]


def test_owner_rules_deleted_runs_older_runs_and_bad_rows_get_one_line(models_root: Path, tmp_path: Path) -> None:
    csv_path = write_csv(tmp_path / "d.csv", tiny_rows(8))
    audited_run(models_root, "mine", csv_path, owner="secret-a")
    assert service.audit("mine", 1, models_root, owner="secret-a")["rows"]
    messages = []
    for call, error in (
        # Another caller's run is answered exactly as a run that does not exist (no probing of names).
        (lambda: service.audit("mine", 1, models_root, owner="secret-b"), RunNotFound),
        (lambda: service.audit("mine", 1, models_root), RunNotFound),  # no token: not yours either
        (lambda: service.audit_csv("mine", [999], models_root, owner="secret-a"), BertDemoError),
        (lambda: service.audit("mine", -1, models_root, owner="secret-a"), BertDemoError),
        (lambda: service.audit("", 1, models_root), BertDemoError),
    ):
        with pytest.raises(error) as info:
            call()
        messages.append(str(info.value))
    store.delete_run("mine", models_root)
    with pytest.raises(RunNotFound) as info:
        service.audit("mine", 1, models_root, owner="secret-a")
    messages.append(str(info.value))
    make_tiny_run(models_root, "old")  # saved before audits: no dynamics, no file copy
    old = service.audit("old", 0, models_root)
    assert old["available"] is False and len(old["rows"]) == 8
    assert "saved before audits" in old["notes"][0] and {r["split"] for r in old["rows"]} == {"validation"}
    with pytest.raises(BertDemoError) as info:
        service.audit_csv("old", None, models_root)
    messages.append(str(info.value))
    assert "train it again" in messages[-1]
    assert all("\n" not in m and len(m) < 300 for m in messages), messages


def test_cli_audit_json_and_out(models_root: Path, tmp_path: Path) -> None:
    audited_run(models_root, "r", BAD / "semicolon.csv")
    out = tmp_path / "annotated.csv"
    cmd = [sys.executable, "-m", "bertdemo", "--models-dir", str(models_root), "audit", "r", "--top", "2"]
    done = subprocess.run([*cmd, "--out", str(out), "--json"], cwd=REPO, capture_output=True, text=True, check=True)
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(answer["rows"]) == 2
    assert set(answer["rows"][0]) >= {"row", "text", "given_label", "suggested_label", "score", "reason"}
    assert answer["rows"][0]["score"] >= answer["rows"][1]["score"]
    assert {"duplicates", "leakage"} <= set(answer)
    with open(out, newline="", encoding="utf-8") as fh:
        assert list(csv.reader(fh))[0][-3:] == ["suggested_label", "audit_score", "audit_reason"]
    missing = subprocess.run([*cmd[:-3], "nope"], cwd=REPO, capture_output=True, text=True)
    assert missing.returncode == 2 and missing.stderr.startswith("error: No saved run named 'nope'")
    assert len(missing.stderr.strip().splitlines()) == 1


def test_training_records_dynamics_and_keeps_file_rows(models_root: Path, tmp_path: Path, tiny_model_dir) -> None:
    """The real pipeline (tiny model): audit.json ranks every used row by its file row, with 2 epochs of dynamics."""
    from bertdemo.training.pipeline import TrainRequest, train_from_request

    rows = tiny_rows(12)
    rows[5] = (rows[5][0], "positive" if rows[5][1] == "negative" else "negative")  # a wrong label
    csv_path = write_csv(tmp_path / "d.csv", [("", "positive"), *rows])  # data row 1 has no text: dropped
    request = TrainRequest(csv_path=str(csv_path), name="t", model=str(tiny_model_dir), epochs=2, precision="fp32")
    info = train_from_request(request, root=models_root)
    found = info["audit"]
    assert found["available"] and found["mislabeled"]["evidence"][0] == "training dynamics (2 epoch(s))"
    assert 0 < found["mislabeled"]["seconds"] < info["train_seconds"]
    run = Path(info["path"])
    assert (run / store.UPLOADED_CSV).read_bytes() == csv_path.read_bytes()
    ranked = json.loads((run / store.AUDIT_JSON).read_text())["rows"]
    assert sorted(r["row"] for r in ranked) == list(range(2, len(rows) + 2))
    by_row = {r["row"]: r for r in ranked}
    for number, (text, label) in enumerate(rows, start=2):
        assert by_row[number]["text"] == text and by_row[number]["given_label"] == label
    assert all(r["confidence"] is not None for r in ranked)  # training rows: dynamics; validation: the model
    assert "Data audit" in (run / "README.md").read_text()


def test_api_audit_follows_the_owner_rules(app_server, tmp_path: Path) -> None:
    from gradio_client import Client

    audited_run(app_server.root, "api-audit", BAD / "tab.csv", owner="tok-1")
    client = Client(app_server.url, verbose=False)
    answer = client.predict("api-audit", 2, "tok-1", api_name="/audit")
    assert len(answer["rows"]) == 2 and answer["rows"][0]["row"] >= 1
    with pytest.raises(Exception) as info:
        client.predict("api-audit", 2, "tok-2", api_name="/audit")
    assert "No saved run named 'api-audit'" in str(info.value)  # as if it did not exist: nothing to probe


def test_an_epoch_cut_short_by_a_stop_is_not_counted_as_dynamics() -> None:
    """A stop in epoch 2 kept epoch 1: the audit said "training dynamics (2 epoch(s))" beside "Trained 1 epoch"."""
    from types import SimpleNamespace

    import torch

    from bertdemo.training.dynamics import DynamicsCallback, TrainingDynamics

    dynamics = TrainingDynamics(4, 2)
    callback = DynamicsCallback(dynamics)
    for epoch_end in (1.0, 1.5):  # epoch 1 whole; epoch 2 stopped halfway
        dynamics.record(torch.tensor([0, 1]), torch.zeros(2, 2))
        callback.on_epoch_end(None, SimpleNamespace(epoch=epoch_end), None)
    assert dynamics.stacked().shape[0] == 1


def test_a_weak_run_says_its_model_evidence_is_weak_and_flagged_rows_agree_with_the_count(models_root: Path) -> None:
    """Item 9: a model that lost to bag-of-words, or with one epoch of dynamics, is named as weak evidence;
    item 8: the rows marked flagged are exactly the ones the summary counts."""
    path = audited_run(models_root, "weak", write_csv(models_root.parent / "w.csv", tiny_rows(15)))
    info = json.loads((path / store.RUN_JSON).read_text())
    info.update(metrics={"accuracy": 0.48}, baseline={"accuracy": 0.65})
    info["audit"]["mislabeled"]["dynamics_epochs"] = 1
    store.write_json_atomic(path / store.RUN_JSON, info)
    report = service.audit("weak", 0, models_root, trusted=True)
    weak = [n for n in report["notes"] if n.startswith("Weak run")]
    assert weak and "48.0%" in weak[0] and "65.0%" in weak[0] and "1 epoch(s)" in weak[0], report["notes"]
    flagged = [r for r in report["rows"] if r["flagged"]]
    assert len(flagged) == report["summary"]["suspicious"]
    assert all(r["suggested_label"] != r["given_label"] for r in flagged)

    info.update(metrics={"accuracy": 0.9})
    info["audit"]["mislabeled"]["dynamics_epochs"] = 3
    store.write_json_atomic(path / store.RUN_JSON, info)
    assert not [n for n in service.audit("weak", 0, models_root, trusted=True)["notes"] if n.startswith("Weak run")]
