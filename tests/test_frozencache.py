"""Frozen lower layers with cached outputs: same outputs, only the top trains, any head, a plain model saved."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn
from transformers import AutoModelForSequenceClassification, AutoTokenizer, BertModel

from bertdemo import config
from bertdemo.training.frozencache import FrozenPrefixCache, attach_frozen_cache, frozen_layer_count
from bertdemo.training.hyperparameters import TrainConfig
from bertdemo.training.trainer import train_run
from tests.test_training import tiny_split

TEXTS = ["a fine film", "a long and dull movie that I did not like at all", "ok"]


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    return AutoTokenizer.from_pretrained(tiny_model_dir)


def _classifier(path):
    return AutoModelForSequenceClassification.from_pretrained(path).eval()


def test_layer_count_keeps_one_layer_trainable() -> None:
    assert [frozen_layer_count(6, f) for f in (0, 0.5, 0.67, 1.0)] == [0, 3, 4, 5]
    assert frozen_layer_count(1, 0.5) == 0


def test_cached_outputs_equal_the_plain_model_whatever_the_padding(tiny_model_dir, tokenizer) -> None:
    model = _classifier(tiny_model_dir)
    enc = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        plain = model(**enc).logits
    cache, why = attach_frozen_cache(model, 0.5, "fp32", 1 << 20)
    assert cache is not None and "1 of 2 layers frozen" in why
    padded = tokenizer(TEXTS[::-1], padding="max_length", max_length=24, return_tensors="pt")
    with torch.no_grad():
        first = model(**enc).logits
        again = model(**padded).logits.flip(0)  # other order, more padding: the same texts hit the cache
    assert torch.allclose(first, plain, atol=1e-5) and torch.allclose(again, plain, atol=1e-5)
    assert cache.stats()["misses"] == 3 and cache.stats()["hits"] == 3


def test_only_the_top_layers_and_head_get_gradients_and_detach_restores_the_plain_model(tiny_model_dir, tokenizer):
    model = _classifier(tiny_model_dir)
    keys = set(model.state_dict())
    cache, _ = attach_frozen_cache(model, 0.5, "fp32", 1 << 20)
    model.train()
    out = model(**tokenizer(TEXTS, padding=True, return_tensors="pt"), labels=torch.tensor([1, 0, 1]))
    out.loss.backward()
    grads = {n for n, p in model.named_parameters() if p.grad is not None}
    assert grads and all(n.startswith(("bert.encoder.layer.1.", "bert.pooler.", "classifier.")) for n in grads)
    cache.detach()
    cache.detach()  # twice is harmless (the trainer's finally detaches again)
    assert set(model.state_dict()) == keys and all(p.requires_grad for p in model.parameters())
    assert "forward" not in model.bert.embeddings.__dict__ and not cache.cache


class MeanPooled(nn.Module):
    """A head that is not BERT's: mean of the last hidden states where the mask is on, then a linear layer."""

    def __init__(self, path):
        super().__init__()
        self.base_model = BertModel.from_pretrained(path, add_pooling_layer=False)
        self.config = self.base_model.config
        self.out = nn.Linear(self.config.hidden_size, 2)

    def forward(self, input_ids, attention_mask):
        h = self.base_model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        m = attention_mask.unsqueeze(-1).float()
        return self.out((h * m).sum(1) / m.sum(1))


def test_any_head_over_the_base_model_works(tiny_model_dir, tokenizer) -> None:
    model = MeanPooled(tiny_model_dir).eval()
    enc = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        plain = model(enc["input_ids"], enc["attention_mask"])
        cache = FrozenPrefixCache(model, 1).attach()
        cached = model(enc["input_ids"], enc["attention_mask"])
    assert torch.allclose(cached, plain, atol=1e-5) and cache.stats()["cached_texts"] == 3


def test_a_run_with_frozen_layers_trains_the_top_only_and_saves_a_plain_model(
    tiny_model_dir, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(config, "TRAIN_FROZEN_FRACTION", 0.5)
    info = train_run(
        tiny_split(), TrainConfig(model=str(tiny_model_dir), epochs=2, batch_size=8), "frozen", root=tmp_path
    )
    assert info["frozen"]["frozen_layers"] == 1 and info["frozen"]["hits"] > 0
    assert (
        "1 of 2 layers frozen"
        in json.loads((tmp_path / "frozen" / "run.json").read_text())["params"]["chosen"]["frozen_layers"]
    )
    base, saved = _classifier(tiny_model_dir).state_dict(), _classifier(tmp_path / "frozen").state_dict()
    assert set(saved) == set(base)
    for name in ("bert.embeddings.word_embeddings.weight", "bert.encoder.layer.0.output.dense.weight"):
        assert torch.equal(saved[name], base[name])  # frozen: as the base model had them
    assert not torch.equal(
        saved["bert.encoder.layer.1.output.dense.weight"], base["bert.encoder.layer.1.output.dense.weight"]
    )
