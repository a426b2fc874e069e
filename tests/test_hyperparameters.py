"""Settings left on auto: epochs for the data size, max length from the texts' token lengths."""

from __future__ import annotations

from bertdemo import config
from bertdemo.training.hyperparameters import TrainConfig, choose_epochs, choose_hyperparameters, choose_max_length


def test_small_data_gets_more_epochs_large_data_fewer() -> None:
    small, why = choose_epochs(240, 8)  # the example set: 30 steps per epoch
    assert small == 9 and "30 steps per epoch" in why
    assert choose_epochs(1600, 16)[0] == 3  # 100 steps per epoch: the floor
    assert choose_epochs(50_000, 32)[0] == config.AUTO_MIN_EPOCHS_LARGE
    assert choose_epochs(10, 8)[0] == config.AUTO_MAX_EPOCHS  # tiny data: capped
    epochs = [choose_epochs(n, 8)[0] for n in (50, 200, 400, 800)]
    assert epochs == sorted(epochs, reverse=True)


def test_auto_epochs_turn_on_early_stopping_explicit_epochs_mean_exactly_n() -> None:
    auto = choose_hyperparameters(TrainConfig(), 240)
    assert auto.epochs == 9 and auto.early_stopping_patience == config.AUTO_EARLY_STOPPING_PATIENCE
    assert "auto" in auto.chosen["epochs"] and "best epoch is kept" in auto.chosen["early_stopping"]
    fixed = choose_hyperparameters(TrainConfig(epochs=4), 240)
    assert fixed.epochs == 4 and fixed.early_stopping_patience == 0 and "epochs" not in fixed.chosen
    mine = choose_hyperparameters(TrainConfig(early_stopping_patience=5), 240)
    assert mine.early_stopping_patience == 5 and "early_stopping" not in mine.chosen


def test_max_length_covers_the_texts_and_is_capped_on_cpu() -> None:
    short = [12] * 90 + [40] * 10
    assert choose_max_length(short, 512, gpu=False, truncation="head")[0] == 64
    assert choose_max_length([100] * 99 + [2000], 512, gpu=False, truncation="head")[0] == 128  # p99 covered
    long, why = choose_max_length([200] * 50 + [900] * 50, 512, gpu=False, truncation="head_tail")
    assert long == config.AUTO_MAX_LENGTH_CPU and "first and last" in why and "50%" in why
    assert choose_max_length([300] * 50 + [900] * 50, 512, gpu=True, truncation="head")[0] == 512
    assert choose_max_length([900] * 10, 128, gpu=True, truncation="head")[0] == 128  # the model's own limit
    assert choose_max_length([], 512, gpu=False, truncation="head")[0] == config.DEFAULT_MAX_LENGTH


def test_explicit_max_length_is_kept() -> None:
    cfg = choose_hyperparameters(TrainConfig(max_length=200), 100, token_lengths=[500] * 10)
    assert cfg.max_length == 200 and "max_length" not in cfg.chosen
    auto = choose_hyperparameters(TrainConfig(), 100, token_lengths=[20] * 10)
    assert auto.max_length == 64 and "covers 100%" in auto.chosen["max_length"]


def test_precision_on_auto_follows_the_hardwares_bf16_units() -> None:
    import pytest

    from bertdemo.errors import BertDemoError
    from bertdemo.training.hyperparameters import choose_precision

    assert choose_precision("auto", gpu=False, bf16_units=True)[0] == "bf16"
    cpu, why = choose_precision("auto", gpu=False, bf16_units=False)
    assert cpu == "fp32" and "no bf16 units" in why
    assert choose_precision("auto", gpu=True, bf16_units=True)[0] == "bf16"
    assert choose_precision("auto", gpu=True, bf16_units=False)[0] == "fp16"
    assert choose_precision("bf16", gpu=False, bf16_units=False) == ("bf16", None)  # asked for: obeyed
    assert choose_precision("fp32", gpu=True, bf16_units=True) == ("fp32", None)
    with pytest.raises(BertDemoError, match="fp16 training needs a GPU"):
        choose_precision("fp16", gpu=False, bf16_units=True)
    auto = choose_hyperparameters(TrainConfig(), 240, bf16_units=True)
    assert auto.precision == "bf16" and auto.chosen["precision"].startswith("bf16 (auto")
    fixed = choose_hyperparameters(TrainConfig(precision="fp32"), 240, bf16_units=True)
    assert fixed.precision == "fp32" and "precision" not in fixed.chosen
    with pytest.raises(BertDemoError, match="precision must be one of"):
        TrainConfig(precision="int4").validate()
