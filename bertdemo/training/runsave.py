"""Save a trained model as a complete run (weights, tokenizer, validation rows, audit, model card, run.json)."""

from __future__ import annotations

import platform
import shutil
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bertdemo import config
from bertdemo.data.splits import Split
from bertdemo.errors import BertDemoError, TrainingError
from bertdemo.metrics import final_report, softmax
from bertdemo.runs import store
from bertdemo.runs.modelcard import write_model_card
from bertdemo.training.auditing import audit_split


def report_and_audit(split: Split, val_logits: np.ndarray, seed: int, data_file) -> tuple[dict, dict, list]:
    """The validation report of these logits, and the audit's findings and rows (no training dynamics)."""
    label2id = {lab: i for i, lab in enumerate(split.labels)}
    val_ids = np.array([label2id[y] for y in split.val_labels])
    report = final_report(split.labels, val_ids, val_logits, split.val_texts)
    findings, audited = audit_split(split, None, softmax(val_logits), seed)
    findings["data_file"] = kept_file_name(data_file)
    findings["available"] = True
    return report, findings, audited


def save_run(staging: Path, name: str, root, model, tokenizer, split: Split, info, audited, data_file) -> Path:
    """Write everything into `staging`, then move it into place as models/<name> (only a complete run appears)."""
    try:
        with readable_failures(staging):
            model.save_pretrained(str(staging), safe_serialization=True)
            tokenizer.save_pretrained(str(staging))
            write_validation_csv(staging / store.VALIDATION_CSV, split.val_texts, split.val_labels)
            store.write_json_atomic(staging / store.AUDIT_JSON, {"rows": audited})
            kept = (info.get("audit") or {}).get("data_file")
            if kept:
                shutil.copyfile(data_file, staging / kept)
            write_model_card(staging, info)
            store.write_json_atomic(staging / store.RUN_JSON, info)
        return store.commit_run(staging, name, root, info.get("owner"))  # a visitor's run: its own folder key
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def kept_file_name(data_file: str | Path | None) -> str | None:
    """The name the uploaded file gets inside the run (its compression kept), or None without one."""
    if not data_file or not Path(data_file).is_file():
        return None
    return store.UPLOADED_CSV + (".gz" if str(data_file).lower().endswith(".gz") else "")


@contextmanager
def readable_failures(staging: Path):
    """Turn disk and memory failures into one-line TrainingErrors (the one place that maps write failures)."""
    try:
        yield
    except BertDemoError:
        raise
    except OSError as exc:
        raise store.write_error(staging.parent, exc.strerror or str(exc)) from exc
    except Exception as exc:
        reason = store.write_failure(exc)  # a full disk while safetensors writes weights: not an OSError
        if reason is not None:
            raise store.write_error(staging.parent, reason) from exc
        if isinstance(exc, torch.OutOfMemoryError) or (
            isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
        ):
            raise TrainingError(
                "Ran out of memory while training: lower the batch size or max length, or use a smaller model."
            ) from exc
        raise


def write_validation_csv(path: Path, texts: list[str], labels: list[str]) -> None:
    """The validation rows as a text,label CSV (the run's validation.csv)."""
    import csv

    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        writer.writerows(zip(texts, labels, strict=True))


def run_info(name, base, cfg, split: Split, data_summary, history, report, dev, train_seconds, loss) -> dict[str, Any]:
    """run.json's fields: the run's settings, data, per-epoch `history`, validation `report`, device, versions."""
    import transformers

    n_train = len(split.train_texts)
    epochs_done = len(history) or cfg.epochs
    params = asdict(cfg)
    params["model"] = base.name
    return {
        "schema_version": config.RUN_SCHEMA_VERSION,
        "name": name,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "base_model": base.name,
        "base_model_source": base.source,
        "labels": split.labels,
        "params": params,
        "data": {
            **(data_summary or {}),
            "train_rows": n_train,
            "val_rows": len(split.val_texts),
            "train_class_counts": _counts(split.train_labels),
            "val_class_counts": _counts(split.val_labels),
        },
        "history": history,
        **report,
        "train_seconds": round(train_seconds, 2),
        "samples_per_second": round(n_train * epochs_done / train_seconds, 2) if train_seconds else None,
        "train_loss": float(loss),
        "device": dev,
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "python": platform.python_version(),
        },
    }


def _counts(labels: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for y in labels:
        out[y] = out.get(y, 0) + 1
    return dict(sorted(out.items()))
