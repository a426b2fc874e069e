"""Sequence-length warm-up: the first epoch trains on texts cut short, exactly as the run cuts them; the rest, the
evaluations and the saved run read the full length."""

from __future__ import annotations

import json

import pytest
from transformers import AutoTokenizer

from bertdemo import config
from bertdemo.data.splits import Split
from bertdemo.tokenizing import encode
from bertdemo.training.dynamics import ROW_COLUMN
from bertdemo.training.hyperparameters import TrainConfig
from bertdemo.training.lengthwarmup import SHORT_PREFIX, WarmupCollator, warmup_plan
from bertdemo.training.monitor import TrainingMonitor
from bertdemo.training.trainer import train_run
from tests.test_training import tiny_model  # noqa: F401 - the fixture

WORDS = "the plot moves slowly but the acting is strong and the ending is worth the long wait".split()


def _long_split() -> Split:
    """Twelve training texts of 20-30 tokens: longer than the warm-up length the test sets, within the run's."""
    texts = [" ".join(WORDS[i % 5 :] + WORDS[: i % 7]) + f" {'good' if i % 2 else 'bad'}" for i in range(12)]
    labels = ["positive" if i % 2 else "negative" for i in range(12)]
    return Split(texts, labels, texts[:4], labels[:4], ["negative", "positive"])


def test_the_plan_is_off_where_it_cannot_help_or_would_break() -> None:
    assert warmup_plan(256, 5, 128, frozen=False)[0] == 128
    assert "first epoch" in warmup_plan(256, 5, 128, frozen=False)[1]
    assert warmup_plan(128, 5, 128, frozen=False) == (0, None)  # nothing to cut
    assert warmup_plan(256, 1, 128, frozen=False) == (0, None)  # the one epoch is the model
    assert warmup_plan(256, 5, 128, frozen=True) == (0, None)  # the frozen cache holds full-length outputs
    assert warmup_plan(256, 5, 0, frozen=False) == (0, None)  # switched off


@pytest.mark.parametrize("truncation", ["head_tail", "head"])
def test_first_epoch_reads_the_runs_own_cut_at_the_short_length(tiny_model, models_root, monkeypatch, truncation):  # noqa: F811
    monkeypatch.setattr(config, "TRAIN_WARMUP_LENGTH", 12)
    seen: list[dict] = []
    collate = WarmupCollator.__call__

    def spy(self, features):
        batch = collate(self, features)
        seen.append({"train": SHORT_PREFIX + "input_ids" in features[0], "short": self.short, "batch": batch})
        return batch

    monkeypatch.setattr(WarmupCollator, "__call__", spy)
    split = _long_split()
    cfg = TrainConfig(
        model=tiny_model, epochs=3, batch_size=4, max_length=48, truncation=truncation, recipe="fine-tune"
    )
    monitor = TrainingMonitor()
    info = train_run(split, cfg, f"warm-{truncation}", root=models_root, monitor=monitor)
    assert "length_warmup" in monitor.snapshot()["chosen"]  # the live status says so, not only run.json

    train = [s for s in seen if s["train"]]
    assert len(train) == 3 * 3  # 12 rows / batch 4, three epochs
    assert [s["short"] for s in train] == [True] * 3 + [False] * 6
    assert all(not s["short"] for s in seen if not s["train"])  # every evaluation reads the full length
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    for part, length in ((train[:3], 12), (train[3:], 48)):
        for s in part:
            batch = s["batch"]
            assert not any(k.startswith(SHORT_PREFIX) for k in batch)  # the model never sees the extra columns
            rows = batch[ROW_COLUMN].tolist()
            expected = encode(tokenizer, [split.train_texts[r] for r in rows], length, truncation)["input_ids"]
            got = [
                ids[mask.bool()].tolist() for ids, mask in zip(batch["input_ids"], batch["attention_mask"], strict=True)
            ]
            assert got == expected  # exactly the run's own cut at that length
    assert max(s["batch"]["input_ids"].shape[1] for s in train[:3]) == 12
    assert min(s["batch"]["input_ids"].shape[1] for s in train[3:]) > 12

    saved = json.loads((models_root / f"warm-{truncation}" / "run.json").read_text())
    assert saved["length_warmup"] == {"max_length": 12, "epochs": 1, "steps": 3} == info["length_warmup"]
    assert "12 tokens" in saved["params"]["chosen"]["length_warmup"]
    card = (models_root / f"warm-{truncation}" / "README.md").read_text()
    assert "| length warm-up | first 1 epoch(s) at 12 tokens |" in card and "| max length (tokens) | 48 |" in card
    assert len(saved["history"]) == 3


def test_switched_off_every_epoch_reads_the_full_length(tiny_model, models_root, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setattr(config, "TRAIN_WARMUP_LENGTH", 0)
    cfg = TrainConfig(model=tiny_model, epochs=2, batch_size=4, max_length=48, recipe="fine-tune")
    info = train_run(_long_split(), cfg, "cold", root=models_root)
    assert "length_warmup" not in info and "length_warmup" not in info["params"]["chosen"]
