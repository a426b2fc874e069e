"""The mean-pooling classifier: what it computes, how a run with it loads, which bases are mean-pooling encoders."""

from __future__ import annotations

import json

import pytest
import torch

from bertdemo import meanpool
from bertdemo.tokenizing import bundled_model_path, load_classifier, load_tokenizer
from tests.helpers import make_tiny_model_dir


@pytest.fixture(scope="module")
def tiny_mean_model(tmp_path_factory):
    """The tiny random BERT as a mean-pooling classifier (normalized), saved and loaded back."""
    base = make_tiny_model_dir(tmp_path_factory.mktemp("base"))
    labels = {0: "a", 1: "b", 2: "c"}
    model = load_classifier(
        base, pooling={"normalize": True}, num_labels=3, id2label=labels, ignore_mismatched_sizes=True
    )
    saved = tmp_path_factory.mktemp("saved")
    model.save_pretrained(saved)
    return model.eval(), saved, load_tokenizer(str(base))


def test_logits_are_the_head_of_the_normalized_mean_of_real_tokens(tiny_mean_model) -> None:
    model, _, tokenizer = tiny_mean_model
    batch = tokenizer(
        ["a short one", "a much longer text with many more words in it"], padding=True, return_tensors="pt"
    )
    with torch.no_grad():
        hidden = model.bert(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
        expected = model.classifier(pooled)
        got = model(**batch).logits
        alone = model(**tokenizer(["a short one"], return_tensors="pt")).logits
    assert torch.allclose(got, expected, atol=1e-6)
    assert torch.allclose(got[0], alone[0], atol=1e-5), "padding must not change a text's logits"


def test_a_saved_mean_pool_run_loads_as_the_mean_pool_class(tiny_mean_model) -> None:
    model, saved, _ = tiny_mean_model
    config = json.loads((saved / "config.json").read_text())
    assert config[meanpool.POOLING_KEY] == "mean" and config["architectures"] == [meanpool.ARCHITECTURE]
    loaded = load_classifier(saved)
    assert isinstance(loaded, meanpool.MeanPoolBertForSequenceClassification) and loaded.normalize
    assert torch.equal(loaded.classifier.weight, model.classifier.weight)


def test_the_bundled_encoder_is_a_normalized_mean_pooling_one_and_a_plain_bert_is_not(tmp_path) -> None:
    assert meanpool.sentence_pooling(bundled_model_path()) == {"normalize": True}
    assert meanpool.sentence_pooling(make_tiny_model_dir(tmp_path / "plain")) is None
    cls = tmp_path / "cls"
    (cls / "1_Pooling").mkdir(parents=True)
    (cls / "modules.json").write_text(
        json.dumps([{"type": "x.Transformer"}, {"path": "1_Pooling", "type": "x.Pooling"}])
    )
    (cls / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    assert meanpool.sentence_pooling(cls) is None, "a [CLS]-pooling sentence encoder keeps the usual classifier"
