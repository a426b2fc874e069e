"""Issue 11 with the real bundled MiniLM, fine-tuned for a minute: batch prediction, explanation, model card."""

from __future__ import annotations

import csv

import pytest
from scipy.stats import pearsonr

from bertdemo.data import labeled, splits
from bertdemo.inference import predictors
from bertdemo.inference.batchpredict import predict_file
from bertdemo.inference.explain import explain
from bertdemo.runs import store
from bertdemo.training.hyperparameters import TrainConfig
from bertdemo.training.trainer import train_run
from tests.conftest import SHARED_DATA
from tests.test_explain import without_each_word
from tests.test_modelcard import code_blocks, front_matter, run_snippet

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """The bundled model fine-tuned on 400 labeled sentences (2 epochs)."""
    root = tmp_path_factory.mktemp("models")
    loaded = labeled.read_labeled_csv(SHARED_DATA / "sentiment_sentences.csv", max_rows=400, seed=0)
    train_run(splits.split_data(loaded, 0.2, 0), TrainConfig(epochs=2), "real", root=root)
    return root


def test_batch_prediction_on_sst2_dev(real, tmp_path):
    src = SHARED_DATA / "sst2_dev.csv"
    report = predict_file("real", src, tmp_path / "out.csv", root=real, chunk_rows=100)
    assert report["rows"] == 872 and report["skipped"] == 0 and report["label_column"] == "label"
    assert report["metrics"]["accuracy"] > 0.7  # 400 sentences of other reviews; chance is 0.5
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as fh:
        out = list(csv.DictReader(fh))
    with open(src, newline="", encoding="utf-8") as fh:
        assert [r["text"] for r in out] == [r["text"] for r in csv.DictReader(fh)]


def test_explanation_points_at_the_sentiment_words(real):
    predictor = predictors.load_predictor("real", "pytorch", real)
    cases = [
        ("The acting was wonderful and the story beautiful.", "positive", {"wonderful", "beautiful"}),
        ("A boring, dreadful film with a terrible script.", "negative", {"boring", "dreadful", "terrible"}),
    ]
    scores, drops = [], []
    for text, label, sentiment_words in cases:
        r = explain("real", text, root=real)
        assert r["label"] == label
        ranked = sorted(r["words"], key=lambda ws: -ws[1])
        assert {w for w, _ in ranked[:3]} & sentiment_words, r["words"]
        # Occlusion: dropping a word lowers the class's logit about as much as its score says.
        target = predictor.label_names.index(label)
        full = predictor.predict([text]).logits[0, target]
        drop = full - predictor.predict(without_each_word(text, r)).logits[:, target]
        assert drop[[w for w, _ in r["words"]].index(ranked[0][0])] > 0  # the top word really pushes that way
        scores += [s for _, s in r["words"]]
        drops += list(drop)
    # Over all words of both texts (a handful of words per text makes a per-text figure noisy).
    assert pearsonr(scores, drops).statistic > 0.5


def test_model_card_of_a_real_run(real):
    card = (store.run_dir("real", real) / "README.md").read_text(encoding="utf-8")
    meta = front_matter(card)
    assert meta["base_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert meta["labels"] == ["negative", "positive"]
    (answer,) = run_snippet(code_blocks(card)[0], real)  # pipeline("text-classification", model="real")
    assert answer[0]["label"] == "positive"
