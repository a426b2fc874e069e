"""Training settings and the defaults picked for the data size; no torch here, so bad settings are refused fast."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from bertdemo import config
from bertdemo.errors import BertDemoError
from bertdemo.settings import SettingField, check_ranges, schema, setting


@dataclass
class TrainConfig:
    """What the user chooses for training; None means 'pick for the data' (see choose_hyperparameters).

    The settings schema: each `setting(...)` drives the CLI flag, the API key, the UI widget and the range check.
    """

    model: str = setting(
        config.DEFAULT_MODEL,
        label="base model",
        help="base model: bundled default, Hub id or local folder",
        ui="custom",
    )
    epochs: int | None = setting(
        None, label="epochs", help="passes over the training rows", minimum=1, maximum=100, auto=True
    )
    learning_rate: float | None = setting(
        None,
        label="learning rate",
        help="peak learning rate",
        minimum=0,
        open_min=True,
        maximum=1e-2,
        auto=True,
        hint="try 2e-5..5e-5",
        flags=("--lr", "--learning-rate"),
        step=1e-5,
    )
    batch_size: int | None = setting(
        None, label="batch size", help="texts per optimizer step", minimum=1, maximum=1024, auto=True
    )
    max_length: int | None = setting(
        None,
        label="max length",
        help="tokens per text; longer texts are truncated",
        unit="tokens",
        minimum=8,
        maximum=512,
        auto=True,
    )
    truncation: str = setting(
        config.DEFAULT_TRUNCATION,
        label="truncation",
        help="which tokens a longer text keeps: its head, or head and tail",
        choices=config.TRUNCATIONS,
        ui="advanced",
    )
    warmup_ratio: float = setting(
        config.DEFAULT_WARMUP_RATIO,
        label="warmup ratio",
        help="share of steps with a rising learning rate",
        minimum=0,
        maximum=1,
        open_max=True,
        ui="advanced",
        step=0.05,
    )
    weight_decay: float = setting(
        config.DEFAULT_WEIGHT_DECAY,
        label="weight decay",
        help="AdamW weight decay",
        minimum=0,
        maximum=1,
        ui="advanced",
        step=0.01,
    )
    precision: str = setting(
        "auto",
        label="precision",
        help="training arithmetic: auto = bf16 where the CPU/GPU has bf16 units, fp16 on older GPUs, else fp32",
        choices=config.PRECISIONS,
        ui="advanced",
    )
    early_stopping_patience: int = setting(
        0,
        label="early stopping patience",
        help="stop after this many epochs without val-F1 gain, keep the best (0 = off)",
        minimum=0,
        zero_means="off",
        flags=("--early-stopping-patience", "--early-stopping"),
        aliases=("early_stopping",),  # the name /train documented first
        metavar="PATIENCE",
        ui="advanced",
    )
    recipe: str = setting(
        "auto",
        label="recipe",
        help="how to train: auto = contrastive (SetFit-style) for few rows on a sentence encoder, else fine-tune",
        choices=config.RECIPES,
        ui="advanced",
    )
    seed: int = setting(
        config.DEFAULT_SEED,
        label="seed",
        help="random seed: data split, sampling, weights",
        minimum=0,
        maximum=config.SEED_MAX,
        ui="advanced",
    )
    chosen: dict[str, str] = field(default_factory=dict)  # filled in: why each auto value was picked

    def validate(self) -> None:
        """Refuse settings that cannot train, with a one-line reason."""
        check_ranges(self)


def training_settings() -> list[SettingField]:
    """The schema of TrainConfig (what the runs' parameter table shows)."""
    return schema(TrainConfig)


def choose_hyperparameters(
    cfg: TrainConfig,
    n_train: int,
    token_lengths: list[int] | None = None,
    model_limit: int = 512,
    gpu: bool = False,
    processes: int = 1,
    bf16_units: bool = False,
) -> TrainConfig:
    """Fill every setting left on auto (None) for the data, recording why in `chosen`.

    Small data needs enough optimizer steps: 320 rows at batch 32 for 2 epochs is
    20 steps and stays near chance, while batch 8 for 3 epochs (120 steps) learns.
    `token_lengths` are the training texts' token counts (special tokens included).
    `bf16_units`: the device has bf16 arithmetic units (see choose_precision).
    """
    chosen = dict(cfg.chosen)
    precision, why = choose_precision(cfg.precision, gpu, bf16_units)
    if why:
        chosen["precision"] = why
    batch_size, lr = cfg.batch_size, cfg.learning_rate
    if batch_size is None:
        batch_size = 8 if n_train < 1_000 else 16 if n_train < 10_000 else 32
        chosen["batch_size"] = f"{batch_size} (auto for {n_train:,} training rows: small data needs more steps)"
    if lr is None:
        lr = 5e-5 if n_train < 10_000 else 3e-5
        chosen["learning_rate"] = f"{lr:g} (auto for {n_train:,} training rows)"
    max_length = cfg.max_length
    if max_length is None:
        max_length, chosen["max_length"] = choose_max_length(token_lengths or [], model_limit, gpu, cfg.truncation)
    epochs, patience = cfg.epochs, cfg.early_stopping_patience
    if epochs is None:
        epochs, chosen["epochs"] = choose_epochs(n_train, batch_size * processes)
        if patience == 0:
            # Auto epochs lean long for small data; early stopping with the best epoch kept takes the risk out.
            patience = config.AUTO_EARLY_STOPPING_PATIENCE
            chosen["early_stopping"] = (
                f"after {patience} epochs without a better validation macro-F1; the best epoch is kept (auto)"
            )
    steps = math.ceil(n_train / (batch_size * processes)) * epochs  # under DDP each step takes a batch per process
    chosen["steps"] = f"{steps} optimizer steps at most, {max(1, round(steps * cfg.warmup_ratio))} of warmup"
    return replace(
        cfg,
        epochs=epochs,
        max_length=max_length,
        batch_size=batch_size,
        learning_rate=lr,
        early_stopping_patience=patience,
        precision=precision,
        chosen=chosen,
    )


def choose_precision(requested: str, gpu: bool, bf16_units: bool) -> tuple[str, str | None]:
    """The arithmetic a run trains in ("fp32", "bf16" or "fp16"), and why when it was left on auto.

    bf16 autocast keeps fp32 master weights, so the saved model is fp32 either way. It pays only
    where the hardware has bf16 units; an AVX2-only CPU emulates it and trains slower
    (bench/train_bench.py measures both).
    """
    if requested == "fp16" and not gpu:
        raise BertDemoError("fp16 training needs a GPU; on a CPU choose bf16 or fp32.")
    if requested != "auto":
        return requested, None
    if gpu:
        if bf16_units:
            return "bf16", "bf16 (auto: the GPU supports bf16)"
        return "fp16", "fp16 (auto: the GPU has no bf16, so fp16 mixed precision with loss scaling)"
    if bf16_units:
        return "bf16", "bf16 (auto: the CPU has bf16 units, AMX-BF16 or AVX512-BF16)"
    return "fp32", "fp32 (auto: this CPU has no bf16 units, and emulated bf16 would train slower)"


def choose_epochs(n_train: int, batch_size: int) -> tuple[int, str]:
    """Epochs that give small data enough optimizer steps and large data fewer passes; and why."""
    per_epoch = max(1, math.ceil(n_train / batch_size))
    floor = config.AUTO_MIN_EPOCHS if n_train < config.AUTO_LARGE_DATA_ROWS else config.AUTO_MIN_EPOCHS_LARGE
    epochs = min(config.AUTO_MAX_EPOCHS, max(floor, math.ceil(config.AUTO_TARGET_STEPS / per_epoch)))
    if epochs > floor:
        why = (
            f"{epochs} (auto: {per_epoch} steps per epoch, so {epochs} epochs reach about "
            f"{config.AUTO_TARGET_STEPS} optimizer steps, which small data needs)"
        )
    else:
        why = f"{epochs} (auto: {per_epoch:,} steps per epoch are plenty for {n_train:,} training rows)"
    return epochs, why


def choose_max_length(lengths: list[int], model_limit: int, gpu: bool, truncation: str) -> tuple[int, str]:
    """The shortest usual length that covers nearly every text, capped for speed on a CPU; and why.

    Batches are padded to their own longest text, so a generous length costs only where texts are long.
    """
    cap = min(model_limit, config.AUTO_MAX_LENGTH_GPU if gpu else config.AUTO_MAX_LENGTH_CPU)
    if not lengths:
        length = min(cap, config.DEFAULT_MAX_LENGTH)
        return length, f"{length} (auto: no token lengths measured)"
    ordered = sorted(lengths)
    need = ordered[max(0, math.ceil(config.AUTO_LENGTH_COVERAGE * len(ordered)) - 1)]
    fits = [c for c in config.AUTO_LENGTH_CHOICES if c >= need and c <= cap]
    length = fits[0] if fits else cap
    covered = sum(n <= length for n in lengths) / len(lengths)
    why = f"{length} (auto: covers {covered:.0%} of the texts whole"
    if not fits:
        where = "on a CPU, for speed" if cap < model_limit else "the model's limit"
        kept = "first and last" if truncation == "head_tail" else "first"
        pct = f"{100 * config.AUTO_LENGTH_COVERAGE:g}%"
        why += f"; {pct} need {need}, capped at {cap} {where}; longer texts keep their {kept} tokens"
    return length, why + ")"
