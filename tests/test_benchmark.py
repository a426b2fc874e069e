"""compare_backends and the FLOPs floor: structure, sane numbers, errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bertdemo import config, hardware
from bertdemo.errors import BertDemoError, NotExported, UnknownBackend
from bertdemo.inference import predictors
from bertdemo.onnx import compare, timing
from bertdemo.onnx.export import export_run
from tests.helpers import make_tiny_run

TEXTS = ["a wonderful, moving film", "dull", "the plot drags and the jokes fall flat, but the cast is great " * 3]


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("models")
    make_tiny_run(root, "tiny")
    export_run("tiny", optimize=True, quantize=True, root=root)
    make_tiny_run(root, "plain")
    yield root
    predictors.clear_cache()


@pytest.fixture(scope="module")
def report(root) -> dict:
    return compare.compare_backends("tiny", TEXTS, root=root, repeats=3, warmup=1)


def test_compare_has_every_backend_and_row(report):
    assert list(report["backends"]) == list(config.BACKENDS)
    assert report["texts"] == TEXTS and len(report["rows"]) == len(TEXTS)
    for row, text in zip(report["rows"], TEXTS, strict=True):
        assert row["text"] == text and isinstance(row["agree"], bool)
        for b in config.BACKENDS:
            assert row[b]["label"] in {"negative", "positive"} and 0.5 <= row[b]["confidence"] <= 1
    json.dumps(report, allow_nan=False)  # JSON-able as it is, for the UI and --json


def test_compare_numbers_are_positive_and_finite(report):
    for b, entry in report["backends"].items():
        for key in ("p50_ms", "p95_ms", "throughput", "speedup_p50", "speedup_throughput", "size_mb", "x_floor"):
            assert math.isfinite(entry[key]) and entry[key] > 0, (b, key)
        assert entry["p95_ms"] >= entry["p50_ms"]
        assert 0 <= entry["agreement"] <= 1 and 0 <= entry["accuracy"] <= 1
    assert report["backends"]["pytorch"]["speedup_p50"] == 1.0
    assert report["backends"]["onnx"]["agreement"] == 1.0
    assert report["threads"]["torch"] >= 1 and report["threads"]["onnxruntime"] >= 1
    assert report["device"].startswith(("cpu", "cuda")) and report["floor"]["p50_ms"] > 0
    assert report["settings"]["latency_texts"] == len(TEXTS) and report["settings"]["throughput_texts"] == 8


def test_compare_times_one_text_warm_and_the_first_call_apart(report, root):
    """Per round, a block of COMPARE_BLOCK_CALLS calls per back-end (whole passes); the first call after idle apart."""
    steady = report["measurement"]["steady"]
    assert report["settings"]["block_calls"] == steady["block_calls"] == timing.block_calls(len(TEXTS))
    assert steady["samples_per_backend"] == 3 * steady["block_calls"] and steady["wake_calls"] >= 1
    assert f"{steady['block_calls']} timed calls" in report["measurement"]["method"]
    first = report["measurement"]["first_call"]
    assert first["idle_s"] == config.COMPARE_IDLE_S and first["rounds"] == config.COMPARE_IDLE_ROUNDS
    assert "not part of p50/p95" in first["method"]
    for b, entry in report["backends"].items():
        assert math.isfinite(entry["first_call_ms"]) and entry["first_call_ms"] > 0, b
    one = compare.compare_backends(
        "tiny", ["fine"], backends=["onnx"], root=root, repeats=2, warmup=0, idle_rounds=0, throughput_limit=3
    )
    assert one["settings"]["block_calls"] == config.COMPARE_BLOCK_CALLS and one["settings"]["throughput_texts"] == 3
    assert "the one text" in one["measurement"]["method"] and one["measurement"]["first_call"] is None
    assert "first_call_ms" not in one["backends"]["onnx"]


def test_compare_chosen_backends_without_pytorch(root):
    out = compare.compare_backends(
        "tiny",
        ["fine"],
        backends=["onnx-int8", "onnx"],
        root=root,
        repeats=1,
        warmup=0,
        idle_rounds=0,
        throughput_texts=["fine"] * 5,
        batch_size=2,
    )
    assert list(out["backends"]) == ["onnx-int8", "onnx"] and out["reference"] == "onnx-int8"
    assert "speedup_p50" not in out["backends"]["onnx"]


def test_compare_defaults_to_exported_backends(root):
    assert compare.available_backends("plain", root) == ["pytorch"]
    out = compare.compare_backends("plain", ["fine"], root=root, repeats=1, warmup=0, idle_rounds=0)
    assert list(out["backends"]) == ["pytorch"]


def test_compare_errors(root):
    with pytest.raises(BertDemoError, match="Nothing to compare"):
        compare.compare_backends("tiny", ["  "], root=root)
    with pytest.raises(UnknownBackend):
        compare.compare_backends("tiny", ["x"], backends=["tflite"], root=root)
    with pytest.raises(NotExported):
        compare.compare_backends("plain", ["x"], backends=["pytorch", "onnx"], root=root)
    with pytest.raises(BertDemoError, match="repeats"):
        compare.compare_backends("tiny", ["x"], root=root, repeats=0)
    with pytest.raises(BertDemoError, match="idle rounds"):
        compare.compare_backends("tiny", ["x"], root=root, idle_rounds=-1)


def test_model_flops_of_bert_base():
    """BERT-base at 128 tokens: the often-quoted ~22 GFLOPs (2 x 85M matmul weights x 128 + attention)."""
    bert_base = {"num_hidden_layers": 12, "hidden_size": 768, "intermediate_size": 3072}
    assert compare.model_flops(bert_base, 128) == pytest.approx(22.35e9, rel=1e-3)
    assert compare.model_flops(bert_base, 128, batch_size=4) == 4 * compare.model_flops(bert_base, 128)
    distil = {"n_layers": 6, "dim": 768, "hidden_dim": 3072}  # DistilBERT names its fields differently
    assert compare.model_flops(distil, 128) == pytest.approx(compare.model_flops(bert_base, 128) / 2)


def test_flops_floor_uses_the_cpu_peak():
    cpu = compare.CpuInfo(name="test", logical_cpus=4, physical_cores=2, ghz=2.5, flags=frozenset({"avx2", "fma"}))
    assert cpu.flops_per_cycle == 32 and cpu.peak_flops == 2 * 2.5e9 * 32
    cfg = {"num_hidden_layers": 6, "hidden_size": 384, "intermediate_size": 1536}
    assert compare.flops_floor(cfg, 16, cpu=cpu) == pytest.approx(compare.model_flops(cfg, 16) / 160e9 * 1e3)
    here = compare.cpu_info()
    assert here.physical_cores >= 1 and here.ghz > 0 and here.flops_per_cycle in {16, 32, 64}
    assert compare.flops_floor(cfg, 16) > 0


def test_compare_says_how_it_measured_and_leaves_the_cache_alone(root):
    """The dashboard states the method and the spinning choice; compare loads its own predictors, not the cache's."""
    predictors.clear_cache()
    out = compare.compare_backends(
        "tiny", ["fine"], backends=["onnx"], root=root, repeats=1, warmup=0, owns_cores=False, idle_rounds=0
    )
    m = out["measurement"]
    assert "own block" in m["method"] and "rotated" in m["method"]
    assert m["ort_spinning"] is False and "shared" in m["why"] and m["busy_elsewhere_cores"] is None
    assert predictors._cache == {}
    quick = {"backends": ["onnx"], "root": root, "repeats": 1, "warmup": 0, "idle_rounds": 0}
    out = compare.compare_backends("tiny", ["fine"], owns_cores=True, **quick)
    assert out["measurement"]["ort_spinning"] is True
    assert out["threads"]["onnxruntime"] == out["threads"]["torch"] == hardware.usable_cpus()
    probed = compare.compare_backends("tiny", ["fine"], **quick)
    busy = probed["measurement"]["busy_elsewhere_cores"]
    assert busy >= 0 and probed["measurement"]["ort_spinning"] is (busy < config.BUSY_ELSEWHERE_CORES)
