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


def choose_hyperparameters(cfg: TrainConfig, n_train: int) -> TrainConfig:
    """Fill batch size and learning rate for the data size, recording why.

    Small data needs enough optimizer steps: 320 rows at batch 32 for 2 epochs is
    20 steps and stays near chance, while batch 8 for 3 epochs (120 steps) learns.
    """
    chosen = dict(cfg.chosen)
    batch_size, lr = cfg.batch_size, cfg.learning_rate
    if batch_size is None:
        batch_size = 8 if n_train < 1_000 else 16 if n_train < 10_000 else 32
        chosen["batch_size"] = f"{batch_size} (auto for {n_train:,} training rows: small data needs more steps)"
    if lr is None:
        lr = 5e-5 if n_train < 10_000 else 3e-5
        chosen["learning_rate"] = f"{lr:g} (auto for {n_train:,} training rows)"
    epochs = cfg.epochs if cfg.epochs is not None else config.DEFAULT_EPOCHS  # placeholder until the epoch choice
    max_length = cfg.max_length if cfg.max_length is not None else config.DEFAULT_MAX_LENGTH
    steps = math.ceil(n_train / batch_size) * epochs
    chosen["steps"] = f"{steps} optimizer steps, {max(1, round(steps * cfg.warmup_ratio))} of warmup"
    return replace(cfg, epochs=epochs, max_length=max_length, batch_size=batch_size, learning_rate=lr, chosen=chosen)
