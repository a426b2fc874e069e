"""A run's folder in words and sizes, and the zip of the model alone (no uploaded data, no audit, no ONNX)."""

from __future__ import annotations

import json
import zipfile

from bertdemo import config, service
from bertdemo.runs import access, bundle, store
from bertdemo.ui.models_views import contents_markdown
from tests.helpers import make_tiny_run


def _full_run(root):
    """A tiny run with what training and export add: the uploaded file, the audit, Trainer args, ONNX files."""
    path = make_tiny_run(root, "full")
    (path / store.UPLOADED_CSV).write_text("text,label\nmy private review,positive\n", encoding="utf-8")
    (path / store.AUDIT_JSON).write_text(json.dumps({"rows": []}), encoding="utf-8")
    (path / "training_args.bin").write_bytes(b"\0" * 100)
    (path / "README.md").write_text("# card\n", encoding="utf-8")
    (path / config.ONNX_SUBDIR).mkdir()
    (path / config.ONNX_SUBDIR / "model.onnx").write_bytes(b"\0" * 5000)
    return path


def test_contents_name_every_part_of_the_whole_zip(models_root):
    listed = bundle.run_contents(_full_run(models_root))
    parts = {what: size for what, size, _ in listed}
    assert [what for what, _, alone in listed if alone] == list(parts)[:3] == list(bundle.MODEL_PARTS)
    assert parts["your uploaded file (uploaded.csv)"] > 0 and parts["ONNX variants (onnx/)"] == 5000
    assert {"the validation rows (validation.csv)", "the Trainer's settings (training_args.bin)"} <= set(parts)
    assert any(what.startswith("the data audit") for what in parts)
    text = contents_markdown(listed)
    assert "your uploaded file (uploaded.csv)" in text and "ONNX variants (onnx/)" in text
    assert "It leaves out" in text and "Export" in text
    assert contents_markdown([]) == ""


def test_the_model_alone_loads_and_carries_no_data(models_root, tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    _full_run(models_root)
    store.update_run("full", {access.OWNER_FIELD: access.owner_key("me")}, models_root)
    zipped = service.zip_model("full", models_root, owner="me")
    with zipfile.ZipFile(zipped) as zf:
        names = {n.split("/", 1)[1] for n in zf.namelist()}
        zf.extractall(tmp_path)
    assert {"config.json", "model.safetensors", "run.json", "README.md", "vocab.txt"} <= names
    assert not names & {store.UPLOADED_CSV, store.AUDIT_JSON, store.VALIDATION_CSV, "training_args.bin"}
    assert not any(n.startswith(config.ONNX_SUBDIR) for n in names)
    model = AutoModelForSequenceClassification.from_pretrained(tmp_path / "full")
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "full")
    assert model(**tokenizer("fine", return_tensors="pt")).logits.shape == (1, 2)
    assert zipped.stat().st_size < store.zip_run("full", tmp_path / "whole", models_root).stat().st_size
