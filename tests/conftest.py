"""Fixtures shared by the tests: an isolated models folder per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.appprocess import REPO, api_client, free_port  # noqa: F401 - re-exported for the tests

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def models_root(tmp_path: Path) -> Path:
    """An empty models folder for one test."""
    root = tmp_path / "models"
    root.mkdir()
    return root


# --- the web app, launched in-process (tests/test_app_client.py, tests/e2e/) ------------------------------------


def tiny_rows(n_per_class: int = 30) -> list[tuple[str, str]]:
    """Easy two-class reviews for the tiny model (alternating, so any sample has both classes)."""
    good = ["great", "wonderful", "excellent", "lovely", "superb", "fantastic"]
    bad = ["awful", "terrible", "broken", "useless", "horrible", "dreadful"]
    things = ["phone", "film", "meal", "hotel", "book", "service", "laptop", "game", "shoes", "coffee"]
    rows = []
    for i in range(n_per_class):
        thing = things[i % len(things)]
        rows.append((f"The {thing} was {good[i % len(good)]}, I would buy it again ({i})", "positive"))
        rows.append((f"The {thing} was {bad[i % len(bad)]}, a waste of money ({i})", "negative"))
    return rows


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A 2-layer random BERT with the real tokenizer, usable as a local base model."""
    from tests.helpers import make_tiny_model_dir

    return make_tiny_model_dir(tmp_path_factory.mktemp("base") / "tiny")


@pytest.fixture(scope="module")
def app_server(tmp_path_factory, tiny_model_dir):
    """The real app on a free port over an empty models folder; any job still running is stopped at the end."""
    from types import SimpleNamespace

    from bertdemo import config
    from bertdemo.ui import build_app, launch_options
    from tests.helpers import write_csv

    base = tmp_path_factory.mktemp("app")
    root = base / "models"
    root.mkdir()
    small_csv = write_csv(base / "small.csv", tiny_rows())
    env = pytest.MonkeyPatch()
    # The operator's allow-list: visitors may train from the tiny model's folder, and from no other server path.
    env.setenv(config.BASE_MODELS_ENV, str(tiny_model_dir))
    demo = build_app(root=root)
    _, url, _ = demo.launch(prevent_thread_lock=True, server_port=free_port(), quiet=True, **launch_options())
    try:
        yield SimpleNamespace(
            url=url, root=root, base=base, demo=demo, runner=demo.runner, tiny=tiny_model_dir, small_csv=small_csv
        )
    finally:
        job = demo.runner.active_job()
        if job:
            demo.runner.stop(job)
            demo.runner.wait(job, timeout=120)
        demo.close()
        env.undo()


# --- hardware facts, faked: tests of "auto" choices run under every kind of machine, whatever this one is ------

_BASE_FLAGS = frozenset({"sse4_2", "avx", "avx2", "fma"})
_AVX512 = frozenset({"avx512f", "avx512bw", "avx512_vnni"})
HARDWARE_PROFILES: dict[str, dict] = {
    # name: CPU flags, and the GPU (None: training runs on the CPU)
    "avx2": {"flags": _BASE_FLAGS, "gpu": None},
    "avx512-bf16": {"flags": _BASE_FLAGS | _AVX512 | {"avx512_bf16"}, "gpu": None},
    "amx": {"flags": _BASE_FLAGS | _AVX512 | {"avx512_bf16", "amx_tile", "amx_bf16", "amx_int8"}, "gpu": None},
    "cuda-bf16": {"flags": _BASE_FLAGS, "gpu": {"name": "NVIDIA H100", "bf16": True}},
    "cuda-no-bf16": {"flags": _BASE_FLAGS, "gpu": {"name": "Tesla T4", "bf16": False}},
}
CPU_PROFILES = [name for name, p in HARDWARE_PROFILES.items() if p["gpu"] is None]


@pytest.fixture(params=list(HARDWARE_PROFILES))
def fake_hardware(request, monkeypatch):
    """bertdemo.hardware's facts as on one kind of machine (parametrize indirectly to pick profiles).

    Only the facts change (CPU flags, the GPU's name and bf16 support): the code still runs on this CPU.
    """
    from bertdemo import hardware

    profile = HARDWARE_PROFILES[request.param]
    real = hardware.cpu_info()
    cpu = hardware.CpuInfo(
        name=f"{real.name} (as {request.param})",
        logical_cpus=real.logical_cpus,
        physical_cores=real.physical_cores,
        ghz=real.ghz,
        flags=frozenset(profile["flags"]),
    )
    gpu = profile["gpu"]

    def device_info() -> dict:
        if gpu is not None:
            return {"device": "cuda", "name": gpu["name"], "bf16_units": gpu["bf16"]}
        return {"device": "cpu", "name": cpu.name, "bf16_units": cpu.bf16, "simd": cpu.simd, "threads": 1}

    monkeypatch.setattr(hardware, "cpu_info", lambda: cpu)
    monkeypatch.setattr(hardware, "device_info", device_info)
    return request.param
