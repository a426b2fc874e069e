"""The Hugging Face Trainer of a fine-tuning run: its TrainingArguments, its callbacks, and the environment
those arguments leave behind in the process."""

from __future__ import annotations

import math
import os
from pathlib import Path

from transformers import DataCollatorWithPadding, EarlyStoppingCallback, PrinterCallback, TrainingArguments

from bertdemo import config
from bertdemo.metrics import compute_metrics
from bertdemo.training import coreshare, distributed
from bertdemo.training.callbacks import AccuracyTrainer, CoreShareCallback, MonitorCallback
from bertdemo.training.hyperparameters import TrainConfig


def steps_per_epoch(train_ds, cfg: TrainConfig) -> int:
    """Optimizer steps in one epoch, over every process's share of the batch."""
    return max(1, math.ceil(len(train_ds) / (cfg.batch_size * distributed.world_size())))


# What `accelerate launch` put in the environment when this process started (its --dynamo_backend, say).
_LAUNCH_ENV = {k: v for k, v in os.environ.items() if k.startswith("ACCELERATE_DYNAMO_")}


def reset_accelerate_env(precision: str) -> None:
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


def build_trainer(
    model, tokenizer, train_ds, val_ds, cfg: TrainConfig, out_dir: Path, monitor, dev, collator=None
) -> AccuracyTrainer:
    """The Trainer of a fine-tuning run: its arguments from `cfg` and the device facts, and its callbacks.

    `collator` pads the batches (default: DataCollatorWithPadding, each batch to its longest text).
    """
    cuda = dev["device"] == "cuda"
    early = cfg.early_stopping_patience > 0
    reset_accelerate_env(cfg.precision)
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
        logging_steps=max(1, math.ceil(steps_per_epoch(train_ds, cfg) * cfg.epochs / config.LOSS_POINTS_PER_RUN)),
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
        data_collator=collator or DataCollatorWithPadding(tokenizer),
        processing_class=tokenizer,
        compute_metrics=compute_metrics,
        callbacks=callbacks,
    )
    # disable_tqdm swaps the progress bar for a PrinterCallback that prints dicts to stdout;
    # our monitor reports progress instead, and stdout stays clean for --json.
    trainer.remove_callback(PrinterCallback)
    monitor.attach(trainer)
    return trainer
