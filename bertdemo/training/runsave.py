"""Save a trained model as a complete run (weights, tokenizer, validation rows, audit, model card, run.json)."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from bertdemo.data.splits import Split
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
    from bertdemo.training.trainer import _kept_file_name

    findings["data_file"] = _kept_file_name(data_file)
    findings["available"] = True
    return report, findings, audited


def run_info(name, base, cfg, split, data_summary, history, report, dev, seconds, loss) -> dict[str, Any]:
    """run.json's fields, as fine-tuning writes them (trainer._run_info), for a run trained another way."""
    from bertdemo.training.trainer import _run_info

    return _run_info(
        name, base, cfg, split, data_summary, SimpleNamespace(history=history), report, dev, seconds,
        SimpleNamespace(training_loss=loss),
    )  # fmt: skip


def save_run(staging: Path, name: str, root, model, tokenizer, split: Split, info, audited, data_file) -> Path:
    """Write everything into `staging`, then move it into place as models/<name> (only a complete run appears)."""
    from bertdemo.training.trainer import _readable_failures, _write_validation_csv

    try:
        with _readable_failures(staging):
            model.save_pretrained(str(staging), safe_serialization=True)
            tokenizer.save_pretrained(str(staging))
            _write_validation_csv(staging / store.VALIDATION_CSV, split.val_texts, split.val_labels)
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
