"""One interface for every back-end of a saved run: PyTorch eager and the ONNX Runtime variants."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bertdemo import config, store
from bertdemo.errors import ExportError, ModelLoadError, NotExported, UnknownBackend

# ort_threads, torch_serve_threads and usable_cpus are imported from here by app.py and bench/.
from bertdemo.hardware import OrtPolicy, ort_policy, ort_threads, torch_serve_threads, usable_cpus  # noqa: F401
from bertdemo.tokenizing import encode

log = logging.getLogger(__name__)

ONNX_BACKENDS = tuple(b for b in config.BACKENDS if b != "pytorch")
_EXPORT_FLAGS = {"onnx-optimized": " --optimize", "onnx-int8": " --quantize"}


@dataclass
class Prediction:
    """Answers for a list of texts, in the order given."""

    labels: list[str]  # predicted label per text
    probabilities: np.ndarray  # (n_texts, n_classes) softmax
    logits: np.ndarray  # (n_texts, n_classes)
    label_names: list[str]  # class names in column order


class Predictor(Protocol):
    """What every back-end offers."""

    backend: str
    label_names: list[str]
    device: str

    def predict(self, texts: list[str], batch_size: int = config.PREDICT_BATCH_SIZE) -> Prediction:
        """Classify texts."""
        ...


def check_backend(backend: str) -> str:
    """Return backend if bertdemo knows it, else raise UnknownBackend listing the valid ones."""
    if backend not in config.BACKENDS:
        raise UnknownBackend(f"Unknown back-end {backend!r}: choose one of {', '.join(config.BACKENDS)}.")
    return backend


def onnx_file(run_path: Path, backend: str) -> Path:
    """Where a variant's .onnx file lives inside a run folder."""
    return Path(run_path) / config.ONNX_SUBDIR / config.ONNX_FILES[backend]


def ort_providers(backend: str) -> list[str]:
    """CUDA first when onnxruntime-gpu can use it; int8 always stays on CPU (its kernels are CPU-only)."""
    import onnxruntime as ort

    if backend != "onnx-int8" and "CUDAExecutionProvider" in ort.get_available_providers():
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax (numpy: a few microseconds, where scipy's costs tens per call)."""
    z = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


class _TextClassifier:
    """What all back-ends share: the run's tokenizer and labels, batching, softmax."""

    backend = ""
    device = "cpu"

    def __init__(self, run_path: Path):
        from transformers import AutoTokenizer

        self.run_path = Path(run_path)
        with open(self.run_path / store.RUN_JSON, encoding="utf-8") as fh:
            info = json.load(fh)
        params = info.get("params") or {}
        # Predict exactly as the run was trained: same length, same truncation.
        self.max_length = int(params.get("max_length") or config.DEFAULT_MAX_LENGTH)
        self.truncation = str(params.get("truncation") or config.DEFAULT_TRUNCATION)
        self.label_names: list[str] = [str(x) for x in info.get("labels") or []] or self._config_labels()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.run_path)
        except (OSError, ValueError) as exc:
            raise ModelLoadError(
                f"The tokenizer of run {self.run_path.name!r} cannot be loaded: {_first_line(exc)}"
            ) from exc
        # A fast tokenizer is not thread-safe (its truncation/padding state is shared): 'Already borrowed'.
        self._tokenizer_lock = threading.Lock()

    def _config_labels(self) -> list[str]:
        with open(self.run_path / "config.json", encoding="utf-8") as fh:
            id2label = json.load(fh).get("id2label") or {}
        return [str(id2label[k]) for k in sorted(id2label, key=int)]

    def _check_outputs(self) -> None:
        """One forward pass at load time: warms the back-end up and catches a label/model mismatch early."""
        logits = self._forward(self._encode(["warm-up"]))
        if logits.shape[-1] != len(self.label_names):
            raise ModelLoadError(
                f"Run {self.run_path.name!r} has {len(self.label_names)} labels in run.json but its "
                f"{self.backend} model outputs {logits.shape[-1]} classes: retrain or re-export it."
            )

    def _encode(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The run's tokenization: truncation at params.max_length, padding to the batch's longest text."""
        # One text needs no padding: then it is the same single tokenizer call a bare script makes (pad costs ~0.1 ms).
        with self._tokenizer_lock:
            enc = encode(
                self.tokenizer, texts, self.max_length, self.truncation, padding=len(texts) > 1, return_tensors="np"
            )
        # The tokenizer already returns int64 arrays: asarray then costs nothing.
        return {k: np.asarray(v, dtype=np.int64) for k, v in enc.items()}

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens per text after truncation, as predict sees them."""
        with self._tokenizer_lock:
            enc = encode(self.tokenizer, as_texts(texts), self.max_length, self.truncation)
        return [len(ids) for ids in enc["input_ids"]]

    def _forward(self, enc: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def predict(self, texts: list[str], batch_size: int = config.PREDICT_BATCH_SIZE) -> Prediction:
        """Classify texts in batches; answers come back in the order given."""
        texts = as_texts(texts)
        batch_size = max(1, int(batch_size))
        if not texts:
            empty = np.zeros((0, len(self.label_names)), dtype=np.float32)
            return Prediction(labels=[], probabilities=empty, logits=empty.copy(), label_names=list(self.label_names))
        if len(texts) <= batch_size:
            # One batch (a served request): no sorting, no copies; this path is timed against a bare session.run.
            logits = self._forward(self._encode(texts))
        else:
            logits = np.zeros((len(texts), len(self.label_names)), dtype=np.float32)
            # Texts of similar length share a batch, so little compute goes into padding.
            order = np.argsort([len(t) for t in texts], kind="stable")
            for start in range(0, len(texts), batch_size):
                idx = order[start : start + batch_size]
                logits[idx] = self._forward(self._encode([texts[i] for i in idx]))
        names = self.label_names
        return Prediction(
            labels=[names[i] for i in logits.argmax(axis=-1)],
            probabilities=softmax(logits),
            logits=logits,
            label_names=list(names),
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.run_path.name!r}, backend={self.backend!r}, device={self.device!r})"


class TorchPredictor(_TextClassifier):
    """PyTorch eager: AutoModelForSequenceClassification in eval mode, on CUDA when available."""

    backend = "pytorch"

    def __init__(self, run_path: Path, device: str | None = None):
        import torch
        from transformers import AutoModelForSequenceClassification

        super().__init__(run_path)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            model = AutoModelForSequenceClassification.from_pretrained(self.run_path)
        except (OSError, ValueError) as exc:
            raise ModelLoadError(
                f"The model of run {self.run_path.name!r} cannot be loaded: {_first_line(exc)}"
            ) from exc
        self.model = model.to(self.device).eval()
        self._check_outputs()

    def _forward(self, enc: dict[str, np.ndarray]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            inputs = {k: torch.from_numpy(v).to(self.device) for k, v in enc.items()}
            return self.model(**inputs).logits.float().cpu().numpy()


class OnnxPredictor(_TextClassifier):
    """An ONNX Runtime session on one exported variant, with explicit thread and spinning settings."""

    def __init__(
        self,
        run_path: Path,
        backend: str = "onnx",
        model_path: Path | None = None,
        threads: int | None = None,
        policy: OrtPolicy | None = None,
    ):
        import onnxruntime as ort

        if backend not in ONNX_BACKENDS:
            raise UnknownBackend(f"{backend!r} is not an ONNX back-end: choose one of {', '.join(ONNX_BACKENDS)}.")
        super().__init__(run_path)
        self.backend = backend
        self.model_path = Path(model_path) if model_path else onnx_file(self.run_path, backend)
        self.policy = policy or ort_policy()
        options = ort.SessionOptions()
        # Explicit, not ORT's guess: intra-op threads split each matmul; one graph branch at a time.
        options.intra_op_num_threads = threads or self.policy.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Spinning only where the session owns the cores (bertdemo.hardware.ort_policy says when).
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if self.policy.spinning else "0")
        try:
            self.session = ort.InferenceSession(str(self.model_path), options, providers=ort_providers(backend))
        except Exception as exc:  # onnxruntime raises its own (non-public) exception types
            raise ExportError(
                f"The {backend} model of run {self.run_path.name!r} cannot be loaded ({_first_line(exc)}): "
                f"export it again (python -m bertdemo export {self.run_path.name})."
            ) from exc
        self.threads = options.intra_op_num_threads
        self.spinning = self.policy.spinning
        self.providers = self.session.get_providers()
        self.device = "cuda" if self.providers[0] == "CUDAExecutionProvider" else "cpu"
        self._inputs = [i.name for i in self.session.get_inputs()]
        self._outputs = [self.session.get_outputs()[0].name]
        self._check_outputs()

    def _forward(self, enc: dict[str, np.ndarray]) -> np.ndarray:
        # The graph may want token_type_ids that a tokenizer does not return: zeros, as ORTModel does.
        feed = {name: enc[name] if name in enc else np.zeros_like(enc["input_ids"]) for name in self._inputs}
        logits = self.session.run(self._outputs, feed)[0]
        return logits if logits.dtype == np.float32 else logits.astype(np.float32)


def as_texts(texts: Any) -> list[str]:
    """A list of strings; a lone string is one text (not a list of characters); very long texts are cut."""
    if isinstance(texts, str):
        texts = [texts]
    # 20k characters is far more than max_length tokens; cutting first keeps tokenization cheap.
    return ["" if t is None else str(t)[: config.MAX_TEXT_CHARS] for t in texts]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ---- cache ------------------------------------------------------------------------------------

# Least recently used first; at most config.PREDICTOR_CACHE_SIZE entries, so a server that has been asked
# about many runs keeps the back-ends in use, not every model it ever loaded.
_cache: OrderedDict[tuple[str, str], tuple[tuple[int, int], Predictor]] = OrderedDict()
_cache_lock = threading.Lock()
_load_locks: dict[tuple[str, str], threading.Lock] = {}
# (name as asked, models folder, back-end) -> cache key, for names already resolved once: a served request
# then costs one stat of run.json instead of store.run_dir's path checks (~0.2-0.6 ms on a busy 2-core box).
_resolved: dict[tuple[str, str, str], tuple[str, str]] = {}


def _stamp(run_path: Path) -> tuple[int, int]:
    """run.json's mtime and inode: a re-exported, deleted or recreated run gets a new stamp."""
    st = (run_path / store.RUN_JSON).stat()
    return st.st_mtime_ns, st.st_ino


def require_export(name: str, run_path: Path, backend: str) -> Path:
    """The variant's .onnx file, or NotExported saying which export command makes it."""
    path = onnx_file(run_path, backend)
    if path.is_file():
        return path
    if backend == "onnx" or not onnx_file(run_path, "onnx").is_file():
        raise NotExported(f"Run {name!r} has no ONNX export yet: export it first (python -m bertdemo export {name}).")
    raise NotExported(
        f"Run {name!r} has no {backend} variant: export it again with{_EXPORT_FLAGS.get(backend, '')} "
        f"(python -m bertdemo export {name}{_EXPORT_FLAGS.get(backend, '')})."
    )


def make_predictor(run_path: Path, backend: str, policy: OrtPolicy | None = None) -> Predictor:
    """A new, uncached predictor (compare times its own, with the thread policy of a process that owns the cores)."""
    return TorchPredictor(run_path) if backend == "pytorch" else OnnxPredictor(run_path, backend, policy=policy)


def _cached(key: tuple[str, str], stamp: tuple[int, int]) -> Predictor | None:
    """The cached predictor for key if still current, marked as most recently used (caller holds _cache_lock)."""
    hit = _cache.get(key)
    if hit is None or hit[0] != stamp:
        return None
    _cache.move_to_end(key)
    return hit[1]


def load_predictor(name: str, backend: str = "pytorch", root: Path | None = None) -> Predictor:
    """The predictor for a saved run and back-end, loaded once and cached (thread-safe, least recently used out)."""
    asked = (str(name), str(root if root is not None else config.MODELS_DIR), backend)
    known = _resolved.get(asked)
    if known is not None:
        try:
            st = os.stat(os.path.join(known[0], store.RUN_JSON))
            stamp = (st.st_mtime_ns, st.st_ino)
        except OSError:  # deleted: the full lookup below says so
            stamp = None
        with _cache_lock:
            hit = _cached(known, stamp) if stamp is not None else None
        if hit is not None:
            return hit
    check_backend(backend)
    run_path = store.run_dir(name, root)
    if backend != "pytorch":
        require_export(name, run_path, backend)
    key = (str(run_path), backend)
    try:
        stamp = _stamp(run_path)
    except FileNotFoundError:  # deleted since run_dir looked: say so the usual way
        store.run_dir(name, root)
        raise
    with _cache_lock:
        hit = _cached(key, stamp)
        if hit is not None:
            return hit
        load_lock = _load_locks.setdefault(key, threading.Lock())
    # One load per key at a time: ten requests arriving together load the model once.
    with load_lock:
        with _cache_lock:
            hit = _cached(key, stamp)
            if hit is not None:
                return hit
            _cache.pop(key, None)  # drop a stale model before loading the new one: never two in memory
            # Make room first, so the cache never holds more than its size, even while loading.
            while len(_cache) >= max(1, config.PREDICTOR_CACHE_SIZE):
                old = _evict_oldest()
                log.info("unloading %s predictor for %s (cache holds %d)", old[1], old[0], config.PREDICTOR_CACHE_SIZE)
        log.info("loading %s predictor for run %s", backend, run_path.name)
        predictor = make_predictor(run_path, backend)
        with _cache_lock:
            _cache[key] = (stamp, predictor)
            _resolved[asked] = key
            while len(_cache) > max(1, config.PREDICTOR_CACHE_SIZE):  # two loads of different keys raced
                _evict_oldest()
    return predictor


def _evict_oldest() -> tuple[str, str]:
    """Drop the least recently used predictor and what points at it (caller holds _cache_lock)."""
    old, _ = _cache.popitem(last=False)
    _load_locks.pop(old, None)
    _forget(lambda key: key == old)
    return old


def _forget(match) -> None:
    for asked in [a for a, key in _resolved.items() if match(key)]:
        del _resolved[asked]


def cached_predictors() -> list[tuple[str, str]]:
    """(run folder, back-end) of every cached predictor, least recently used first."""
    with _cache_lock:
        return list(_cache)


def clear_cache(name: str | None = None) -> None:
    """Forget cached predictors: all of them, or those of one run name (in any models folder)."""
    with _cache_lock:
        if name is None:
            _cache.clear()
            _resolved.clear()
            return
        clean = store.sanitize_name(name)
        for key in [k for k in _cache if Path(k[0]).name == clean]:
            del _cache[key]
        _forget(lambda key: Path(key[0]).name == clean)
