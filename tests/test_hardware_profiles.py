"""Every choice bertdemo makes from the hardware, under each kind of machine (faked: tests/conftest.py).

The suite runs on whatever CPU CI has (AVX2 only, AVX-512 with BF16, AMX) and never on a GPU, so the
choices are checked here against faked facts instead of the machine's own.
"""

from __future__ import annotations

import json

import pytest

from bertdemo import hardware
from bertdemo.training.hyperparameters import TrainConfig, choose_hyperparameters
from tests.conftest import CPU_PROFILES

EXPECTED_PRECISION = {
    "avx2": "fp32",  # no bf16 units: emulated bf16 trains slower
    "avx512-bf16": "bf16",
    "amx": "bf16",
    "cuda-bf16": "bf16",
    "cuda-no-bf16": "fp16",
}
EXPECTED_INT8_PRESET = {"avx2": "avx2", "avx512-bf16": "avx512_vnni", "amx": "avx512_vnni"}


def _auto_precision() -> str:
    dev = hardware.device_info()
    cfg = choose_hyperparameters(TrainConfig(), 240, gpu=dev["device"] == "cuda", bf16_units=dev["bf16_units"])
    return cfg.precision


def test_auto_precision_follows_the_machine(fake_hardware) -> None:
    assert _auto_precision() == EXPECTED_PRECISION[fake_hardware]


def test_a_pinned_precision_is_kept_on_every_machine(fake_hardware) -> None:
    dev = hardware.device_info()
    cfg = choose_hyperparameters(TrainConfig(precision="fp32"), 240, gpu=dev["device"] == "cuda", bf16_units=True)
    assert cfg.precision == "fp32" and "precision" not in cfg.chosen


@pytest.mark.parametrize("fake_hardware", list(EXPECTED_INT8_PRESET), indirect=True)
def test_the_int8_preset_follows_the_cpus_vnni(fake_hardware) -> None:
    assert hardware.int8_preset() == EXPECTED_INT8_PRESET[fake_hardware]


@pytest.mark.parametrize("fake_hardware", CPU_PROFILES, indirect=True)
def test_a_run_on_auto_records_the_precision_it_trained_in(fake_hardware, tiny_model_dir, models_root) -> None:
    """The whole path: the trainer reads the facts, trains in that precision, and says so in run.json."""
    from bertdemo.training.trainer import train_run
    from tests.test_training import tiny_split

    train_run(tiny_split(), TrainConfig(model=str(tiny_model_dir), epochs=1, batch_size=4), "auto", root=models_root)
    saved = json.loads((models_root / "auto" / "run.json").read_text())
    assert saved["device"]["precision"] == saved["params"]["precision"] == EXPECTED_PRECISION[fake_hardware]
    assert saved["device"]["bf16_units"] is (fake_hardware != "avx2")
    # bf16 autocast keeps fp32 master weights: the saved model is fp32 on every machine
    assert json.loads((models_root / "auto" / "config.json").read_text()).get("dtype", "float32") == "float32"


@pytest.mark.parametrize("fake_hardware", list(EXPECTED_INT8_PRESET), indirect=True)
def test_int8_weights_are_the_presets_type_in_the_fused_graph(fake_hardware, tmp_path) -> None:
    """The int8 back-end (quantized from the O2 graph) takes the CPU preset's weight type: s8 where VNNI
    multiplies u8 x s8, u8 on AVX2. It once took u8 everywhere, which ran ~1.5x slower at batch 1 on VNNI."""
    import onnx

    from bertdemo import config
    from bertdemo.onnx.export import export_run
    from bertdemo.runs import store
    from tests.helpers import make_tiny_run

    make_tiny_run(tmp_path, "q")
    report = export_run("q", optimize=True, quantize=True, root=tmp_path)
    assert report["int8_preset"] == EXPECTED_INT8_PRESET[fake_hardware] and report["int8_source"] == "onnx-optimized"
    graph = onnx.load(str(store.run_dir("q", tmp_path) / config.ONNX_SUBDIR / config.ONNX_FILES["onnx-int8"])).graph
    weights = {i.name: i.data_type for i in graph.initializer}
    # Input 1 of every integer matmul and of QAttention is its quantized weight.
    types = {weights[n.input[1]] for n in graph.node if n.op_type in ("MatMulInteger", "QAttention")}
    expected = onnx.TensorProto.INT8 if EXPECTED_INT8_PRESET[fake_hardware] == "avx512_vnni" else onnx.TensorProto.UINT8
    assert types == {expected}


@pytest.mark.parametrize("fake_hardware", list(EXPECTED_INT8_PRESET), indirect=True)
def test_int8_from_a_vnni_cpu_is_flagged_only_on_a_cpu_without_vnni(fake_hardware) -> None:
    """s8 weights (the VNNI preset) served where ONNX Runtime has no VNNI can saturate; u8 weights fit anywhere."""
    vnni_export = hardware.int8_fit("avx512_vnni")
    assert (vnni_export is not None) is (EXPECTED_INT8_PRESET[fake_hardware] == "avx2")
    assert hardware.int8_fit("avx2") is None and hardware.int8_fit(None) is None


@pytest.mark.parametrize("fake_hardware", ["avx512-bf16"], indirect=True)
def test_compare_warns_when_int8_was_quantized_for_a_cpu_this_one_is_not(fake_hardware, tmp_path, monkeypatch):
    """Exported on a VNNI CPU (s8 weights), compared on an AVX2 one: the report, the tab and the CLI say so."""
    from bertdemo.onnx.compare import compare_backends
    from bertdemo.onnx.export import export_run
    from bertdemo.ui.bench_views import measurement_text
    from tests.helpers import make_tiny_run

    make_tiny_run(tmp_path, "q")
    assert export_run("q", optimize=True, quantize=True, root=tmp_path)["int8_preset"] == "avx512_vnni"
    here = compare_backends("q", ["fine"], root=tmp_path, repeats=1, warmup=0, idle_rounds=0)
    assert here["warnings"] == [] and "Warning" not in measurement_text(here)

    vnni = hardware.cpu_info()
    avx2 = hardware.CpuInfo(vnni.name, vnni.logical_cpus, vnni.physical_cores, vnni.ghz, frozenset({"avx2", "fma"}))
    monkeypatch.setattr(hardware, "cpu_info", lambda: avx2)  # the same run, served on an AVX2-only CPU
    there = compare_backends("q", ["fine"], root=tmp_path, repeats=1, warmup=0, idle_rounds=0)
    assert there["warnings"] == [hardware.int8_fit("avx512_vnni")]
    assert measurement_text(there).startswith("**Warning:** onnx-int8 was quantized on a CPU with VNNI")
    pytorch_only = compare_backends("q", ["fine"], ["pytorch", "onnx"], tmp_path, 1, 0, idle_rounds=0)
    assert pytorch_only["warnings"] == []  # no int8 compared: nothing to warn about
