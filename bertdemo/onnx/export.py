"""Export a saved run to ONNX with Optimum, optimize and quantize it, and check every variant against PyTorch."""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from bertdemo import config, hardware
from bertdemo.errors import BertDemoError, ExportError, first_line
from bertdemo.inference import predictors
from bertdemo.metrics import scores
from bertdemo.onnx.compare import backend_size_mb, file_size_mb, validation_texts
from bertdemo.runs import store
from bertdemo.runs.modelcard import write_model_card
from bertdemo.tokenizing import load_classifier, model_loading, run_tokenizer

log = logging.getLogger(__name__)


class _QuietQuantizer(logging.Filter):
    """Drop onnxruntime's quantizer notes below WARNING.

    It logs on the root logger (logging.info), one line per untyped tensor of a fused graph ("returns
    DefaultTensorType") and per MatMul it skips: hundreds of lines per export in an app logging at INFO.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        quantizer = f"onnxruntime{os.sep}quantization{os.sep}" in record.pathname
        return record.levelno >= logging.WARNING or not quantizer


_QUIET_QUANTIZER = _QuietQuantizer()
# A filter on a logger sees the records made by that logger only: the quantizer's, here, not the app's.
logging.getLogger().addFilter(_QUIET_QUANTIZER)

ExportProgress = Callable[[float, str], None]
_CHECK_START, _CHECK_END = 0.6, 0.95  # share of the progress bar spent checking variants


def export_run(
    name: str,
    optimize: bool = False,
    quantize: bool = False,
    root: Path | None = None,
    progress: ExportProgress | None = None,
) -> dict[str, Any]:
    """Export models/<name>/onnx/ (fp32, plus optimized and int8 if asked), check it, and record it in run.json.

    Everything is written to a staging folder first and renamed into place, so a half-written
    export never appears and an older one is replaced whole. A variant that does not match
    PyTorch is reported ("passed": false) with its numbers, not raised.
    """
    run_path = store.run_dir(name, root)
    report = progress or (lambda fraction, message: None)
    target = _target()
    level = config.ONNX_OPT_LEVEL_CUDA if target == "cuda" else config.ONNX_OPT_LEVEL_CPU
    preset = hardware.int8_preset()
    staging = store.staging_dir(root)
    try:
        report(0.0, "Exporting to ONNX (fp32)")
        _export_fp32(name, run_path, staging)
        files = {"onnx": staging / config.ONNX_FILES["onnx"]}
        if optimize:
            report(0.3, f"Optimizing the graph ({level})")
            files["onnx-optimized"] = _optimize(name, staging, level, target)
        # int8 is built from the O2 graph when there is one (fused attention becomes QAttention): faster at
        # batch 1 than int8 of the plain graph, about as fast at batch 32, and closer to PyTorch
        # (bench/infer_bench.py's variants table, bench/results/infer.md). O4 (CUDA) is fp16: never quantized.
        int8_source = "onnx-optimized" if optimize and level == "O2" else "onnx"
        if quantize:
            report(0.45, f"Quantizing to int8 ({preset}, from {int8_source})")
            dest = staging / config.ONNX_FILES["onnx-int8"]
            if int8_source == "onnx-optimized":
                files["onnx-int8"] = quantize_fused_graph(files["onnx-optimized"], dest, preset)
            else:
                files["onnx-int8"] = quantize_plain_graph(name, staging, dest, preset)
        checks = check_variants(name, files, root, fp16=(optimize and level == "O4"), progress=report)
        report(_CHECK_END, "Saving the export")
        _replace(staging, run_path / config.ONNX_SUBDIR, root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already after a successful replace

    import onnxruntime

    exports = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpu": hardware.cpu_info().name,
        "target": target,
        "optimization": level if optimize else None,
        "int8_preset": preset if quantize else None,
        "int8_per_channel": config.INT8_PER_CHANNEL if quantize else None,
        "int8_source": int8_source if quantize else None,
        "onnxruntime": onnxruntime.__version__,
        **checks,
        "passed": all(v["passed"] for v in checks["variants"].values()),
    }
    write_model_card(run_path, store.update_run(name, {"exports": exports}, root))  # the card lists the variants
    predictors.clear_cache(name)  # free the old sessions now rather than at the next load
    report(1.0, "Export done" if exports["passed"] else "Export done, but a check failed: see the report")
    return exports


def check_variants(
    name: str,
    files: dict[str, Path],
    root: Path | None = None,
    fp16: bool = False,
    progress: ExportProgress | None = None,
) -> dict[str, Any]:
    """Compare each ONNX file with PyTorch on the run's validation texts: logits, labels, accuracy, size."""
    report = progress or (lambda fraction, message: None)
    run_path = store.run_dir(name, root)
    texts, gold = validation_texts(run_path, config.EXPORT_CHECK_MAX_TEXTS)
    source = store.VALIDATION_CSV
    if store.load_run(name, root).get("refit"):  # trained on its validation rows too: no accuracy to claim there
        gold, source = [], f"{store.VALIDATION_CSV} (trained on; agreement only)"
    if not texts:
        texts, gold, source = list(config.EXPORT_FALLBACK_TEXTS), [], "built-in sentences"
    report(_CHECK_START, f"Running PyTorch on {len(texts)} {source} texts")
    reference = predictors.load_predictor(name, "pytorch", root).predict(texts)
    variants: dict[str, dict[str, Any]] = {}
    for i, (variant, path) in enumerate(files.items()):
        report(_CHECK_START + (_CHECK_END - _CHECK_START) * (i + 1) / (len(files) + 1), f"Checking {variant}")
        pred = predictors.OnnxPredictor(run_path, variant, model_path=path).predict(texts)
        diff = float(np.max(np.abs(pred.logits - reference.logits)))
        agreement = float(np.mean([a == b for a, b in zip(pred.labels, reference.labels, strict=True)]))
        criterion, passed = _criterion(variant, fp16, diff, agreement)
        if not passed:
            log.warning(
                "run %s: %s check failed (max |diff| %.3g, agreement %.4f; needs %s)",
                name,
                variant,
                diff,
                agreement,
                criterion,
            )
        variants[variant] = {
            "file": f"{config.ONNX_SUBDIR}/{path.name}",
            "size_mb": file_size_mb(path),
            "max_abs_diff": diff,
            "agreement": agreement,
            **scores(pred.labels, gold),
            "passed": passed,
            "criterion": criterion,
        }
    pytorch = {"size_mb": backend_size_mb(run_path, "pytorch"), **scores(reference.labels, gold)}
    return {
        "checked_texts": len(texts),
        "check_source": source,
        "atol": config.ONNX_ATOL,
        "variants": variants,
        "pytorch": pytorch,
    }


def _criterion(variant: str, fp16: bool, diff: float, agreement: float) -> tuple[str, bool]:
    """What a variant must meet: logits within a tolerance (fp32), or label agreement (int8, fp16)."""
    if variant == "onnx-int8" or (variant == "onnx-optimized" and fp16):
        return f"agreement >= {config.LOW_PRECISION_MIN_AGREEMENT:g}", agreement >= config.LOW_PRECISION_MIN_AGREEMENT
    atol = config.ONNX_ATOL if variant == "onnx" else config.ONNX_OPTIMIZED_ATOL
    return f"max_abs_diff <= {atol:g}", bool(diff <= atol)  # NaN fails


def _export_fp32(name: str, run_path: Path, out: Path) -> None:
    """Optimum's exporter: model.onnx with dynamic batch and sequence axes, plus config and tokenizer."""
    from optimum.exporters.onnx import main_export

    # Validation is ours (check_variants, on real texts), so Optimum's random-input one is skipped.
    with _wrapped(f"ONNX export of run {name!r} failed"), model_loading():  # it loads the PyTorch model first
        if _mean_pool(run_path):  # main_export would load the [CLS]-pooler class: export the run's own model
            _export_mean_pool(run_path, out)
        else:
            main_export(
                str(run_path),
                output=out,
                task="text-classification",
                device="cpu",
                do_validation=False,
                library_name="transformers",
                local_files_only=True,
            )
    if not (out / config.ONNX_FILES["onnx"]).is_file():
        raise ExportError(f"ONNX export of run {name!r} wrote no {config.ONNX_FILES['onnx']}.")


def _export_mean_pool(run_path: Path, out: Path) -> None:
    """Optimum's export of a mean-pooling run with the BERT ONNX config (same inputs, same `logits` output).

    Optimum's front doors infer the library from the class's module, which is bertdemo's here, so this calls its
    exporter with the config it would have picked for a BERT text classifier; the checks that follow are the same.
    """
    from optimum.exporters.onnx import export
    from optimum.exporters.onnx.model_configs import BertOnnxConfig

    model = load_classifier(run_path).eval()
    onnx_config = BertOnnxConfig(model.config, task="text-classification")
    out.mkdir(parents=True, exist_ok=True)
    export(model, onnx_config, out / config.ONNX_FILES["onnx"], opset=onnx_config.DEFAULT_ONNX_OPSET, device="cpu")
    model.config.save_pretrained(out)
    run_tokenizer(run_path).save_pretrained(out)


def _mean_pool(run_path: Path) -> bool:
    """True when the run's config.json says its classifier reads mean-pooled vectors (bertdemo.meanpool)."""
    import json

    from bertdemo import meanpool  # torch: only when exporting

    try:
        saved = json.loads((run_path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return saved.get(meanpool.POOLING_KEY) == "mean"


def _optimize(name: str, staging: Path, level: str, target: str) -> Path:
    """ORTOptimizer at `level` (O2 fusions on CPU; O4 adds fp16 and is used only for a CUDA target)."""
    from optimum.onnxruntime import ORTOptimizer
    from optimum.onnxruntime.configuration import AutoOptimizationConfig

    scratch = staging / ".optimized"
    with _wrapped(f"Graph optimization ({level}) of run {name!r} failed"):
        opt = AutoOptimizationConfig.with_optimization_level(level, for_gpu=target == "cuda")
        ORTOptimizer.from_pretrained(staging, file_names=[config.ONNX_FILES["onnx"]]).optimize(
            opt, save_dir=scratch, file_suffix="optimized"
        )
    return _adopt(scratch, staging / config.ONNX_FILES["onnx-optimized"])


def int8_config(preset: str) -> Any:
    """Optimum's dynamic int8 configuration for a CPU preset ('avx512_vnni': s8 weights, 'avx2': u8 weights)."""
    from optimum.onnxruntime.configuration import AutoQuantizationConfig

    return getattr(AutoQuantizationConfig, preset)(is_static=False, per_channel=config.INT8_PER_CHANNEL)


def quantize_plain_graph(name: str, folder: Path, dest: Path, preset: str) -> Path:
    """Optimum's ORTQuantizer, dynamic int8 with the CPU's preset (avx512_vnni or avx2), of folder/model.onnx.

    The int8 variant where there is no O2 graph; bench/infer_bench.py also measures it against int8 of O2.
    """
    from optimum.onnxruntime import ORTQuantizer

    scratch = Path(dest).parent / f".quantized-{Path(dest).stem}"
    with _wrapped(f"int8 quantization ({preset}) of run {name!r} failed"):
        qconfig = int8_config(preset)
        ORTQuantizer.from_pretrained(folder, file_name=config.ONNX_FILES["onnx"]).quantize(qconfig, save_dir=scratch)
    return _adopt(scratch, Path(dest))


def quantize_fused_graph(src: Path, dest: Path, preset: str) -> Path:
    """Dynamic int8 of an already optimized graph (fused Attention becomes QAttention), written to dest.

    Optimum's ORTQuantizer fails on the fused graph (shape inference knows no types for com.microsoft
    operators), so this calls onnxruntime's quantize_dynamic and tells it the untyped tensors are float.
    The weight type and symmetry are the CPU preset's, as Optimum's quantizer would use them: s8 weights
    on a VNNI CPU (its u8 x s8 dot-product instructions; u8 weights there ran ~1.5x slower at batch 1,
    bench/infer_bench.py), u8 on AVX2 (whose u8 x s8 multiply-add can saturate).
    """
    import onnx
    from onnxruntime.quantization import quantize_dynamic

    qconfig = int8_config(preset)
    with _wrapped(f"int8 quantization ({preset}) of {Path(src).name} failed"):
        quantize_dynamic(
            str(src),
            str(dest),
            per_channel=qconfig.per_channel,
            reduce_range=qconfig.reduce_range,
            weight_type=qconfig.weights_dtype,
            extra_options={
                "DefaultTensorType": onnx.TensorProto.FLOAT,
                "WeightSymmetric": qconfig.weights_symmetric,
                "ActivationSymmetric": qconfig.activations_symmetric,
            },
        )
    return Path(dest)


def _adopt(scratch: Path, dest: Path) -> Path:
    """Move the one .onnx file an Optimum tool wrote to `scratch` to `dest`, and drop the rest."""
    made = sorted(scratch.glob("*.onnx"))
    if len(made) != 1:
        raise ExportError(f"Expected one ONNX file in {scratch.name}, found {len(made)}.")
    os.replace(made[0], dest)
    shutil.rmtree(scratch, ignore_errors=True)  # config and tokenizer copies: the staging folder has them
    return dest


def _replace(staging: Path, target: Path, root: Path | None) -> None:
    """Rename staging to target; an older export is moved aside first and deleted after.

    A directory cannot be renamed over a non-empty one, so there is a moment with no onnx/ folder
    but never a mixed or half-written one. The old folder keeps the staging prefix (and our pid)
    so store.sweep_staging removes it if we die before deleting it.
    """
    old = None
    try:
        if target.exists():
            old = store.models_dir(root) / f"{config.TMP_PREFIX}{os.getpid()}-old-{target.parent.name}-{time.time_ns()}"
            os.rename(target, old)
        try:
            os.rename(staging, target)
        except OSError:
            if old is not None:
                os.rename(old, target)  # put the previous export back
                old = None
            raise
    except OSError as exc:
        raise ExportError(f"Could not move the export into {target}: {exc.strerror or exc}.") from exc
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _target() -> str:
    """'cuda' when both PyTorch and onnxruntime-gpu can use a GPU, else 'cpu'."""
    import onnxruntime as ort
    import torch

    return "cuda" if torch.cuda.is_available() and "CUDAExecutionProvider" in ort.get_available_providers() else "cpu"


@contextmanager
def _wrapped(what: str) -> Iterator[None]:
    """Turn a library failure into a one-line ExportError; our own errors pass through."""
    try:
        yield
    except BertDemoError:
        raise
    except Exception as exc:  # Optimum, onnx and onnxruntime raise many unrelated types
        raise ExportError(f"{what}: {first_line(exc)}") from exc
