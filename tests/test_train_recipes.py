"""The training bench's time-to-the-same-accuracy arithmetic (bench/train_recipes.py), on made-up epochs."""

from __future__ import annotations

import pytest

from bench import train_recipes as recipes


def _run(*epochs: tuple[float, float]) -> dict:
    return {"epochs": [{"seconds": s, "accuracy": a} for s, a in epochs], "accuracy": epochs[-1][1]}


def test_the_target_is_the_tutorials_best_accuracy_and_a_weaker_recipe_does_not_lower_it() -> None:
    done = {
        "runs": {
            "tutorial": _run((100, 0.70), (200, 0.85), (300, 0.86)),
            "fast": _run((10, 0.80), (20, 0.88)),
            "never": _run((5, 0.60), (9, 0.84)),
        }
    }
    recipes.score(done)
    assert done["target_accuracy"] == 0.86
    runs = done["runs"]
    assert runs["tutorial"]["time_to_target"] == 300 and runs["fast"]["time_to_target"] == 20
    assert runs["fast"]["speedup_to_target"] == 15
    assert runs["never"]["time_to_target"] is None and runs["never"]["speedup_to_target"] is None
    assert recipes.time_to(runs["fast"], 0.95) is None


def test_an_unfinished_run_scores_what_it_has_and_waits_for_the_tutorial() -> None:
    assert "target_accuracy" not in recipes.score({"runs": {"fast": _run((10, 0.8))}})
    done = recipes.score({"runs": {"tutorial": _run((100, 0.7))}})
    assert done["target_accuracy"] == 0.7 and done["runs"]["tutorial"]["speedup_to_target"] == 1


def test_padding_shares_count_what_random_and_length_grouped_batches_compute() -> None:
    from bench.train_steps import padding_shares

    # Short and long texts, batch 2: random pairs mix them half the time, the Trainer's length groups (sorted
    # within mega-batches of 50 batches) at most once a mega-batch.
    lengths = [10, 100] * 200
    shares = padding_shares(lengths, batch=2)
    assert 0.2 < shares["random"] < 0.4 and shares["grouped"] < 0.05
    assert padding_shares([7] * 16, batch=4)["random"] == 0  # equal lengths: nothing padded either way


def test_the_first_epoch_table_splits_the_time_to_the_first_score_into_phases() -> None:
    from bench.first_epoch import render

    marks = {
        "baseline": 0.5, "quick probe s": 10.0, "quick max_length": 128, "quick model saved": 12.5,
        "first step starts": 13.5, "steps of epoch 1 done": 58.5, "steps": 60, "epoch 1 scored": 62.0,
        "accuracy": 0.75, "train_rows": 480, "val_rows": 120,
    }  # fmt: skip
    table = render({"machine": {"cpu": "Some CPU", "torch_threads": 2}, "simd": "AVX2, FMA", "timeline": marks})
    assert "| quick model: probe (128 tokens, train and validation rows) | 10.0 | 16% |" in table
    assert "| quick model: loading the classifier, saving its run | 2.0 | 3% |" in table
    assert "| 60 training steps | 45.0 | 73% |" in table
    assert "| evaluation of 120 rows, checkpoint | 3.5 | 6% |" in table
    assert "**62.0**" in table and "Some CPU (AVX2, FMA)" in table
    table = render({"machine": {"cpu": "Some CPU", "torch_threads": 2}, "simd": "AVX2, FMA",
                    "timeline": {**marks, "warmup_length": 128}})  # fmt: skip
    assert "| 60 training steps at 128 tokens (the length warm-up) | 45.0 | 73% |" in table


def test_a_levers_table_gives_each_seed_and_the_mean_differences() -> None:
    from bench.lever_seeds import LEVERS, render

    lever = LEVERS["warmup"]
    on, off = lever.sides
    seeds = [
        {"seed": s, on: {"accuracy": a, "quick_accuracy": 0.77, "quick_seconds": 11.0, "train_seconds": t},
         off: {"accuracy": b, "quick_accuracy": 0.77, "quick_seconds": 11.0, "train_seconds": 220.0}}
        for s, a, b, t in [(0, 0.8975, 0.9025, 200.0), (1, 0.8925, 0.8900, 176.0)]
    ]  # fmt: skip
    table = render({"machine": {"cpu": "some CPU"}, "seeds": seeds}, lever)
    assert table.count("\n| ") == 4  # a row per seed and side, under the header
    assert "0.8950 against 0.8962 (-0.12 points)" in table and "over 2 seed(s)" in table
    assert "1.10x, 1.25x (per seed)" in table and "--lever warmup" in table
    # A run from before the train seconds were recorded renders with a dash, and no time ratio.
    for m in seeds:
        for side in (on, off):
            del m[side]["train_seconds"]
    table = render({"machine": {"cpu": "some CPU"}, "seeds": seeds}, lever)
    assert "| 0 | first epoch at 128 tokens (the defaults) | 0.8975 | - |" in table and "per seed" not in table


def test_a_benchmarks_config_settings_are_put_back_after_its_run_even_when_it_fails() -> None:
    from bench.configured import config_set
    from bertdemo import config

    before = config.TRAIN_WARMUP_LENGTH, config.TRAIN_LP_FT
    with config_set(TRAIN_WARMUP_LENGTH=0, TRAIN_LP_FT=not before[1]):
        assert (config.TRAIN_WARMUP_LENGTH, config.TRAIN_LP_FT) == (0, not before[1])
    assert (config.TRAIN_WARMUP_LENGTH, config.TRAIN_LP_FT) == before
    with pytest.raises(RuntimeError), config_set(TRAIN_WARMUP_LENGTH=7):
        raise RuntimeError("the run failed")
    assert config.TRAIN_WARMUP_LENGTH == before[0]
    with pytest.raises(AttributeError):  # a misspelt setting is refused, not silently added
        with config_set(TRAIN_WARMUP_LENGHT=0):
            pass
