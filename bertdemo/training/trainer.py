"""Fine-tuning with the Hugging Face Trainer: settings, metrics, progress, stop, save."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoConfig, AutoTokenizer, set_seed

from bertdemo import config, hardware
from bertdemo.data.splits import Split
from bertdemo.errors import TrainingError, TrainingStopped
from bertdemo.metrics import final_report, softmax
from bertdemo.runs import store
from bertdemo.tokenizing import encode, load_classifier
from bertdemo.training import basemodels, distributed, fewshot
from bertdemo.training.auditing import audit_split
from bertdemo.training.baseline import bag_of_words_baseline
from bertdemo.training.callbacks import CoreShareCallback
from bertdemo.training.dynamics import ROW_COLUMN, DynamicsCallback, TrainingDynamics
from bertdemo.training.frozencache import attach_frozen_cache
from bertdemo.training.hftrainer import build_trainer
from bertdemo.training.hyperparameters import TrainConfig, choose_hyperparameters
from bertdemo.training.inspection import token_lengths
from bertdemo.training.lengthwarmup import LengthWarmupCallback, WarmupCollator, short_columns, warmup_plan
from bertdemo.training.monitor import TrainingMonitor
from bertdemo.training.quickmodel import HEAD, kept_if_needed, public_info, start_from_probe, train_quick_model
from bertdemo.training.runsave import kept_file_name, readable_failures, run_info, save_run

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
    collator = WarmupCollator(tokenizer)
    warmup, why_warmup = warmup_plan(cfg.max_length, cfg.epochs, config.TRAIN_WARMUP_LENGTH, frozen is not None)
    if warmup:
        cfg.chosen["length_warmup"] = why_warmup
        short = encode(tokenizer, split.train_texts, warmup, cfg.truncation)
        for column, values in short_columns(dict(short)).items():
            train_ds = train_ds.add_column(column, values)
    monitor.set_chosen(cfg.chosen)  # the live status shows what was decided after begin too
    dynamics = TrainingDynamics(len(train_ids), len(labels))
    val_ids = np.array([label2id[y] for y in split.val_labels])
    val_ds = _tokenized(tokenizer, split.val_texts, val_ids.tolist(), cfg.max_length, cfg.truncation)
    epoch_eval_ds = _evaluation_sample(val_ds, val_ids, cfg.seed)

    staging = Path(distributed.agree(str(store.staging_dir(root)) if main else ""))
    started = time.perf_counter()
    try:
        trainer = build_trainer(
            model, tokenizer, train_ds, epoch_eval_ds, cfg, staging / "checkpoints", monitor, dev, collator
        )
        warming = LengthWarmupCallback(collator) if warmup else None
        if warming:
            trainer.add_callback(warming)
        trainer.dynamics = dynamics
        trainer.add_callback(DynamicsCallback(dynamics))
        with readable_failures(staging):
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
            split, dynamics.stacked(), softmax(pred.predictions), cfg.seed, recording_seconds=dynamics.seconds
        )
        findings["mislabeled"]["train_seconds"] = round(train_seconds, 2)
        findings["data_file"] = kept_file_name(data_file)
        findings["available"] = True
        monitor.set_phase("saving")
        info = run_info(
            name, base, cfg, split, data_summary, monitor.history, report, dev, train_seconds,
            train_output.training_loss,
        )  # fmt: skip
        info["baseline"] = baseline
        info["audit"] = findings
        if stopped_early:
            info["stopped_early"] = stopped_early
        if frozen_stats:
            info["frozen"] = frozen_stats
        if warming:
            info["length_warmup"] = {"max_length": warmup, "epochs": warming.epochs, "steps": warming.short_steps}
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
        shutil.rmtree(staging / "checkpoints", ignore_errors=True)  # every epoch's weights: the best one is loaded
        path = save_run(staging, name, root, trainer.model, tokenizer, split, info, audited, data_file)
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
