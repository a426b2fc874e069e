"""Back-ends side by side: answers, latency at batch 1, throughput, size, and distance from the FLOPs floor."""

from __future__ import annotations

import csv
import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from bertdemo import config, hardware
from bertdemo.errors import BertDemoError
from bertdemo.hardware import CpuInfo, cpu_info  # noqa: F401 - export.py, bench and tests use them from here
from bertdemo.inference import predictors
from bertdemo.onnx import timing
from bertdemo.runs import store
from bertdemo.runs.records import BackendResult, CompareReport

log = logging.getLogger(__name__)

FLOOR_ASSUMPTION = (
    "fp32 peak = physical cores x nominal GHz x FLOPs/cycle/core (2 FMA units: AVX-512 64, AVX2 32, SSE 16); "
    "model FLOPs = 2 x matmul weights x tokens + 4 x layers x tokens^2 x hidden (attention)"
)


def _cfg(model_config: Any, *names: str) -> int:
    get = model_config.get if isinstance(model_config, dict) else lambda n: getattr(model_config, n, None)
    for n in names:
        if get(n):
            return int(get(n))
    raise ValueError(f"model config has none of {names}")


def model_flops(model_config: Any, seq_len: int, batch_size: int = 1) -> float:
    """Forward-pass FLOPs of a BERT-family classifier for batch_size texts of seq_len tokens.

    Per layer: Q, K, V and output projections (4 h^2 weights), the feed-forward pair (2 h i weights),
    each weight costing 2 FLOPs per token, plus QK^T and attention x V (2 x 2 L^2 h). Embedding
    lookups, softmax, layer norms and the pooler/classifier are small and left out.
    """
    layers = _cfg(model_config, "num_hidden_layers", "n_layers", "num_layers")
    hidden = _cfg(model_config, "hidden_size", "dim", "d_model")
    inter = _cfg(model_config, "intermediate_size", "hidden_dim", "ffn_dim")
    per_layer = 2 * seq_len * (4 * hidden * hidden + 2 * hidden * inter) + 4 * seq_len * seq_len * hidden
    return float(batch_size * layers * per_layer)


def flops_floor(model_config: Any, seq_len: int, batch_size: int = 1, cpu: CpuInfo | None = None) -> float:
    """The fastest a forward pass could possibly be on this CPU in fp32, in ms (FLOPs / peak FLOP/s)."""
    cpu = cpu or cpu_info()
    return model_flops(model_config, seq_len, batch_size) / cpu.peak_flops * 1e3


def validation_texts(run_path: Path, limit: int | None = None) -> tuple[list[str], list[str]]:
    """(texts, labels) of a run's validation.csv; empty lists when it has none."""
    path = Path(run_path) / store.VALIDATION_CSV
    if not path.is_file():
        return [], []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = [(r.get("text") or "", r.get("label") or "") for r in csv.DictReader(fh)]
    rows = [r for r in rows if r[0].strip()][:limit]
    return [r[0] for r in rows], [r[1] for r in rows]


def available_backends(name: str, root: Path | None = None) -> list[str]:
    """pytorch plus every ONNX variant exported for the run, in config.BACKENDS order."""
    run_path = store.run_dir(name, root)
    return ["pytorch"] + [b for b in predictors.ONNX_BACKENDS if predictors.onnx_file(run_path, b).is_file()]


def file_size_mb(path: Path) -> float:
    """Size on disk in MB, an ONNX external-data file included."""
    files = [Path(path), Path(f"{path}_data")]
    return round(sum(f.stat().st_size for f in files if f.is_file()) / 1e6, 2)


def backend_size_mb(run_path: Path, backend: str) -> float | None:
    """Size of a back-end's weights (PyTorch: model.safetensors), None when absent."""
    if backend == "pytorch":
        weights = [f for f in (run_path / "model.safetensors", run_path / "pytorch_model.bin") if f.is_file()]
        return file_size_mb(weights[0]) if weights else None
    path = predictors.onnx_file(run_path, backend)
    return file_size_mb(path) if path.is_file() else None


def _percentile_ms(samples: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples), q) * 1e3)


def compare_backends(
    name: str,
    texts: list[str],
    backends: list[str] | None = None,
    root: Path | None = None,
    repeats: int = 30,
    warmup: int = 5,
    throughput_texts: list[str] | None = None,
    batch_size: int = config.PREDICT_BATCH_SIZE,
    owns_cores: bool | None = None,
    idle_rounds: int = config.COMPARE_IDLE_ROUNDS,
    throughput_limit: int = config.BENCH_THROUGHPUT_TEXTS,
) -> CompareReport:
    """Answers, p50/p95 latency at batch 1, throughput at batch_size, size and accuracy for each back-end.

    Each back-end is timed as it would run alone (see bertdemo.onnx.timing): per round, its own block of
    at least COMPARE_BLOCK_CALLS calls back to back after a rest and an untimed wake-up call, block order
    rotated every round; p50/p95 are that steady state. The first call after COMPARE_IDLE_S without calls
    is its own figure (first_call_ms, idle_rounds calls per back-end; 0 leaves it out). The back-ends are
    fresh predictors with the thread policy of a process that owns the cores (all usable CPUs for both
    runtimes, ORT spinning), not the app's cached ones; owns_cores=None first checks whether other
    processes keep the cores busy, and if so both runtimes get this process's share of the cores and ORT
    does not spin (the report says so).
    """
    texts = predictors.as_texts(texts)
    if not [t for t in texts if t.strip()]:
        raise BertDemoError("Nothing to compare: give at least one non-empty text.")
    if repeats < 1 or warmup < 0 or batch_size < 1 or idle_rounds < 0 or throughput_limit < 1:
        raise BertDemoError(
            f"repeats, batch size and throughput texts must be at least 1, warm-up and idle rounds at least 0 "
            f"(got repeats={repeats}, warmup={warmup}, batch_size={batch_size}, idle_rounds={idle_rounds}, "
            f"throughput_limit={throughput_limit})."
        )
    run_path = store.run_dir(name, root)
    backends = list(dict.fromkeys(backends or available_backends(name, root)))
    for b in backends:
        predictors.check_backend(b)
        if b != "pytorch":
            predictors.require_export(name, run_path, b)
    busy = hardware.busy_elsewhere() if owns_cores is None else None
    owns = owns_cores if owns_cores is not None else busy < config.BUSY_ELSEWHERE_CORES
    # Owning the cores: every usable CPU and spinning. Sharing them: the process's share, no spinning.
    policy = replace(hardware.ort_policy(owns_cores=owns), reason=_policy_reason(owns, busy))
    given = len(texts)
    if given > config.BENCH_MAX_TEXTS:
        log.warning("comparing the first %d of %d texts", config.BENCH_MAX_TEXTS, given)
        texts = texts[: config.BENCH_MAX_TEXTS]
    if throughput_texts is None:
        throughput_texts = validation_texts(run_path, throughput_limit)[0] or texts
    throughput_texts = (predictors.as_texts(throughput_texts) or texts)[:throughput_limit]
    lat_texts = spread_by_length(texts, config.BENCH_LATENCY_TEXTS)
    plan = timing.Plan(rounds=repeats, block_calls=timing.block_calls(len(lat_texts)), texts=len(lat_texts))

    # Fresh predictors, dropped afterwards: the app's cache keeps what it serves, not four models per compare.
    with timing.torch_threads(policy.threads) as torch_threads:
        loaded = _load_fresh(name, root, run_path, backends, policy)
        sync = timing.synchronizer(loaded.values())
        answers = {b: p.predict(texts, batch_size) for b, p in loaded.items()}
        latency = timing.time_latency(loaded, lat_texts, repeats, warmup, sync, min_calls=plan.block_calls)
        throughput = timing.time_throughput(loaded, throughput_texts, batch_size, warmup, sync)
        # Last, when every runtime is long warm: only the idle before the call is left to tell.
        first = timing.time_first_calls(loaded, lat_texts, idle_rounds, sync=sync) if idle_rounds else {}

    reference = "pytorch" if "pytorch" in answers else backends[0]
    rows = []
    for i, text in enumerate(texts):
        row: dict[str, Any] = {"text": text}
        for b, pred in answers.items():
            row[b] = {"label": pred.labels[i], "confidence": round(float(pred.probabilities[i].max()), 4)}
        row["agree"] = all(pred.labels[i] == answers[reference].labels[i] for pred in answers.values())
        rows.append(row)

    cfg = _model_config(run_path)
    cpu = hardware.cpu_info()
    seq_lens = loaded[reference].count_tokens(lat_texts)
    floor_ms = float(np.median([flops_floor(cfg, n, 1, cpu) for n in seq_lens])) if cfg else None
    exports = store.load_run(name, root).get("exports") or {}
    fit = hardware.int8_fit(exports.get("int8_preset"), cpu) if "onnx-int8" in backends else None
    results: dict[str, BackendResult] = {}
    for b in backends:
        p50, p95 = _percentile_ms(latency[b], 50), _percentile_ms(latency[b], 95)
        entry: BackendResult = {
            "p50_ms": round(p50, 3),
            "p95_ms": round(p95, 3),
            "throughput": round(throughput[b], 1),
            "device": loaded[b].device,
        }
        if first.get(b):
            entry["first_call_ms"] = round(_percentile_ms(first[b], 50), 3)
        if reference == "pytorch":
            entry["speedup_p50"] = round(_percentile_ms(latency["pytorch"], 50) / p50, 2)
            entry["speedup_throughput"] = round(throughput[b] / throughput["pytorch"], 2)
        size = backend_size_mb(run_path, b)
        if size is not None:
            entry["size_mb"] = size
        recorded = exports.get("pytorch") if b == "pytorch" else (exports.get("variants") or {}).get(b)
        for key in ("accuracy", "f1_macro"):
            if recorded and recorded.get(key) is not None:
                entry[key] = recorded[key]
        same = [x == y for x, y in zip(answers[b].labels, answers[reference].labels, strict=True)]
        entry["agreement"] = round(float(np.mean(same)), 4)
        if floor_ms:
            entry["x_floor"] = round(p50 / floor_ms, 1)
        results[b] = entry

    first_call = None
    if idle_rounds:
        first_call = {
            "idle_s": config.COMPARE_IDLE_S,
            "rounds": idle_rounds,
            "method": timing.first_call_text(config.COMPARE_IDLE_S, idle_rounds),
        }
    return {
        "name": name,
        "texts": texts,
        "truncated_from": given if given > len(texts) else None,
        "rows": rows,
        "backends": results,
        "reference": reference,
        "settings": {
            "repeats": repeats,
            "warmup": warmup,
            "latency_texts": len(lat_texts),
            "block_calls": plan.block_calls,
            "idle_rounds": idle_rounds,
            "throughput_texts": len(throughput_texts),
            "batch_size": batch_size,
        },
        "threads": _threads(loaded.values(), torch_threads),
        "measurement": {
            "method": timing.method_text(plan),
            "steady": plan.as_dict(),
            "first_call": first_call,
            "ort_spinning": policy.spinning,
            "why": policy.reason,
            "busy_elsewhere_cores": None if busy is None else round(busy, 2),
            "load_average_1m": _load_average(),
        },
        "device": _device(loaded.values(), cpu),
        "cpu": cpu.as_dict(),
        "warnings": [fit] if fit else [],
        "floor": {
            "p50_ms": round(floor_ms, 4) if floor_ms else None,
            "seq_len_p50": float(np.median(seq_lens)),
            "assumption": FLOOR_ASSUMPTION,
        },
    }


def spread_by_length(texts: list[str], n: int) -> list[str]:
    """Up to n texts evenly spread over the list (sorted by length, so short and long are both timed)."""
    texts = [t for t in texts if t.strip()] or texts
    if len(texts) <= n:
        return texts
    by_len = sorted(texts, key=len)
    return [by_len[int(i)] for i in np.linspace(0, len(by_len) - 1, n)]


def _model_config(run_path: Path) -> dict[str, Any] | None:
    import json

    try:
        with open(run_path / "config.json", encoding="utf-8") as fh:
            cfg = json.load(fh)
        _cfg(cfg, "num_hidden_layers", "n_layers", "num_layers")
        return cfg
    except (OSError, ValueError):
        return None


def _threads(loaded, torch_threads: int) -> dict[str, int]:
    out = {"torch": torch_threads}
    ort = [p.threads for p in loaded if hasattr(p, "threads")]
    if ort:
        out["onnxruntime"] = ort[0]
    return out


def _load_fresh(name: str, root: Path | None, run_path: Path, backends: list[str], policy) -> dict[str, Any]:
    """New predictors for compare; a run deleted meanwhile is reported as gone, not as a broken file."""
    try:
        return {b: predictors.make_predictor(run_path, b, policy) for b in backends}
    except (OSError, BertDemoError):
        store.run_dir(name, root)  # raises RunNotFound when the run was deleted while loading
        raise


def _policy_reason(owns: bool, busy: float | None) -> str:
    if config.ORT_SPINNING in ("0", "1"):
        return "ORT spinning set by BERTDEMO_ORT_SPINNING"
    if busy is None:
        return "the caller said the cores are " + ("free" if owns else "shared")
    if owns:
        return f"the cores were free ({busy:.1f} busy elsewhere)"
    return f"other processes kept {busy:.1f} cores busy, so ORT did not spin"


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):  # pragma: no cover - Windows
        return None


def _device(loaded, cpu: CpuInfo) -> str:
    if any(p.device == "cuda" for p in loaded):
        import torch

        return f"cuda ({torch.cuda.get_device_name(0)})"
    return f"cpu ({cpu.name}, {cpu.physical_cores} cores)"
