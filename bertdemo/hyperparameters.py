"""Training settings and the defaults picked for the data size; no torch here, so bad settings are refused fast."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from bertdemo import config
from bertdemo.errors import BertDemoError


@dataclass
class TrainConfig:
    """What the user chooses; None means 'pick for the data size' (see choose_hyperparameters)."""

    model: str = config.DEFAULT_MODEL
    epochs: int | None = None  # None: chosen for the data size (choose_hyperparameters)
    learning_rate: float | None = None
    batch_size: int | None = None
    max_length: int | None = None  # None: chosen from the texts' token lengths
    truncation: str = config.DEFAULT_TRUNCATION
    warmup_ratio: float = config.DEFAULT_WARMUP_RATIO
    weight_decay: float = config.DEFAULT_WEIGHT_DECAY
    early_stopping_patience: int = 0  # 0 = off; else epochs without val-F1 gain before stopping
    seed: int = config.DEFAULT_SEED
    chosen: dict[str, str] = field(default_factory=dict)  # filled in: why each auto value was picked

    @classmethod
    def from_options(cls, options) -> TrainConfig:
        """The TrainConfig of any object with the CLI's option names (argparse args, a jobs.TrainRequest)."""
        return cls(
            model=options.model,
            epochs=options.epochs,
            learning_rate=options.learning_rate,
            batch_size=options.batch_size,
            max_length=options.max_length,
            truncation=getattr(options, "truncation", config.DEFAULT_TRUNCATION),
            warmup_ratio=options.warmup_ratio,
            weight_decay=options.weight_decay,
            early_stopping_patience=options.early_stopping,
            seed=options.seed,
        )

    def validate(self) -> None:
        """Refuse settings that cannot train, with a one-line reason."""
        if self.epochs is not None and not 1 <= self.epochs <= 100:
            raise BertDemoError(f"epochs must be between 1 and 100 (got {self.epochs}).")
        if self.learning_rate is not None and not 0 < self.learning_rate <= 1e-2:
            raise BertDemoError(f"learning rate must be in (0, 0.01] (got {self.learning_rate}); try 2e-5..5e-5.")
        if self.batch_size is not None and not 1 <= self.batch_size <= 1024:
            raise BertDemoError(f"batch size must be between 1 and 1024 (got {self.batch_size}).")
        if self.max_length is not None and not 8 <= self.max_length <= 512:
            raise BertDemoError(f"max length must be between 8 and 512 tokens (got {self.max_length}).")
        if self.truncation not in config.TRUNCATIONS:
            raise BertDemoError(f"truncation must be one of {', '.join(config.TRUNCATIONS)} (got {self.truncation!r}).")
        if not 0 <= self.warmup_ratio < 1:
            raise BertDemoError(f"warmup ratio must be in [0, 1) (got {self.warmup_ratio}).")
        if not 0 <= self.weight_decay <= 1:
            raise BertDemoError(f"weight decay must be in [0, 1] (got {self.weight_decay}).")
        if self.early_stopping_patience < 0:
            raise BertDemoError("early stopping patience must be 0 (off) or more.")


def choose_hyperparameters(
    cfg: TrainConfig, n_train: int, token_lengths: list[int] | None = None, model_limit: int = 512, gpu: bool = False
) -> TrainConfig:
    """Fill every setting left on auto (None) for the data, recording why in `chosen`.

    Small data needs enough optimizer steps: 320 rows at batch 32 for 2 epochs is
    20 steps and stays near chance, while batch 8 for 3 epochs (120 steps) learns.
    `token_lengths` are the training texts' token counts (special tokens included).
    """
    chosen = dict(cfg.chosen)
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
        epochs, chosen["epochs"] = choose_epochs(n_train, batch_size)
        if patience == 0:
            # Auto epochs lean long for small data; early stopping with the best epoch kept takes the risk out.
            patience = config.AUTO_EARLY_STOPPING_PATIENCE
            chosen["early_stopping"] = (
                f"after {patience} epochs without a better validation macro-F1; the best epoch is kept (auto)"
            )
    steps = math.ceil(n_train / batch_size) * epochs
    chosen["steps"] = f"{steps} optimizer steps at most, {max(1, round(steps * cfg.warmup_ratio))} of warmup"
    return replace(
        cfg,
        epochs=epochs,
        max_length=max_length,
        batch_size=batch_size,
        learning_rate=lr,
        early_stopping_patience=patience,
        chosen=chosen,
    )


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
