"""ONNX export: every variant written atomically, checked against PyTorch, recorded in run.json."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bertdemo import config
from bertdemo.errors import BertDemoError, ExportError, RunNotFound
from bertdemo.inference import predictors
from bertdemo.onnx.export import export_run
from bertdemo.runs import store
from tests.helpers import make_tiny_run


def leftovers(root: Path) -> list[str]:
    """Staging or moved-aside folders still in the models folder."""
    return [p.name for p in Path(root).iterdir() if p.name.startswith(config.TMP_PREFIX)]


def onnx_files(run: Path) -> list[str]:
    return sorted(p.name for p in (run / config.ONNX_SUBDIR).glob("*.onnx"))


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, dict, list[tuple[float, str]]]:
    """The tiny run exported in every variant: (root, returned report, progress calls)."""
    root = tmp_path_factory.mktemp("models")
    make_tiny_run(root, "tiny")
    calls: list[tuple[float, str]] = []
    report = export_run("tiny", optimize=True, quantize=True, root=root, progress=lambda f, m: calls.append((f, m)))
    return root, report, calls


def test_all_variants_are_written(exported):
    root, _, _ = exported
    run = store.run_dir("tiny", root)
    assert onnx_files(run) == sorted(config.ONNX_FILES.values())
    # The onnx/ folder stands alone: config and tokenizer travel with the graphs.
    assert (run / config.ONNX_SUBDIR / "config.json").is_file()
    assert (run / config.ONNX_SUBDIR / "tokenizer.json").is_file()
    assert not list((run / config.ONNX_SUBDIR).glob(".*")), "scratch folders of the optimizer/quantizer remain"
    assert leftovers(root) == []


def test_download_one_variant_alone(exported):
    """The int8 model can be downloaded without the fp32 ones: its .onnx plus what loading it needs."""
    import zipfile

    from bertdemo import service

    root, _, _ = exported
    with zipfile.ZipFile(service.zip_onnx("tiny", root, variant="onnx-int8")) as zf:
        names = {Path(n).name for n in zf.namelist()}
    assert config.ONNX_FILES["onnx-int8"] in names and {"config.json", "tokenizer.json"} <= names
    assert not names & {config.ONNX_FILES["onnx"], config.ONNX_FILES["onnx-optimized"]}
    with zipfile.ZipFile(service.zip_onnx("tiny", root)) as zf:  # the default: every variant
        assert set(config.ONNX_FILES.values()) <= {Path(n).name for n in zf.namelist()}
    with pytest.raises(BertDemoError, match="Unknown variant"):
        service.zip_onnx("tiny", root, variant="fp8")


def test_report_is_recorded_in_run_json(exported):
    root, report, _ = exported
    assert store.load_run("tiny", root)["exports"] == json.loads(json.dumps(report))
    assert set(report["variants"]) == {"onnx", "onnx-optimized", "onnx-int8"}
    assert report["int8_preset"] in {"avx512_vnni", "avx2"}
    assert report["optimization"] == config.ONNX_OPT_LEVEL_CPU
    assert report["check_source"] == store.VALIDATION_CSV and report["checked_texts"] == 8
    fp32 = report["variants"]["onnx"]
    assert fp32["passed"] is True and fp32["max_abs_diff"] <= config.ONNX_ATOL and fp32["agreement"] == 1.0
    assert fp32["file"] == "onnx/model.onnx"
    for v in report["variants"].values():
        assert v["size_mb"] > 0 and math.isfinite(v["max_abs_diff"])
        assert 0 <= v["accuracy"] <= 1 and 0 <= v["f1_macro"] <= 1 and 0 <= v["agreement"] <= 1
        assert (store.run_dir("tiny", root) / v["file"]).is_file()
    assert report["variants"]["onnx-int8"]["size_mb"] < report["variants"]["onnx"]["size_mb"] / 2
    assert report["pytorch"]["size_mb"] > 0 and "accuracy" in report["pytorch"]
    assert store.list_runs(root)[0]["exports"] == ["onnx", "onnx-int8", "onnx-optimized"]


def test_progress_goes_forward_to_one(exported):
    _, _, calls = exported
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(isinstance(m, str) and m for _, m in calls)


def test_reexport_replaces_the_old_export(tmp_path):
    make_tiny_run(tmp_path, "re")
    export_run("re", optimize=True, quantize=True, root=tmp_path)
    old = predictors.load_predictor("re", "onnx-int8", tmp_path)
    report = export_run("re", root=tmp_path)
    run = store.run_dir("re", tmp_path)
    assert onnx_files(run) == ["model.onnx"]
    assert set(report["variants"]) == {"onnx"} and report["int8_preset"] is None
    assert set(store.load_run("re", tmp_path)["exports"]["variants"]) == {"onnx"}
    assert leftovers(tmp_path) == []
    with pytest.raises(ExportError):  # the cached int8 session is not served after the files are gone
        predictors.load_predictor("re", "onnx-int8", tmp_path)
    assert old.predict(["still works from memory"]).labels


def test_failed_check_is_reported_not_raised(tmp_path, monkeypatch):
    make_tiny_run(tmp_path, "strict")
    monkeypatch.setattr(config, "ONNX_ATOL", -1.0)  # no difference can meet it
    report = export_run("strict", root=tmp_path)
    assert report["variants"]["onnx"]["passed"] is False and report["passed"] is False
    assert report["variants"]["onnx"]["max_abs_diff"] >= 0
    assert store.load_run("strict", tmp_path)["exports"]["passed"] is False
    assert onnx_files(store.run_dir("strict", tmp_path)) == ["model.onnx"]


def test_without_validation_csv_uses_builtin_sentences(tmp_path):
    run = make_tiny_run(tmp_path, "noval")
    (run / store.VALIDATION_CSV).unlink()
    report = export_run("noval", root=tmp_path)
    assert report["check_source"] == "built-in sentences"
    assert report["checked_texts"] == len(config.EXPORT_FALLBACK_TEXTS)
    assert "accuracy" not in report["variants"]["onnx"] and report["variants"]["onnx"]["passed"]


def test_broken_model_gives_one_line_error_and_keeps_the_old_export(tmp_path):
    run = make_tiny_run(tmp_path, "broken")
    export_run("broken", root=tmp_path)
    before = store.load_run("broken", tmp_path)["exports"]
    (run / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ExportError) as err:
        export_run("broken", optimize=True, root=tmp_path)
    assert "\n" not in str(err.value) and "broken" in str(err.value)
    assert leftovers(tmp_path) == []
    assert onnx_files(run) == ["model.onnx"]
    assert store.load_run("broken", tmp_path)["exports"] == before


def test_unknown_run(tmp_path):
    with pytest.raises(RunNotFound):
        export_run("nope", root=tmp_path)


def make_minilm_run(root: Path, name: str) -> Path:
    """The bundled MiniLM with a random 2-class head, saved as a run (like tests.helpers.make_tiny_run)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from bertdemo.training import basemodels
    from tests.helpers import TINY_LABELS, write_csv

    torch.manual_seed(0)
    path = basemodels.bundled_model_path()
    id2label = dict(enumerate(TINY_LABELS))
    model = AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=2, id2label=id2label, label2id={lab: i for i, lab in id2label.items()}
    )
    staging = store.staging_dir(root)
    model.save_pretrained(staging)
    AutoTokenizer.from_pretrained(path).save_pretrained(staging)
    write_csv(staging / store.VALIDATION_CSV, [(t, TINY_LABELS[i % 2]) for i, t in enumerate(SENTENCES)])
    info = {
        "name": name,
        "created": "2026-01-01T00:00:00",
        "base_model": str(path),
        "labels": TINY_LABELS,
        "params": {"max_length": 128},
        "metrics": {"accuracy": 0.5, "f1_macro": 0.5},
    }
    (staging / store.RUN_JSON).write_text(json.dumps(info), encoding="utf-8")
    return store.commit_run(staging, name, root)


SENTENCES = [
    "it 's a charming and often affecting journey .",
    "unflinchingly bleak and desperate",
    "allows us to hope that nolan is poised to embark a major career as a commercial yet inventive filmmaker .",
    "the acting , costumes , music , cinematography and sound are all astounding given the production 's austere "
    "locales .",
    "it 's slow -- very , very slow .",
    "a sometimes tedious film .",
    "ok",
    "An absolute waste of two hours. " * 30,  # past max_length
]


@pytest.mark.slow
def test_bundled_minilm_export_matches_pytorch(tmp_path):
    import numpy as np
    import torch

    from tests.test_predictors import random_texts

    make_minilm_run(tmp_path, "minilm")
    report = export_run("minilm", optimize=True, quantize=True, root=tmp_path)
    assert all(v["passed"] for v in report["variants"].values()), report["variants"]
    ref_predictor = predictors.load_predictor("minilm", "pytorch", tmp_path)
    texts = SENTENCES + random_texts(ref_predictor.tokenizer, seed=1)
    for batch_size in (1, 8):
        ref = ref_predictor.predict(texts, batch_size)
        for backend, atol in (("onnx", config.ONNX_ATOL), ("onnx-optimized", config.ONNX_OPTIMIZED_ATOL)):
            got = predictors.load_predictor("minilm", backend, tmp_path).predict(texts, batch_size)
            torch.testing.assert_close(torch.from_numpy(got.logits), torch.from_numpy(ref.logits), atol=atol, rtol=1e-3)
            assert got.labels == ref.labels
        # A random head leaves margins of ~0.005 between the two logits, int8's own error size: most labels
        # still agree, and the probabilities stay close.
        int8 = predictors.load_predictor("minilm", "onnx-int8", tmp_path).predict(texts, batch_size)
        assert np.mean([a == b for a, b in zip(int8.labels, ref.labels, strict=True)]) >= 0.75
        assert np.abs(int8.probabilities - ref.probabilities).max() < 0.01
    predictors.clear_cache()
