"""CPU facts (model, cores, clock, flags) and thread policy: threads per runtime, and when ONNX Runtime may spin.

numpy-free and torch-free on purpose: app.py reads the thread policy before torch is imported.
"""

from __future__ import annotations

import os
import platform
import re
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from bertdemo import config


def usable_cpus() -> int:
    """The CPUs this process may run on (a container limited to 2 of 64 CPUs must not start 64 threads)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def torch_serve_threads() -> int:
    """PyTorch intra-op threads for the app: config.SERVE_TORCH_THREADS, else CPUs per concurrent event (>= 1).

    QUEUE_CONCURRENCY requests run at once, so more threads each would only fight over the cores.
    """
    if config.SERVE_TORCH_THREADS > 0:
        return config.SERVE_TORCH_THREADS
    return max(1, usable_cpus() // config.QUEUE_CONCURRENCY)


def ort_threads() -> int:
    """ONNX Runtime intra-op threads: config.ORT_THREADS, else OMP_NUM_THREADS, else the CPUs this process may use.

    OMP_NUM_THREADS is what PyTorch uses too (app.py sets it), so a served session gets the app's share of cores.
    """
    if config.ORT_THREADS > 0:
        return config.ORT_THREADS
    omp = os.environ.get("OMP_NUM_THREADS", "")
    return int(omp) if omp.isdigit() and int(omp) > 0 else usable_cpus()


@dataclass(frozen=True)
class OrtPolicy:
    """Intra-op threads and spinning for one ONNX Runtime session, and why."""

    threads: int
    spinning: bool
    reason: str


def ort_policy(owns_cores: bool | None = None) -> OrtPolicy:
    """Threads and spinning for a session: spin only where the session owns the cores.

    A spinning thread pool answers the next call ~30% sooner (1.81 vs 2.61 ms for MiniLM fp32 at
    2 threads), but it burns its cores between calls, which a training job or concurrent requests
    on the same cores would have used. owns_cores=None decides from the thread share: a session
    given every usable CPU (CLI, benchmark) owns them; a smaller share (the app, OMP_NUM_THREADS set
    to its part of the cores) does not. config.ORT_SPINNING ("1"/"0") overrides both.
    """
    if owns_cores is None:
        threads = ort_threads()
        owns_cores = threads >= usable_cpus()
    else:
        threads = (config.ORT_THREADS or usable_cpus()) if owns_cores else ort_threads()
    if config.ORT_SPINNING in ("0", "1"):
        return OrtPolicy(threads, config.ORT_SPINNING == "1", "set by BERTDEMO_ORT_SPINNING")
    if owns_cores:
        return OrtPolicy(threads, True, "the session owns the cores")
    return OrtPolicy(threads, False, "the cores are shared")


def busy_elsewhere(window_s: float = config.BUSY_PROBE_S) -> float:
    """Cores kept busy by other processes over a short window (0.0 where /proc/stat is missing).

    The whole machine's busy time minus this process's own CPU time: a training job or another
    user's work shows up here, and a measurement can then say it did not own the cores.
    """
    try:
        before, own_before = _busy_jiffies(), time.process_time()
        time.sleep(window_s)
        after, own_after = _busy_jiffies(), time.process_time()
    except (OSError, ValueError):
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    busy = (after - before) / ticks - (own_after - own_before)
    return max(0.0, busy / window_s)


def _busy_jiffies() -> int:
    """Non-idle CPU time of the whole machine since boot, in clock ticks (the first line of /proc/stat)."""
    with open("/proc/stat", encoding="ascii") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields[:8]) - idle  # guest time is already counted in user


# ---- CPU facts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CpuInfo:
    """What /proc/cpuinfo says about this machine's CPU (best effort elsewhere)."""

    name: str
    logical_cpus: int
    physical_cores: int
    ghz: float
    flags: frozenset[str] = field(default_factory=frozenset)

    @property
    def vnni(self) -> bool:
        """True when the CPU has int8 dot-product instructions (AVX512-VNNI or AVX-VNNI)."""
        return bool({"avx512_vnni", "avx_vnni"} & self.flags)

    @property
    def bf16(self) -> bool:
        """True when the CPU has bf16 units (AMX-BF16 tiles or AVX512-BF16): mixed precision then trains faster.

        Without them (AVX2-only CPUs) oneDNN emulates bf16 in fp32 registers and training gets slower.
        """
        return bool({"amx_bf16", "avx512_bf16"} & self.flags)

    @property
    def flops_per_cycle(self) -> int:
        """fp32 FLOPs per cycle per core, assuming 2 FMA units (an FMA is 2 FLOPs per lane)."""
        if "avx512f" in self.flags:
            return 64  # 2 units x 16 lanes x 2
        if "avx2" in self.flags and "fma" in self.flags:
            return 32  # 2 units x 8 lanes x 2
        return 16  # SSE: 2 units x 4 lanes x 2

    @property
    def peak_flops(self) -> float:
        """Theoretical fp32 peak of the cores this process may use, FLOP/s."""
        return self.physical_cores * self.ghz * 1e9 * self.flops_per_cycle

    @property
    def simd(self) -> str:
        """The widest vector extensions that matter to fp32 and int8 kernels, e.g. 'AVX2, FMA' or 'AVX-512, VNNI'."""
        named = [
            ("avx512f", "AVX-512"),
            ("avx2", "AVX2"),
            ("fma", "FMA"),
            ("avx512_vnni", "VNNI"),
            ("avx_vnni", "AVX-VNNI"),
            ("avx512_bf16", "AVX512-BF16"),
            ("amx_bf16", "AMX-BF16"),
        ]
        return ", ".join(label for flag, label in named if flag in self.flags) or "SSE"

    def as_dict(self) -> dict[str, Any]:
        """JSON-able summary."""
        out = asdict(self)
        out.pop("flags")
        out.update(
            vnni=self.vnni,
            bf16=self.bf16,
            simd=self.simd,
            flops_per_cycle=self.flops_per_cycle,
            peak_gflops=round(self.peak_flops / 1e9, 1),
        )
        return out


@lru_cache(maxsize=1)
def cpu_info() -> CpuInfo:
    """Read the CPU model, cores, nominal GHz and flags once."""
    logical = usable_cpus()
    name = platform.processor() or platform.machine()
    flags: set[str] = set()
    sockets: set[str] = set()
    mhz: list[float] = []
    cores_per_socket = 0
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = (part.strip() for part in line.partition(":"))
        if key == "model name":
            name = value
        elif key == "flags" and not flags:
            flags = set(value.split())
        elif key == "cpu cores":
            cores_per_socket = int(value)
        elif key == "physical id":
            sockets.add(value)
        elif key == "cpu MHz":
            mhz.append(float(value))
    nominal = re.search(r"@\s*([\d.]+)\s*GHz", name)
    # The nominal clock in the model name, else the current clock (which may be throttled or boosted).
    ghz = float(nominal.group(1)) if nominal else (max(mhz) / 1000 if mhz else 2.0)
    # Hyper-threads share one core's FMA units, so the peak counts physical cores, capped by the affinity mask.
    physical = cores_per_socket * max(1, len(sockets)) if cores_per_socket else logical
    return CpuInfo(
        name=name, logical_cpus=logical, physical_cores=max(1, min(physical, logical)), ghz=ghz, flags=frozenset(flags)
    )


def job_threads() -> int:
    """PyTorch intra-op threads of a training subprocess: config.JOB_TORCH_THREADS, else all CPUs but one (>= 1)."""
    if config.JOB_TORCH_THREADS > 0:
        return config.JOB_TORCH_THREADS
    return max(1, usable_cpus() - 1)


def device_info() -> dict[str, Any]:
    """Which device training uses and whether it has bf16 units (imports torch).

    `bf16_units` says what the hardware offers; the precision a run uses is chosen from it
    (hyperparameters.choose_precision) and recorded as `precision`, `bf16` and `fp16`.
    """
    import torch

    if torch.cuda.is_available():
        bf16 = torch.cuda.is_bf16_supported()
        return {"device": "cuda", "name": torch.cuda.get_device_name(0), "bf16_units": bf16}
    cpu = cpu_info()
    return {
        "device": "cpu",
        "name": cpu.name,
        "bf16_units": cpu.bf16,
        "simd": cpu.simd,
        "threads": torch.get_num_threads(),
    }


def int8_preset() -> str:
    """Optimum's int8 quantization preset for this CPU: VNNI instructions where it has them, else AVX2."""
    return "avx512_vnni" if cpu_info().vnni else "avx2"


def int8_fit(preset: str | None, cpu: CpuInfo | None = None) -> str | None:
    """Why an onnx-int8 model quantized with Optimum's `preset` may answer worse on this CPU; None when it fits.

    The avx512_vnni preset stores s8 weights against u8 activations. Without VNNI, ONNX Runtime multiplies
    u8 x s8 with 16-bit intermediate sums that can saturate (onnxruntime's quantization docs: reduce_range
    or u8 weights for non-VNNI CPUs), so a model exported on a VNNI CPU and served on an AVX2 one may
    change answers. The avx2 preset (u8 weights, what export picks without VNNI) is safe everywhere.
    """
    cpu = cpu or cpu_info()
    if preset == "avx512_vnni" and not cpu.vnni:
        return (
            "onnx-int8 was quantized on a CPU with VNNI (s8 weights) and this CPU has none: its 8-bit sums can "
            "saturate here and change answers; check its agreement with PyTorch, or export the run again on "
            "this machine (u8 weights)."
        )
    return None


def gpu_name() -> str | None:
    """The first CUDA device's name, or None (imports torch)."""
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def release_memory() -> None:
    """Hand freed memory back to the system after a big one-off job in this process (an ONNX export: ~600 MB).

    glibc keeps freed blocks in its arenas, so a long-running server's resident memory would stay at the peak of its
    largest export ever (bench/abuse_bench.py); malloc_trim returns them. Elsewhere (no glibc) it does nothing.
    """
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
