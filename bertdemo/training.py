"""Fine-tuning with the Hugging Face Trainer: settings, metrics, progress, stop, save."""

from __future__ import annotations

import logging
import platform
import shutil
import time
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    EarlyStoppingCallback,
    PrinterCallback,
    TrainingArguments,
    set_seed,
)

from bertdemo import basemodels, config, store
from bertdemo.callbacks import AccuracyTrainer, MonitorCallback
from bertdemo.errors import BertDemoError, TrainingError, TrainingStopped
from bertdemo.hyperparameters import TrainConfig, choose_hyperparameters
from bertdemo.metrics import compute_metrics, final_report
from bertdemo.modelcard import write_model_card
from bertdemo.monitor import TrainingMonitor
from bertdemo.splits import Split
from bertdemo.tokenizing import encode

log = logging.getLogger(__name__)


def device_info() -> dict[str, Any]:
    """Which device training uses and with which precision."""

    if torch.cuda.is_available():
        bf16 = torch.cuda.is_bf16_supported()
        return {"device": "cuda", "name": torch.cuda.get_device_name(0), "bf16": bf16, "fp16": not bf16}
    return {
        "device": "cpu",
        "name": platform.processor() or platform.machine(),
        "bf16": False,
        "fp16": False,
        "threads": torch.get_num_threads(),
    }


def _tokenized(tokenizer, texts: list[str], label_ids: list[int], max_length: int, truncation: str):
    from datasets import Dataset

    ds = Dataset.from_dict({"text": texts, "label": label_ids})
    # No padding here: DataCollatorWithPadding pads each batch to its own longest text.
    return ds.map(
        lambda b: encode(tokenizer, b["text"], max_length, truncation), batched=True, remove_columns=["text"]
    )


def train_run(
    split: Split,
    cfg: TrainConfig,
    name: str,
    monitor: TrainingMonitor | None = None,
    root: Path | None = None,
    data_summary: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Fine-tune, evaluate every epoch, and save models/<name> atomically; returns run.json (+ 'path').

    Raises TrainingStopped when the monitor's stop flag was set: nothing is saved then.
    """
    cfg.validate()
    name = store.check_new_name(name, root)
    cfg = choose_hyperparameters(cfg, len(split.train_texts))
    base = basemodels.resolve_base_model(cfg.model)
    monitor = monitor or TrainingMonitor()
    dev = device_info()
    monitor.begin(epochs=cfg.epochs, chosen=cfg.chosen, device=dev)
    labels = split.labels
    label2id = {lab: i for i, lab in enumerate(labels)}

    set_seed(cfg.seed)
    tokenizer = AutoTokenizer.from_pretrained(base.path)
    model = AutoModelForSequenceClassification.from_pretrained(
        base.path,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id=label2id,
        ignore_mismatched_sizes=True,  # a base that is already a classifier gets a fresh head
    )
    train_ds = _tokenized(tokenizer, split.train_texts, [label2id[y] for y in split.train_labels], cfg.max_length, cfg.truncation)
    val_ids = np.array([label2id[y] for y in split.val_labels])
    val_ds = _tokenized(tokenizer, split.val_texts, val_ids.tolist(), cfg.max_length, cfg.truncation)

    staging = store.staging_dir(root)
    started = time.perf_counter()
    try:
        trainer = _build_trainer(model, tokenizer, train_ds, val_ds, cfg, staging / "checkpoints", monitor, dev)
        with _readable_failures(staging):
            train_output = trainer.train()
        if monitor.stop_requested:
            raise TrainingStopped("Training was stopped: nothing was saved.")
        train_seconds = time.perf_counter() - started
        monitor.set_phase("evaluating")
        pred = trainer.predict(val_ds)
        if not np.array_equal(pred.label_ids, val_ids):  # pragma: no cover - guards the sampler override
            raise TrainingError("Internal error: validation predictions came back out of order.")
        report = final_report(labels, val_ids, pred.predictions, split.val_texts)
        if not trainer.is_world_process_zero():  # under torchrun only rank 0 writes the run
            return {"name": name, **report}
        monitor.set_phase("saving")
        info = _run_info(name, base, cfg, split, data_summary, monitor, report, dev, train_seconds, train_output)
        with _readable_failures(staging):
            shutil.rmtree(staging / "checkpoints", ignore_errors=True)
            trainer.save_model(str(staging))  # safetensors + config with id2label
            tokenizer.save_pretrained(str(staging))
            _write_validation_csv(staging / store.VALIDATION_CSV, split.val_texts, split.val_labels)
            write_model_card(staging, info)  # README.md: a Hugging Face model card, so a downloaded run explains itself
            store.write_json_atomic(staging / store.RUN_JSON, info)
        path = store.commit_run(staging, name, root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        del model
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    monitor.finish(name)
    return {**info, "path": str(path)}


def _build_trainer(model, tokenizer, train_ds, val_ds, cfg: TrainConfig, out_dir: Path, monitor, dev):
    cuda = dev["device"] == "cuda"
    early = cfg.early_stopping_patience > 0
    args = TrainingArguments(
        output_dir=str(out_dir),
        num_train_epochs=cfg.epochs,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=max(32, cfg.batch_size),
        learning_rate=cfg.learning_rate,
        weight_decay=cfg.weight_decay,
        warmup_ratio=cfg.warmup_ratio,
        lr_scheduler_type="linear",
        optim=config.TRAIN_OPTIMIZER,
        eval_strategy="epoch",
        logging_strategy="epoch",  # the logged loss is then the mean over the epoch
        save_strategy="epoch" if early else "no",
        save_total_limit=1 if early else None,
        load_best_model_at_end=early,
        metric_for_best_model="f1_macro" if early else None,
        greater_is_better=True if early else None,
        group_by_length=True,  # similar lengths per batch: less padding, faster on CPU
        seed=cfg.seed,
        data_seed=cfg.seed,
        bf16=bool(cuda and dev.get("bf16")),
        fp16=bool(cuda and dev.get("fp16")),
        auto_find_batch_size=cuda,  # on CUDA OOM the Trainer halves the batch and retries
        report_to="none",
        disable_tqdm=True,
        logging_nan_inf_filter=False,  # a NaN loss must surface, not be averaged away
        dataloader_num_workers=0,
        save_safetensors=True,
    )
    callbacks = [MonitorCallback(monitor)]
    if early:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=cfg.early_stopping_patience))
    trainer = AccuracyTrainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=val_ds,
        data_collator=DataCollatorWithPadding(tokenizer),
        processing_class=tokenizer,
        compute_metrics=compute_metrics,
        callbacks=callbacks,
    )
    # disable_tqdm swaps the progress bar for a PrinterCallback that prints dicts to stdout;
    # our monitor reports progress instead, and stdout stays clean for --json.
    trainer.remove_callback(PrinterCallback)
    monitor.attach(trainer)
    return trainer


@contextmanager
def _readable_failures(staging: Path):
    """Turn disk and memory failures into one-line TrainingErrors."""
    try:
        yield
    except BertDemoError:
        raise
    except OSError as exc:
        raise TrainingError(
            f"Could not write the model to {staging.parent} ({exc.strerror or exc}): "
            "check free disk space and that the models folder is writable."
        ) from exc
    except RuntimeError as exc:
        if isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower():
            raise TrainingError(
                "Ran out of memory while training: lower the batch size or max length, or use a smaller model."
            ) from exc
        raise


def _write_validation_csv(path: Path, texts: list[str], labels: list[str]) -> None:
    import csv

    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        writer.writerows(zip(texts, labels, strict=True))


def _run_info(
    name, base, cfg: TrainConfig, split: Split, data_summary, monitor, report, dev, train_seconds, train_output
) -> dict[str, Any]:
    import transformers

    n_train = len(split.train_texts)
    epochs_done = len(monitor.history) or cfg.epochs
    params = asdict(cfg)
    params["model"] = base.name
    return {
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
        "history": monitor.history,
        **report,
        "train_seconds": round(train_seconds, 2),
        "samples_per_second": round(n_train * epochs_done / train_seconds, 2) if train_seconds else None,
        "train_loss": float(train_output.training_loss),
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
