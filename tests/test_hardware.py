"""Thread policy and CPU facts: who spins, how many threads, what the busy probe sees."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bertdemo import config, hardware


def test_a_session_that_owns_the_cores_spins_and_a_shared_one_does_not(monkeypatch):
    monkeypatch.setattr(config, "ORT_SPINNING", "")
    monkeypatch.setattr(config, "ORT_THREADS", 0)
    owner = hardware.ort_policy(owns_cores=True)
    assert owner.spinning and owner.threads == hardware.usable_cpus()
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    shared = hardware.ort_policy(owns_cores=False)
    assert not shared.spinning and shared.threads == 1


def test_the_thread_share_decides_when_nobody_says(monkeypatch):
    """The app sets OMP_NUM_THREADS to its share of the cores: its sessions must not spin; the CLI's may."""
    monkeypatch.setattr(config, "ORT_SPINNING", "")
    monkeypatch.setattr(config, "ORT_THREADS", 0)
    monkeypatch.setattr(hardware, "usable_cpus", lambda: 4)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert hardware.ort_policy() == hardware.OrtPolicy(1, False, "the cores are shared")
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert hardware.ort_policy() == hardware.OrtPolicy(4, True, "the session owns the cores")


@pytest.mark.parametrize("setting,spins", [("1", True), ("0", False)])
def test_the_environment_overrides_the_policy(monkeypatch, setting, spins):
    monkeypatch.setattr(config, "ORT_SPINNING", setting)
    assert hardware.ort_policy(owns_cores=not spins).spinning is spins


def test_busy_probe_sees_another_process_but_not_itself():
    """A child burning a core shows up; this process's own work does not count."""
    idle_ish = hardware.busy_elsewhere(0.3)
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        busy = hardware.busy_elsewhere(0.5)
    finally:
        burner.kill()
        burner.wait()
    assert 0 <= idle_ish <= hardware.usable_cpus() + 0.5
    # The child gets at least a share of a core even on a busy machine; machine-wide noise only adds to it.
    assert busy >= 0.3


def test_cpu_facts_name_the_vector_extensions():
    cpu = hardware.CpuInfo(name="x", logical_cpus=2, physical_cores=2, ghz=2.0, flags=frozenset({"avx2", "fma"}))
    assert cpu.simd == "AVX2, FMA" and not cpu.vnni and cpu.as_dict()["simd"] == "AVX2, FMA"
    vnni = hardware.CpuInfo(
        name="y", logical_cpus=2, physical_cores=1, ghz=2.0, flags=frozenset({"avx512f", "avx512_vnni"})
    )
    assert vnni.simd == "AVX-512, VNNI" and vnni.vnni and not vnni.bf16
    amx = hardware.CpuInfo(
        name="z", logical_cpus=2, physical_cores=1, ghz=2.0, flags=frozenset({"avx512f", "amx_bf16", "amx_tile"})
    )
    assert amx.bf16 and "AMX-BF16" in amx.simd and amx.as_dict()["bf16"]
    assert not cpu.bf16  # AVX2 only: no bf16 units
    assert hardware.cpu_info().simd  # this machine's, whatever it is
