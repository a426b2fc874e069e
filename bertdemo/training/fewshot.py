"""Few labeled rows: which recipe trains, and the SetFit-style one (contrastive pairs, then a logistic head).

SetFit (Tunstall et al., 2022) tunes a sentence encoder so that texts of one label lie close and texts of
different labels far apart (cosine similarity of pairs, regressed to 1 or 0), then fits logistic regression
on the tuned vectors. A few dozen rows make hundreds of pairs, where fine-tuning a fresh head on the rows
themselves gets a handful of steps. The loop is written here, over the same mean-pooling classifier the app
saves, so the result is an ordinary run (Export, Compare, Predict, the model card) and each step reports
progress and honours Stop; the `setfit` package itself is the benchmark's reference (bench/fewshot_bench.py).
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from bertdemo import config, meanpool
from bertdemo.data.splits import Split
from bertdemo.errors import BertDemoError, TrainingStopped
from bertdemo.tokenizing import encode
from bertdemo.training import probe
from bertdemo.training.monitor import TrainingMonitor

log = logging.getLogger(__name__)

FINE_TUNE, CONTRASTIVE = "fine-tune", "contrastive"


def base_pooling(base_path: str) -> dict[str, bool] | None:
    """The base model's sentence-transformers pooling when it is mean pooling (local folder or Hub cache/Hub)."""
    folder = Path(base_path)
    if folder.is_dir():
        return meanpool.sentence_pooling(folder)
    try:  # a Hub id: its modules.json and pooling config, as sentence-transformers reads them
        from huggingface_hub import hf_hub_download

        modules = Path(hf_hub_download(base_path, "modules.json"))
        for sub in ("1_Pooling/config.json",):
            hf_hub_download(base_path, sub)
        return meanpool.sentence_pooling(modules.parent)
    except Exception:  # no such file, no network: not a sentence encoder as far as we can tell
        return None


def choose_recipe(requested: str, train_labels: list[str], model_type: str, pooling) -> tuple[str, str]:
    """'contrastive' or 'fine-tune' for these rows and this base, and why (one line for "Chosen for you")."""
    per_class = min(Counter(train_labels).values()) if train_labels else 0
    limit = config.FEWSHOT_MAX_ROWS_PER_CLASS
    if requested == CONTRASTIVE:
        if model_type != "bert":
            raise BertDemoError(
                f"The contrastive recipe needs a BERT encoder; this base model is {model_type!r}: choose fine-tune."
            )
        return CONTRASTIVE, "contrastive (as asked): SetFit-style pairs, then a logistic-regression head"
    if requested == FINE_TUNE:
        return FINE_TUNE, "fine-tune (as asked)"
    if pooling is not None and model_type == "bert" and per_class <= limit:
        return CONTRASTIVE, (
            f"contrastive (auto: {per_class} training rows in the smallest class, at most {limit}, and a sentence "
            "encoder): SetFit-style pairs, then a logistic-regression head, beats a fresh head on so few rows"
        )
    why = "not a mean-pooling sentence encoder" if pooling is None or model_type != "bert" else (
        f"{per_class} training rows in the smallest class, more than {limit}"
    )  # fmt: skip
    return FINE_TUNE, f"fine-tune (auto: {why})"


SETFIT_LEARNING_RATE = 2e-5  # SetFit's body learning rate, which the recipe's is a multiple of


def _share_words(share: float) -> str:
    from fractions import Fraction

    words = {Fraction(1, 3): "a third", Fraction(1, 2): "half", Fraction(2, 3): "two thirds", Fraction(1): "all"}
    return words.get(Fraction(share).limit_denominator(12), f"{share:.0%}")


def setfit_steps(rows: int) -> int:
    """The steps SetFit takes on `rows` rows: FEWSHOT_PAIR_ITERATIONS positive and negative pairs per row (at most
    FEWSHOT_MAX_PAIRS), 16 pairs a step. The contrastive recipe takes FEWSHOT_STEP_SHARE of them."""
    pairs = min(config.FEWSHOT_MAX_PAIRS, 2 * config.FEWSHOT_PAIR_ITERATIONS * rows)
    return max(1, math.ceil(pairs / 16))


def pair_loss(vectors, label_ids):
    """SetFit's loss over every pair of these rows: (cosine - same label)^2, positive and negative pairs weighted alike.

    SetFit draws as many same-label as other-label pairs; here every pair of a step's rows counts, and each kind
    gets half the weight whatever their numbers (with 3 classes, other-label pairs are twice as many).
    """
    import torch

    unit = torch.nn.functional.normalize(vectors, dim=-1)
    cosine = unit @ unit.T
    same = (label_ids[:, None] == label_ids[None, :]).float()
    upper = torch.ones_like(cosine, dtype=torch.bool).triu(1)  # each pair once, no row with itself
    error = (cosine - same) ** 2
    kinds = [error[upper & (same == s)] for s in (1.0, 0.0)]
    parts = [k.mean() for k in kinds if k.numel()]
    return sum(parts) / len(parts) if parts else (vectors * 0).sum()  # one row: no pair, nothing to learn


def tune_encoder(model, tokenizer, texts: list[str], label_ids: list[int], cfg, monitor: TrainingMonitor) -> float:
    """Cosine-similarity regression on pairs, as SetFit; returns the mean loss. Raises TrainingStopped on Stop.

    A SetFit step encodes 32 texts for 16 pairs. Here a step encodes `cfg.batch_size` rows (16 on auto) once
    and scores every pair among them (up to 120), so it carries several times SetFit's pairs: the recipe takes
    FEWSHOT_STEP_SHARE of SetFit's steps at a higher learning rate, the gradient clipped as SetFit's
    (bench/fewshot_bench.py measures both).
    """
    import torch
    from transformers import get_linear_schedule_with_warmup

    total = max(1, math.ceil(setfit_steps(len(texts)) * config.FEWSHOT_STEP_SHARE))
    size = max(2, cfg.batch_size)
    optimizer = torch.optim.AdamW(model.bert.parameters(), lr=cfg.learning_rate, fused=True)
    schedule = get_linear_schedule_with_warmup(optimizer, max(1, round(0.1 * total)), total)
    autocast = torch.autocast(
        "cpu", dtype=torch.bfloat16, enabled=cfg.precision == "bf16" and model.device.type == "cpu"
    )
    every = max(1, math.ceil(total / config.LOSS_POINTS_PER_RUN))
    rng = random.Random(cfg.seed)
    labels = torch.tensor(label_ids, device=model.device)
    model.train()
    monitor.on_step(0, total, 0.0)
    losses = []
    for step in range(total):
        rows = sorted(rng.sample(range(len(texts)), min(len(texts), size)))
        with autocast:
            vectors = _embed_batch(model, tokenizer, [texts[r] for r in rows], cfg).float()
        loss = pair_loss(vectors, labels[rows])
        loss.backward()
        # Early steps pull hard (gradient norms of 1.5-2.6 on SST-2): clipped, as SetFit's trainer clips them.
        torch.nn.utils.clip_grad_norm_(model.bert.parameters(), config.FEWSHOT_MAX_GRAD_NORM)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        monitor.on_step(step + 1, total, (step + 1) / total)
        if (step + 1) % every == 0 or step + 1 == total:
            monitor.add_loss(step + 1, (step + 1) / total, float(np.mean(losses[-every:])))
        if monitor.stop_requested:
            raise TrainingStopped("Training was stopped: the contrastive tuning was not finished, nothing was saved.")
    model.eval()
    return float(np.mean(losses)) if losses else 0.0


def _embed_batch(model, tokenizer, texts: list[str], cfg):
    batch = encode(tokenizer, texts, cfg.max_length, cfg.truncation, padding=True, return_tensors="pt")
    keep = ("input_ids", "attention_mask", "token_type_ids")
    return model.embed(**{k: v.to(model.device) for k, v in batch.items() if k in keep})


def train_contrastive(model, tokenizer, split: Split, cfg, monitor: TrainingMonitor) -> dict[str, Any]:
    """Tune the encoder on pairs, fit the logistic head on the tuned vectors; the validation logits and history."""
    label2id = {lab: i for i, lab in enumerate(split.labels)}
    train_ids = [label2id[y] for y in split.train_labels]
    started = time.perf_counter()
    loss = tune_encoder(model, tokenizer, split.train_texts, train_ids, cfg, monitor)
    monitor.set_phase("evaluating", "Fitting the logistic-regression head on the tuned encoder")
    logits = probe.fit_probe(
        model, tokenizer, split.train_texts, train_ids, split.val_texts, len(split.labels),
        cfg.max_length, cfg.truncation, cfg.seed,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    val_ids = np.array([label2id[y] for y in split.val_labels])
    from bertdemo.metrics import scores

    val = scores(logits.argmax(-1), val_ids)
    record = {
        "epoch": 1.0,
        "step": monitor.snapshot()["total_steps"],
        "train_loss": loss,
        "val_accuracy": val.get("accuracy"),
        "val_f1_macro": val.get("f1_macro"),
        "val_precision_macro": val.get("precision_macro"),
        "val_recall_macro": val.get("recall_macro"),
        "val_rows": len(val_ids),
    }
    monitor.add_epoch(record)
    return {"logits": logits, "loss": loss, "seconds": seconds}


def adapt_config(cfg, user_cfg):
    """The contrastive recipe's own settings where the user left them on auto (recorded in `chosen`)."""
    from dataclasses import replace

    chosen = dict(cfg.chosen)
    changes: dict[str, Any] = {"chosen": chosen}
    if user_cfg.epochs is None:
        changes["epochs"] = 1
        chosen["epochs"] = "1 (contrastive recipe: one pass over the pairs, as SetFit)"
        chosen.pop("early_stopping", None)
        changes["early_stopping_patience"] = user_cfg.early_stopping_patience
    if user_cfg.batch_size is None:
        changes["batch_size"] = config.FEWSHOT_BATCH_SIZE
        chosen["batch_size"] = (
            f"{config.FEWSHOT_BATCH_SIZE} rows a step (contrastive recipe: every pair of them scored)"
        )
    if user_cfg.learning_rate is None:
        changes["learning_rate"] = config.FEWSHOT_LEARNING_RATE
        times = config.FEWSHOT_LEARNING_RATE / SETFIT_LEARNING_RATE
        chosen["learning_rate"] = (
            f"{config.FEWSHOT_LEARNING_RATE:g} (contrastive recipe: {times:g}x SetFit's encoder rate, "
            f"for {_share_words(config.FEWSHOT_STEP_SHARE)} of its steps)"
        )
    if user_cfg.max_length is None and cfg.max_length > config.FEWSHOT_MAX_LENGTH:
        changes["max_length"] = config.FEWSHOT_MAX_LENGTH
        chosen["max_length"] = f"{config.FEWSHOT_MAX_LENGTH} (contrastive recipe: pairs need the gist of a text)"
    chosen.pop("steps", None)
    if config.FEWSHOT_REFIT:
        chosen["refit"] = (
            "after the validation scores, the same recipe again on all rows, validation rows included "
            "(with so few rows, every row counts); the scores shown are those of the first pass"
        )
    return replace(cfg, **changes)


def refit_on_all_rows(fresh, tokenizer, split: Split, cfg, monitor: TrainingMonitor) -> tuple[Any, dict[str, Any]]:
    """The same recipe again, from the base model, on every row (training and validation): the model to save.

    With a few dozen rows, the fifth held out for validation is a fifth of what the model could learn from
    (bench/fewshot_bench.py: SetFit's accuracy is reached only with every row). The validation scores stay those
    of the model trained without those rows, the only honest ones; run.json's `refit` says so.
    `fresh`: loads the base model again. Raises TrainingStopped on Stop.
    """
    texts = list(split.train_texts) + list(split.val_texts)
    label2id = {lab: i for i, lab in enumerate(split.labels)}
    ids = [label2id[y] for y in list(split.train_labels) + list(split.val_labels)]
    monitor.set_phase("training", f"Training again on all {len(texts)} rows (validation scores are kept)")
    started = time.perf_counter()
    model = fresh()
    tune_encoder(model, tokenizer, texts, ids, cfg, monitor)
    monitor.set_phase("evaluating", "Fitting the logistic-regression head on all rows")
    features = probe.embed_texts(model, tokenizer, texts, cfg.max_length, cfg.truncation)
    probe.set_head(model, *probe.fit_head(features, ids, len(split.labels), cfg.seed))
    return model, {
        "rows": len(texts),
        "validation_rows": len(split.val_texts),
        "seconds": round(time.perf_counter() - started, 2),
    }  # why, in words: params.chosen["refit"] (adapt_config)


def train_contrastive_run(model, tokenizer, split: Split, cfg, name: str, monitor: TrainingMonitor, **run: Any):
    """The whole contrastive run: tune, fit the head, report, audit, save models/<name>; returns run.json (+ path).

    `run`: base, dev, baseline, root, owner, data_summary, data_file (as train_run has them), and `fresh` (loads
    the base model again) for the refit on all rows (config.FEWSHOT_REFIT).
    """
    from bertdemo.runs import store
    from bertdemo.training.quickmodel import public_info
    from bertdemo.training.runsave import report_and_audit, run_info, save_run

    result = train_contrastive(model, tokenizer, split, cfg, monitor)
    report, findings, audited = report_and_audit(split, result["logits"], cfg.seed, run.get("data_file"))
    refit = None
    if config.FEWSHOT_REFIT and run.get("fresh") and split.val_texts:
        model, refit = refit_on_all_rows(run["fresh"], tokenizer, split, cfg, monitor)
    monitor.set_phase("saving")
    seconds = result["seconds"] + (refit["seconds"] if refit else 0.0)
    info = run_info(
        name, run["base"], cfg, split, run.get("data_summary"), monitor.history, report, run["dev"],
        seconds, result["loss"],
    )  # fmt: skip
    info.update(recipe=CONTRASTIVE, baseline=run.get("baseline"), audit=findings, pooling_normalize=model.normalize)
    if refit:
        info["refit"] = refit
    info["distributed"] = {"processes": 1, "effective_batch_size": cfg.batch_size}
    if run.get("quick"):
        info["quick_model"] = public_info(run["quick"])  # the quick run is removed once this is saved
    if run.get("owner"):
        info["owner"] = run["owner"]
    root = run.get("root")
    path = save_run(store.staging_dir(root), name, root, model, tokenizer, split, info, audited, run.get("data_file"))
    monitor.finish(name)
    return {**info, "path": str(path)}
