"""The back-ends of a saved run behind one interface: PyTorch eager and the ONNX Runtime variants."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bertdemo import config
from bertdemo.data.labeled import clip_text
from bertdemo.errors import ExportError, ModelLoadError, UnknownBackend, first_line
from bertdemo.hardware import OrtPolicy, ort_policy
from bertdemo.metrics import softmax
from bertdemo.runs import store
from bertdemo.runs.records import upgrade_run
from bertdemo.tokenizing import encode

log = logging.getLogger(__name__)

ONNX_BACKENDS = tuple(b for b in config.BACKENDS if b != "pytorch")


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


class _TextClassifier:
    """What all back-ends share: the run's tokenizer and labels, batching, softmax."""

    backend = ""
    device = "cpu"

    def __init__(self, run_path: Path):
        from transformers import AutoTokenizer

        self.run_path = Path(run_path)
        with open(self.run_path / store.RUN_JSON, encoding="utf-8") as fh:
            info = json.load(fh)
        params = upgrade_run(info)["params"]  # older run.json files: the settings they were trained with
        # Predict exactly as the run was trained: same length, same truncation.
        self.max_length = int(params["max_length"])
        self.truncation = str(params["truncation"])
        self.label_names: list[str] = [str(x) for x in info.get("labels") or []] or self._config_labels()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.run_path)
        except (OSError, ValueError) as exc:
            raise ModelLoadError(
                f"The tokenizer of run {self.run_path.name!r} cannot be loaded: {first_line(exc)}"
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
                self.tokenizer,
                texts,
                self.max_length,
                self.truncation,
                padding=len(texts) > 1,
                return_tensors="np",
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
            return Prediction(
                labels=[],
                probabilities=empty,
                logits=empty.copy(),
                label_names=list(self.label_names),
            )
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
                f"The model of run {self.run_path.name!r} cannot be loaded: {first_line(exc)}"
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
                f"The {backend} model of run {self.run_path.name!r} cannot be loaded ({first_line(exc)}): "
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
    return ["" if t is None else clip_text(str(t)) for t in texts]
