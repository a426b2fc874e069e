"""Fine-tuning with the Hugging Face Trainer: settings, metrics, progress, stop, save."""

from __future__ import annotations

import logging
import math
import os
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
    AutoConfig,
    AutoTokenizer,
    DataCollatorWithPadding,
    EarlyStoppingCallback,
    PrinterCallback,
    TrainingArguments,
    set_seed,
)

from bertdemo import config, hardware
from bertdemo.data.splits import Split
from bertdemo.errors import BertDemoError, TrainingError, TrainingStopped
from bertdemo.metrics import compute_metrics, final_report
from bertdemo.runs import store
from bertdemo.runs.modelcard import write_model_card
from bertdemo.tokenizing import encode, load_classifier
from bertdemo.training import basemodels, coreshare, distributed, fewshot
from bertdemo.training.auditing import audit_split
from bertdemo.training.baseline import bag_of_words_baseline
from bertdemo.training.callbacks import AccuracyTrainer, CoreShareCallback, MonitorCallback
from bertdemo.training.dynamics import ROW_COLUMN, DynamicsCallback, TrainingDynamics
from bertdemo.training.frozencache import attach_frozen_cache
from bertdemo.training.hyperparameters import TrainConfig, choose_hyperparameters
from bertdemo.training.inspection import token_lengths
from bertdemo.training.monitor import TrainingMonitor
from bertdemo.training.quickmodel import HEAD, kept_if_needed, public_info, start_from_probe, train_quick_model

log = logging.getLogger(__name__)


def _tokenized(tokenizer, texts: list[str], label_ids: list[int], max_length: int, truncation: str):
    from datasets import Dataset

    ds = Dataset.from_dict({"text": texts, "label": label_ids})
    # No padding here: DataCollatorWithPadding pads each batch to its own longest text.
    return ds.map(lambda b: encode(tokenizer, b["text"], max_length, truncation), batched=True, remove_columns=["text"])


def train_run(
    split: Split,
    cfg: TrainConfig,
    name: str,
    monitor: TrainingMonitor | None = None,
    root: Path | None = None,
    data_summary: dict[str, Any] | None = None,
    owner: str | None = None,
    data_file: str | Path | None = None,
) -> dict[str, Any]:
    """Train (quick model first, then the recipe) and save models/<name>; see _train_run."""
    monitor = monitor or TrainingMonitor()
    quick: dict[str, Any] = {}  # the quick model's run, once saved: removed after success, kept after a failure
    with kept_if_needed(quick, monitor, root):
        return _train_run(split, cfg, name, monitor, root, data_summary, owner, data_file, quick)


def _train_run(
    split: Split,
    cfg: TrainConfig,
    name: str,
    monitor: TrainingMonitor,
    root: Path | None,
    data_summary: dict[str, Any] | None,
    owner: str | None,
    data_file: str | Path | None,
    quick: dict[str, Any],
) -> dict[str, Any]:
    """Fine-tune, evaluate every epoch, and save models/<name> atomically; returns run.json (+ 'path').

    `owner` (a hash, see bertdemo.runs.access) makes the run private to the app user who trained it.
    `data_file` (the uploaded CSV) is kept in the run, so its audit can hand it back with audit columns.

    Raises TrainingStopped when the monitor's stop flag was set: nothing is saved then.
    """
    cfg.validate()
    main = distributed.is_main()
    # Under torchrun every process runs this; the main one's checked name and staging folder hold for all.
    name = distributed.agree(store.check_new_name(name, root, owner) if main else name)
    base = basemodels.resolve_base_model(cfg.model)
    dev = hardware.device_info()  # one place for the hardware facts (tests fake them there)
    labels = split.labels
    label2id = {lab: i for i, lab in enumerate(labels)}

    set_seed(cfg.seed)
    tokenizer = AutoTokenizer.from_pretrained(base.path)
    model_config = AutoConfig.from_pretrained(base.path)
    lengths = token_lengths(split.train_texts, tokenizer) if cfg.max_length is None else None
    user_cfg = cfg
    pooling = fewshot.base_pooling(base.path)  # a sentence encoder's own pooling (mean), or None
    recipe, why = fewshot.choose_recipe(cfg.recipe, split.train_labels, model_config.model_type, pooling)
    if distributed.world_size() > 1:
        recipe, why = fewshot.FINE_TUNE, "fine-tune (several processes: the contrastive recipe runs in one)"
    cfg = choose_hyperparameters(
        cfg,
        len(split.train_texts),
        lengths,
        _model_limit(model_config, tokenizer),
        gpu=dev["device"] == "cuda",
        processes=distributed.world_size(),
        bf16_units=bool(dev.get("bf16_units")),
    )
    cfg.chosen["recipe"] = why
    if recipe == fewshot.CONTRASTIVE:
        cfg = fewshot.adapt_config(cfg, user_cfg)
    # On a CPU: no attention dropout on long texts, eager attention on short ones (basemodels.fine_tune_loading);
    # the contrastive recipe keeps the encoder as SetFit trains it.
    loading, why_dropout = (
        basemodels.fine_tune_loading(model_config, cfg.max_length, gpu=dev["device"] == "cuda")
        if recipe == fewshot.FINE_TUNE
        else ({}, None)
    )
    if why_dropout:
        cfg.chosen["attention_dropout"] = why_dropout
    dev = {**dev, "precision": cfg.precision, "bf16": cfg.precision == "bf16", "fp16": cfg.precision == "fp16"}
    if 0 < config.EVAL_SAMPLE_ROWS < len(split.val_texts):
        cfg.chosen["evaluation"] = (
            f"a stratified sample of {config.EVAL_SAMPLE_ROWS:,} of the {len(split.val_texts):,} validation rows "
            "after each epoch (curves, early stopping, best epoch); all of them for the final scores"
        )
    monitor.begin(epochs=cfg.epochs, chosen=cfg.chosen, device=dev)
    # The bag-of-words anchor takes seconds, so the user sees it before the first epoch ends.
    baseline = bag_of_words_baseline(split.train_texts, split.train_labels, split.val_texts, split.val_labels)
    monitor.set_baseline(baseline)
    saving = {"root": root, "owner": owner, "data_summary": data_summary, "baseline": baseline, "dev": dev}
    if main:  # seconds: a usable model before fine-tuning starts (models/<name>-quick)
        made = train_quick_model(
            base, tokenizer, split, cfg, name, monitor, pooling or {}, data_file=data_file, **saving
        )
        quick.update(made or {})

    lp_ft = recipe == fewshot.FINE_TUNE and config.TRAIN_LP_FT and pooling is not None and HEAD in quick
    lp_ft = lp_ft and distributed.world_size() == 1  # the probe is fitted in the main process only
    if lp_ft:
        cfg.chosen["head"] = (
            "mean-pooled vectors, starting from the quick model's linear probe (LP-FT): the encoder was trained "
            "to be read that way, and the first epoch starts from a classifier"
        )

    def fresh():
        return load_classifier(
            base.path,
            pooling=pooling if recipe == fewshot.CONTRASTIVE or lp_ft else None,
            **loading,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id=label2id,
            ignore_mismatched_sizes=True,  # a base that is already a classifier gets a fresh head
        )

    model = fresh()
    if lp_ft:
        start_from_probe(model, quick)
    dev["attention"] = getattr(model.config, "_attn_implementation", None)  # the kernel trained with (run.json)
    if recipe == fewshot.CONTRASTIVE:
        return fewshot.train_contrastive_run(
            model, tokenizer, split, cfg, name, monitor, base=base, quick=quick, data_file=data_file, fresh=fresh,
            **saving,
        )  # fmt: skip
    frozen, why = attach_frozen_cache(
        model, config.TRAIN_FROZEN_FRACTION, cfg.precision, config.TRAIN_FROZEN_CACHE_MB << 20
    )
    if frozen:
        cfg.chosen["frozen_layers"] = why
    train_ids = [label2id[y] for y in split.train_labels]
    train_ds = _tokenized(tokenizer, split.train_texts, train_ids, cfg.max_length, cfg.truncation)
    # Row positions ride along in each batch so the training pass records each row's probabilities (the audit).
    train_ds = train_ds.add_column(ROW_COLUMN, list(range(len(train_ids))))
    dynamics = TrainingDynamics(len(train_ids), len(labels))
    val_ids = np.array([label2id[y] for y in split.val_labels])
    val_ds = _tokenized(tokenizer, split.val_texts, val_ids.tolist(), cfg.max_length, cfg.truncation)
    epoch_eval_ds = _evaluation_sample(val_ds, val_ids, cfg.seed)

    staging = Path(distributed.agree(str(store.staging_dir(root)) if main else ""))
    started = time.perf_counter()
    try:
        trainer = _build_trainer(model, tokenizer, train_ds, epoch_eval_ds, cfg, staging / "checkpoints", monitor, dev)
        trainer.dynamics = dynamics
        trainer.add_callback(DynamicsCallback(dynamics))
        with _readable_failures(staging):
            train_output = trainer.train()
        stopped_early = _after_stop(trainer, model, monitor)
        if stopped_early and stopped_early.get("kept_epoch"):
            monitor.keep_epoch(round(float(stopped_early["kept_epoch"])))
        train_seconds = time.perf_counter() - started
        monitor.set_phase("evaluating")
        pred = trainer.predict(val_ds)
        frozen_stats = frozen.stats() if frozen else None
        if frozen:
            frozen.detach()  # the plain model is what gets saved and exported
        if not np.array_equal(pred.label_ids, val_ids):  # pragma: no cover - guards the sampler override
            raise TrainingError("Internal error: validation predictions came back out of order.")
        report = final_report(labels, val_ids, pred.predictions, split.val_texts)
        if not main:  # under torchrun only the main process writes the run
            return {"name": name, **report, "baseline": baseline}
        findings, audited = audit_split(
            split, dynamics.stacked(), _softmax(pred.predictions), cfg.seed, recording_seconds=dynamics.seconds
        )
        findings["mislabeled"]["train_seconds"] = round(train_seconds, 2)
        findings["data_file"] = _kept_file_name(data_file)
        findings["available"] = True
        monitor.set_phase("saving")
        info = _run_info(name, base, cfg, split, data_summary, monitor, report, dev, train_seconds, train_output)
        info["baseline"] = baseline
        info["audit"] = findings
        if stopped_early:
            info["stopped_early"] = stopped_early
        if frozen_stats:
            info["frozen"] = frozen_stats
        shared = next((c for c in trainer.callback_handler.callbacks if isinstance(c, CoreShareCallback)), None)
        if shared:
            info["device"] = {**info["device"], "core_share": shared.summary()}
        processes = distributed.world_size()
        info["distributed"] = {"processes": processes, "effective_batch_size": cfg.batch_size * processes}
        if quick:
            info["quick_model"] = public_info(quick)  # the quick run is removed once this run is saved
        if lp_ft:  # the model card's snippet mean-pools (and normalizes) as this classifier does
            info.update(classifier_pooling="mean", pooling_normalize=model.normalize)
        if owner:
            info["owner"] = owner  # in run.json before the rename: the run is never visible to all, even briefly
        with _readable_failures(staging):
            shutil.rmtree(staging / "checkpoints", ignore_errors=True)
            trainer.save_model(str(staging))  # safetensors + config with id2label
            tokenizer.save_pretrained(str(staging))
            _write_validation_csv(staging / store.VALIDATION_CSV, split.val_texts, split.val_labels)
            store.write_json_atomic(staging / store.AUDIT_JSON, {"rows": audited})
            if findings["data_file"]:  # the user's file as uploaded: the audit's download adds columns to it
                shutil.copyfile(data_file, staging / findings["data_file"])
            write_model_card(staging, info)  # README.md: a Hugging Face model card, so a downloaded run explains itself
            store.write_json_atomic(staging / store.RUN_JSON, info)
        path = store.commit_run(staging, name, root, owner)
    except BaseException:
        if main:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if frozen:
            frozen.detach()
        del model
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    monitor.finish(name)
    return {**info, "path": str(path)}


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.asarray(logits, dtype=np.float64)
    shifted = np.exp(shifted - shifted.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _kept_file_name(data_file: str | Path | None) -> str | None:
    """The name the uploaded file gets inside the run (its compression kept), or None without one."""
    if not data_file or not Path(data_file).is_file():
        return None
    return store.UPLOADED_CSV + (".gz" if str(data_file).lower().endswith(".gz") else "")


def _after_stop(trainer, model, monitor: TrainingMonitor) -> dict[str, Any] | None:
    """After a stop request: raise TrainingStopped (discard), or load the best epoch so far (keep best).

    Every epoch leaves a checkpoint of its weights, so "stop and keep the best epoch" needs no extra work.
    """
    if not monitor.stop_requested:
        return None
    best = trainer.state.best_model_checkpoint
    if not monitor.stop_keeps_best:
        raise TrainingStopped("Training was stopped: nothing was saved.")
    if not monitor.history or not best:
        raise TrainingStopped("Training was stopped before the first epoch ended: there was no epoch to keep.")
    from safetensors.torch import load_file

    model.load_state_dict(load_file(str(Path(best) / "model.safetensors")), strict=False)
    kept = trainer.state.best_global_step
    epoch = next((h["epoch"] for h in monitor.history if h.get("step") == kept), None)
    return {"stopped_at_step": trainer.state.global_step, "kept_step": kept, "kept_epoch": epoch}


def _evaluation_sample(val_ds, val_ids: np.ndarray, seed: int):
    """The validation rows evaluated after each epoch: all of them, or a stratified sample of EVAL_SAMPLE_ROWS.

    Per-epoch evaluation only ranks epochs and draws the curves; on a large file it would read thousands
    of rows every epoch. The final scores (trainer.predict below) always read the whole validation set.
    """
    cap = config.EVAL_SAMPLE_ROWS
    if cap <= 0 or len(val_ds) <= cap:
        return val_ds
    from sklearn.model_selection import train_test_split

    counts = np.bincount(val_ids)
    stratify = val_ids if counts[counts > 0].min() >= 2 else None  # a class with one row cannot be stratified
    keep, _ = train_test_split(np.arange(len(val_ids)), train_size=cap, random_state=seed, stratify=stratify)
    return val_ds.select(sorted(keep.tolist()))


def _model_limit(model_config, tokenizer) -> int:
    """The longest input the model takes: its position embeddings, or the tokenizer's limit when smaller."""
    limit = int(getattr(model_config, "max_position_embeddings", 0) or 512)
    tok_limit = int(getattr(tokenizer, "model_max_length", 0) or 0)
    return min(limit, tok_limit) if 0 < tok_limit < 100_000 else limit  # unset tokenizers say 1e30


def _steps_per_epoch(train_ds, cfg: TrainConfig) -> int:
    return max(1, math.ceil(len(train_ds) / (cfg.batch_size * distributed.world_size())))


# What `accelerate launch` put in the environment when this process started (its --dynamo_backend, say).
_LAUNCH_ENV = {k: v for k, v in os.environ.items() if k.startswith("ACCELERATE_DYNAMO_")}


def _reset_accelerate_env(precision: str) -> None:
    """Undo what an earlier run's TrainingArguments left in os.environ, and set this run's precision.

    TrainingArguments writes its precision (ACCELERATE_MIXED_PRECISION) and torch_compile settings
    (ACCELERATE_DYNAMO_*) into os.environ and reads them back as defaults: without this, one bf16 or
    compiled run would make every later run in the process (thread jobs, tests, benchmarks) autocast to
    bf16 or compile, while recording fp32 and eager.
    """
    for key in [k for k in os.environ if k.startswith("ACCELERATE_DYNAMO_")]:
        del os.environ[key]
    os.environ.update(_LAUNCH_ENV)
    os.environ["ACCELERATE_MIXED_PRECISION"] = {"bf16": "bf16", "fp16": "fp16"}.get(precision, "no")


def _build_trainer(model, tokenizer, train_ds, val_ds, cfg: TrainConfig, out_dir: Path, monitor, dev):
    cuda = dev["device"] == "cuda"
    early = cfg.early_stopping_patience > 0
    _reset_accelerate_env(cfg.precision)
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
        torch_compile=config.TRAIN_TORCH_COMPILE,
        eval_strategy="epoch",
        # The loss every few steps draws a live curve; MonitorCallback averages each epoch's windows.
        logging_strategy="steps",
        logging_steps=max(1, math.ceil(_steps_per_epoch(train_ds, cfg) * cfg.epochs / config.LOSS_POINTS_PER_RUN)),
        # Every epoch's weights are checkpointed (only the best and the latest are kept): early stopping and
        # "stop and keep the best epoch" both go back to the best one.
        save_strategy="epoch",
        save_total_limit=1,
        save_only_model=True,  # the best epoch needs only its weights: no optimizer state written to disk
        load_best_model_at_end=early,
        metric_for_best_model="f1_macro",
        greater_is_better=True,
        group_by_length=True,  # similar lengths per batch: less padding, faster on CPU
        seed=cfg.seed,
        data_seed=cfg.seed,
        # On a CPU (use_cpu) bf16 is torch.autocast("cpu", bfloat16): chosen only where the CPU has bf16 units.
        bf16=bool(dev.get("bf16")),
        fp16=bool(cuda and dev.get("fp16")),
        auto_find_batch_size=cuda,  # on CUDA OOM the Trainer halves the batch and retries
        report_to="none",
        use_cpu=not cuda,  # without it the Trainer ignores torchrun's process group on a CPU (no DDP)
        disable_tqdm=True,
        logging_nan_inf_filter=False,  # a NaN loss must surface, not be averaged away
        dataloader_num_workers=0,
        save_safetensors=True,
    )
    callbacks = [MonitorCallback(monitor)]
    share = None if cuda else coreshare.job_share()
    if share:  # a job the app started: every core while nobody predicts, all but one while it serves
        callbacks.append(CoreShareCallback(*share, config.JOB_SHARE_QUIET_S))
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
