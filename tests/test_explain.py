"""Token explanations: Captum's integrated gradients, checked for completeness and against word occlusion."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from bertdemo.errors import BertDemoError, RunNotFound
from bertdemo.inference import explain as explain_mod
from bertdemo.inference import predictors
from bertdemo.inference.explain import explain
from bertdemo.runs import store
from tests.helpers import make_tiny_run

TEXTS = [
    "The phone was wonderful, I would buy it again without any doubt.",
    "Terrible service, the food was cold and the waiter was rude to us.",
    "An unbelievably moving story, beautifully shot and acted.",
]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    make_tiny_run(root, "tiny")
    make_tiny_run(root, "cut")
    store.update_run("cut", {"params": {"max_length": 12, "truncation": "head_tail"}}, root)
    make_tiny_run(root, "head")
    store.update_run("head", {"params": {"max_length": 8, "truncation": "head"}}, root)
    yield root
    explain_mod.clear_cache()


def test_tokens_words_and_segments_line_up_with_the_text(root):
    r = explain("tiny", TEXTS[2], root=root)
    pieces = [t for t, _ in r["tokens"]]
    tok = predictors.load_predictor("tiny", "pytorch", root).tokenizer
    assert pieces == tok.tokenize(TEXTS[2])  # word pieces, no [CLS]/[SEP]
    assert any(p.startswith("##") for p in pieces)  # "unbelievably" is split...
    words = dict(r["words"])
    assert "unbelievably" in words and "An" in words  # merged back from its pieces, in the text's own case
    # That word's score is the sum of its pieces' scores.
    start = next(i for i, p in enumerate(pieces) if "unbelievably".startswith(p) and pieces[i + 1].startswith("##"))
    end = next(i for i in range(start + 1, len(pieces) + 1) if i == len(pieces) or not pieces[i].startswith("##"))
    assert "".join(p.removeprefix("##") for p in pieces[start:end]) == "unbelievably"
    assert words["unbelievably"] == pytest.approx(sum(s for _, s in r["tokens"][start:end]), rel=1e-4)
    assert "".join(t for t, _ in r["segments"]) == TEXTS[2]  # highlighting shows the text as typed
    scaled = [s for _, s in r["segments"] if s is not None]
    assert max(abs(s) for s in scaled) == pytest.approx(1.0)
    assert r["label"] == r["target"] and set(r["probabilities"]) == {"negative", "positive"}


def test_scores_add_up_to_the_logit_change_from_the_baseline(root):
    """Completeness, checked with the model itself: sum of scores = f(text) - f(all-[PAD] text)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    path = store.run_dir("tiny", root)
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path).eval()
    for text in TEXTS:
        r = explain("tiny", text, root=root, steps=48)
        enc = tok(text, return_tensors="pt")
        ids = enc["input_ids"]
        special = torch.tensor(tok.get_special_tokens_mask(ids[0].tolist(), already_has_special_tokens=True)).bool()
        baseline = torch.where(special, ids[0], torch.full_like(ids[0], tok.pad_token_id)).unsqueeze(0)
        t = model.config.label2id[r["target"]]
        with torch.no_grad():
            change = float(
                model(**enc).logits[0, t] - model(baseline, attention_mask=enc["attention_mask"]).logits[0, t]
            )
        total = sum(s for _, s in r["tokens"])
        assert abs(change) > 0
        assert total == pytest.approx(change, rel=0.02)


def test_attributions_agree_with_dropping_one_word_at_a_time(root):
    """Occlusion (cheap, model-agnostic): removing a high-scoring word lowers the class's logit the most."""
    predictor = predictors.load_predictor("tiny", "pytorch", root)
    for text in TEXTS:
        r = explain("tiny", text, root=root)
        target = predictor.label_names.index(r["target"])
        full = predictor.predict([text]).logits[0, target]
        drops = full - predictor.predict(without_each_word(text, r)).logits[:, target]
        rho = spearmanr([s for _, s in r["words"]], drops).statistic
        assert rho > 0.6, (text, rho)


def test_truncation_as_the_run_was_trained(root):
    long = "first words matter " + "filler " * 40 + "and the final verdict"
    r = explain("cut", long, root=root)  # head_tail, 12 tokens: 10 pieces, 2-3 from the head, the rest the tail
    words = [w for w, _ in r["words"]]
    assert len(r["tokens"]) == 10 and words[0] == "first" and words[-1] == "verdict"
    assert [" … ", None] in r["segments"]
    r = explain("head", long, root=root)  # head, 8 tokens: the first 6 pieces (filler = fill ##er)
    assert [w for w, _ in r["words"]] == ["first", "words", "matter", "filler", "fill"]  # what the model saw
    assert r["segments"][-1] == [" …", None]


def test_target_class_and_bad_input(root):
    a = explain("tiny", TEXTS[0], root=root, target="positive")
    b = explain("tiny", TEXTS[0], root=root, target="negative")
    assert a["target"] == "positive" and b["target"] == "negative"
    assert not np.allclose([s for _, s in a["tokens"]], [s for _, s in b["tokens"]])
    with pytest.raises(BertDemoError, match="Unknown class 'neutral'"):
        explain("tiny", TEXTS[0], root=root, target="neutral")
    with pytest.raises(BertDemoError, match="Type a text"):
        explain("tiny", "   ", root=root)
    with pytest.raises(RunNotFound):
        explain("nope", TEXTS[0], root=root)


def without_each_word(text: str, explanation: dict) -> list[str]:
    """The text once per explained word, with that one occurrence of it cut out."""
    out, pos = [], 0
    for word, _ in explanation["words"]:
        start = text.index(word, pos)
        out.append(text[:start] + text[start + len(word) :])
        pos = start + len(word)
    return out
