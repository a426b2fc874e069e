"""Probes behind bench/infer_bench.py: honest latency, ORT spinning, predictor overhead, candidate variants.

- alone: one back-end timed in its own process, the plain way (a default-options ORT session or a plain
  PyTorch model, tokenizer call included), the reference the Compare dashboard is held to;
- cold blocks: the dashboard's method before issue 24 (every text once per block, right after the rest), for
  the record;
- spinning: the same variant with ORT spinning on and off, on free cores and next to a busy neighbour;
- overhead: the served /predict path (service.predict) against a bare tokenizer call + session.run;
- fused ops: what each graph holds (is attention fused?).

    python bench/infer_probes.py alone-worker RUN_PATH BACKEND   # AloneWorker: JSON requests on stdin
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bertdemo import config, hardware  # noqa: E402
from bertdemo.inference import predictors
from bertdemo.onnx import timing


def p50_ms(samples: list[float]) -> float:
    """Median of seconds, in ms."""
    return float(np.median(samples) * 1e3)


# ---- alone: each back-end in its own process ------------------------------------------------------


def _alone_worker(run_path: str, backend: str) -> None:
    """Load one back-end the plain way in this (fresh) process, then time it on request, until stdin closes.

    Prints {"ready": true, "threads": n}, then answers each request line {"sets", "calls", "warmup",
    "idle_rounds"} with the seconds per call as one JSON line. For each set of texts: `warmup` calls, then
    `calls` timed calls back to back cycling over the texts (the reference: a script calling the model in a
    loop). Then, for the first set, the first call after COMPARE_IDLE_S without calls, idle_rounds times (a
    visitor's request after a pause). Between requests the process waits on stdin: no thread of it runs.
    """
    from transformers import AutoTokenizer

    run = Path(run_path)
    info = json.loads((run / "run.json").read_text())
    max_length = int((info.get("params") or {}).get("max_length") or 128)
    tok = AutoTokenizer.from_pretrained(run)
    if backend == "pytorch":
        import torch
        from transformers import AutoModelForSequenceClassification

        model = AutoModelForSequenceClassification.from_pretrained(run).eval()

        def call(text: str) -> None:
            with torch.inference_mode():
                model(**tok([text], truncation=True, max_length=max_length, return_tensors="pt"))

        threads = torch.get_num_threads()
    else:
        import onnxruntime as ort

        # Default options: ORT picks the threads (one per physical core) and spins, as a user's script would.
        model = backend if backend.endswith(".onnx") else str(predictors.onnx_file(run, backend))
        session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])

        def call(text: str) -> None:
            session.run(None, dict(tok([text], truncation=True, max_length=max_length, return_tensors="np")))

        threads = session.get_session_options().intra_op_num_threads
    print(json.dumps({"ready": True, "threads": threads}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        sets, calls, warmup = req["sets"], req["calls"], req["warmup"]
        samples: dict[str, list[float]] = {}
        for key, texts in sets.items():
            for i in range(warmup):
                call(texts[i % len(texts)])
            samples[key] = []
            for i in range(calls):
                text = texts[i % len(texts)]
                start = time.perf_counter()
                call(text)
                samples[key].append(time.perf_counter() - start)
        first = next(iter(sets.values()))
        first_calls = []
        for r in range(req["idle_rounds"]):
            time.sleep(config.COMPARE_IDLE_S)
            start = time.perf_counter()
            call(first[r % len(first)])
            first_calls.append(time.perf_counter() - start)
        print(json.dumps({"samples": samples, "first_calls": first_calls}), flush=True)


class AloneWorker:
    """One back-end alone in its own process (see _alone_worker), loaded once and timed on request.

    Kept for the whole benchmark, so an alone measurement can sit right next to the dashboard's in time
    (the machine drifts by tens of percent within minutes) without a model load between them; backend may
    be an .onnx path.
    """

    def __init__(self, run_path: Path, backend: str) -> None:
        cmd = [sys.executable, __file__, "alone-worker", str(run_path), backend]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.threads = int(self._answer()["threads"])

    def _answer(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:  # anything a library printed before the answer is skipped
            if line.startswith("{"):
                return json.loads(line)
        raise RuntimeError(f"the alone worker exited with {self.proc.wait()}")

    def measure(self, sets: dict[str, list[str]], calls: int, warmup: int, idle_rounds: int = 0) -> dict[str, Any]:
        """{"p50_ms": {set: p50}, "first_call_ms": median or None, "threads": n}."""
        assert self.proc.stdin is not None
        req = {"sets": sets, "calls": calls, "warmup": warmup, "idle_rounds": idle_rounds}
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        result = self._answer()
        return {
            "p50_ms": {key: p50_ms(s) for key, s in result["samples"].items()},
            "first_call_ms": p50_ms(result["first_calls"]) if result["first_calls"] else None,
            "threads": self.threads,
        }

    def close(self) -> None:
        """End the process (stdin closed: it leaves its loop)."""
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# ---- the dashboard's method before issue 24, for the record ----------------------------------------


def cold_block_latency(loaded: dict[str, Any], texts: list[str], repeats: int, warmup: int) -> dict[str, float]:
    """p50 ms as compare timed before issue 24: one call per text per block, the first after the rest timed."""
    samples = timing.time_latency(loaded, texts, repeats, warmup, min_calls=1, wake_calls=0)
    return {b: p50_ms(s) for b, s in samples.items()}


# ---- the block's own bias: are the timed calls after the wake-up call already steady? ------------------


def block_profile(loaded: dict[str, Any], text: str, blocks: int, calls: int, rest_s: float) -> dict[str, Any]:
    """Per back-end, the median latency at each position of a long block after a rest (position 0: the wake-up).

    Compare times positions 1..COMPARE_BLOCK_CALLS; the tail (the last half of a block of `calls`) is the
    steady state they should match.
    """
    # Compare's own block loop (rest, rotation), with no wake-up call: position 0 is the first call after the rest.
    samples = timing.time_latency(loaded, [text], blocks, warmup=0, rest_s=rest_s, min_calls=calls, wake_calls=0)
    names = list(loaded)
    pos = {b: [samples[b][i::calls] for i in range(calls)] for b in names}
    out = {}
    for b in names:
        med = [p50_ms(x) for x in pos[b]]
        timed = float(np.median(med[1 : 1 + config.COMPARE_BLOCK_CALLS]))
        tail = float(np.median(med[calls // 2 :]))
        out[b] = {"positions_ms": med, "timed_ms": timed, "tail_ms": tail, "timed_over_tail": timed / tail}
    return out


# ---- spinning both ways ------------------------------------------------------------------------------


def spinning(
    run_path: Path, backends: list[str], lat_texts: list[str], thr_texts: list[str], repeats: int, neighbour: bool
) -> dict[str, dict[str, float]]:
    """Per variant, spinning on vs off: p50 ms at batch 1 and texts/s at batch 32 (blocks, order rotated).

    neighbour=True runs a busy loop on one core meanwhile, as a training job next to the app would.
    """
    threads = hardware.usable_cpus()
    loaded = {
        f"{b} {tag}": predictors.OnnxPredictor(run_path, b, policy=hardware.OrtPolicy(threads, spin, "probe"))
        for b in backends
        for tag, spin in (("spin", True), ("no-spin", False))
    }
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if neighbour else None
    try:
        lat = timing.time_latency(loaded, lat_texts, repeats, warmup=3)
        thr = timing.time_throughput(loaded, thr_texts, 32, warmup=1)
    finally:
        if burner is not None:
            burner.kill()
            burner.wait()
    out: dict[str, dict[str, float]] = {}
    for b in backends:
        on, off = f"{b} spin", f"{b} no-spin"
        out[b] = {
            "p50_ms_spin": p50_ms(lat[on]),
            "p50_ms_no_spin": p50_ms(lat[off]),
            "texts_per_s_spin": thr[on],
            "texts_per_s_no_spin": thr[off],
        }
    return out


# ---- served path vs bare session.run -------------------------------------------------------------


def overhead(name: str, root: Path | None, backend: str, texts: list[str], repeats: int) -> dict[str, Any]:
    """p50 of service.predict (the /predict endpoint's function) vs tokenizer + session.run on the same session."""
    from bertdemo import service

    p = predictors.load_predictor(name, backend, root)
    tok, session, max_length = p.tokenizer, p.session, p.max_length

    def bare(text: str) -> None:
        session.run(None, dict(tok([text], truncation=True, max_length=max_length, return_tensors="np")))

    def served(text: str) -> None:
        service.predict(name, text, backend, root)

    ways = {"bare": bare, "served": served}
    for fn in ways.values():
        for text in texts[:5]:
            fn(text)
    samples: dict[str, list[float]] = {k: [] for k in ways}
    for r in range(repeats):
        order = list(ways) if r % 2 == 0 else list(ways)[::-1]
        for text in texts:
            for k in order:
                start = time.perf_counter()
                ways[k](text)
                samples[k].append(time.perf_counter() - start)
    bare_ms, served_ms = p50_ms(samples["bare"]), p50_ms(samples["served"])
    return {
        "bare_p50_ms": bare_ms,
        "served_p50_ms": served_ms,
        "ratio": served_ms / bare_ms,
        "overhead_us": (served_ms - bare_ms) * 1e3,
        "threads": p.threads,
        "spinning": p.spinning,
    }


def fused_ops(path: Path) -> dict[str, int]:
    """How many nodes of the operators that tell a fused or quantized BERT graph apart."""
    import onnx

    counts = collections.Counter(n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node)
    keys = ("Attention", "QAttention", "SkipLayerNormalization", "BiasGelu", "MatMulInteger", "MatMul")
    return {"nodes": sum(counts.values()), **{k: counts.get(k, 0) for k in keys}}


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "alone-worker":
    _alone_worker(sys.argv[2], sys.argv[3])
