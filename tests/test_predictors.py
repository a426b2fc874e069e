"""Predictors: PyTorch and ONNX Runtime give the same answers, errors are one line, the cache reloads."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from bertdemo import config
from bertdemo.errors import BertDemoError, NotExported, RunNotFound, UnknownBackend
from bertdemo.hardware import OrtPolicy
from bertdemo.inference import predictors
from bertdemo.onnx.export import export_run
from bertdemo.runs import store
from tests.helpers import make_tiny_run

REAL = [
    "it 's a charming and often affecting journey .",
    "unflinchingly bleak and desperate",
    "the acting , costumes , music , cinematography and sound are all astounding given the production 's austere "
    "locales .",
    "A wonderful, moving film.",
    "Dull and far too long; I walked out after an hour.",
    "ok",
    "",
]


def random_texts(tokenizer, n_words: tuple[int, ...] = (1, 3, 10, 40, 90, 300), seed: int = 0) -> list[str]:
    """Random word salad of varied lengths (the longest goes past max_length, so truncation is exercised)."""
    rng = np.random.default_rng(seed)
    words = [w for w in tokenizer.get_vocab() if w.isalpha() and w.isascii()]
    return [" ".join(rng.choice(words, size=k)) for k in n_words]


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A models folder with the tiny run exported in every variant."""
    root = tmp_path_factory.mktemp("models")
    make_tiny_run(root, "tiny")
    export_run("tiny", optimize=True, quantize=True, root=root)
    yield root
    predictors.clear_cache()


@pytest.fixture(scope="module")
def texts(root) -> list[str]:
    tok = predictors.load_predictor("tiny", "pytorch", root).tokenizer
    return REAL + random_texts(tok)


def test_prediction_shape_labels_and_probabilities(root, texts):
    pred = predictors.load_predictor("tiny", "pytorch", root).predict(texts)
    assert pred.label_names == ["negative", "positive"]
    assert pred.logits.shape == pred.probabilities.shape == (len(texts), 2)
    assert pred.logits.dtype == np.float32
    np.testing.assert_allclose(pred.probabilities.sum(axis=1), 1.0, rtol=1e-6)
    assert pred.labels == [pred.label_names[i] for i in pred.logits.argmax(axis=1)]


@pytest.mark.parametrize("batch_size", [1, 3, 32])
@pytest.mark.parametrize("backend,atol", [("onnx", config.ONNX_ATOL), ("onnx-optimized", config.ONNX_OPTIMIZED_ATOL)])
def test_onnx_fp32_matches_pytorch(root, texts, backend, atol, batch_size):
    ref = predictors.load_predictor("tiny", "pytorch", root).predict(texts, batch_size)
    got = predictors.load_predictor("tiny", backend, root).predict(texts, batch_size)
    torch.testing.assert_close(torch.from_numpy(got.logits), torch.from_numpy(ref.logits), atol=atol, rtol=1e-3)
    assert got.labels == ref.labels


def test_int8_mostly_agrees_with_pytorch(root, texts):
    ref = predictors.load_predictor("tiny", "pytorch", root).predict(texts)
    got = predictors.load_predictor("tiny", "onnx-int8", root).predict(texts)
    agreement = np.mean([a == b for a, b in zip(got.labels, ref.labels, strict=True)])
    assert agreement >= 0.8
    assert np.abs(got.probabilities - ref.probabilities).max() < 0.05


def test_batching_keeps_order(root, texts):
    """Length-sorted batches must come back in the caller's order, matching one-by-one answers."""
    p = predictors.load_predictor("tiny", "onnx", root)
    together = p.predict(texts, batch_size=2)
    one_by_one = np.concatenate([p.predict([t], 1).logits for t in texts])
    np.testing.assert_allclose(together.logits, one_by_one, atol=1e-5)


def test_truncates_at_max_length_and_accepts_odd_input(root):
    p = predictors.load_predictor("tiny", "pytorch", root)
    assert p.count_tokens(["word " * 5000, "hi"]) == [128, 3]
    assert len(p.predict("a single string is one text").labels) == 1
    empty = p.predict([])
    assert empty.labels == [] and empty.logits.shape == (0, 2)


def test_unknown_backend_lists_the_valid_ones(root):
    with pytest.raises(UnknownBackend) as err:
        predictors.load_predictor("tiny", "tensorrt", root)
    assert isinstance(err.value, BertDemoError)
    for b in config.BACKENDS:
        assert b in str(err.value)


def test_unknown_run(tmp_path):
    with pytest.raises(RunNotFound):
        predictors.load_predictor("nope", "pytorch", tmp_path)


def test_onnx_before_export_says_how_to_export(tmp_path):
    make_tiny_run(tmp_path, "fresh")
    with pytest.raises(NotExported) as err:
        predictors.load_predictor("fresh", "onnx", tmp_path)
    assert str(err.value) == "Run 'fresh' has no ONNX export yet: export it first."
    assert err.value.cli_hint == "(command line: python -m bertdemo export fresh)"
    assert "\n" not in str(err.value)


def test_missing_variant_names_the_flag_only_for_the_cli(tmp_path):
    make_tiny_run(tmp_path, "plain")
    export_run("plain", root=tmp_path)
    assert predictors.load_predictor("plain", "onnx", tmp_path).backend == "onnx"
    for backend, flag in (("onnx-int8", "--quantize"), ("onnx-optimized", "--optimize")):
        with pytest.raises(NotExported, match=f"no {backend} variant") as err:
            predictors.load_predictor("plain", backend, tmp_path)
        assert "--" not in str(err.value) and flag in err.value.cli_hint


def test_cache_returns_the_same_predictor(root):
    a = predictors.load_predictor("tiny", "onnx", root)
    assert predictors.load_predictor("tiny", "onnx", root) is a
    predictors.clear_cache("tiny")
    assert predictors.load_predictor("tiny", "onnx", root) is not a


def test_cache_reloads_a_deleted_and_recreated_run(tmp_path):
    make_tiny_run(tmp_path, "again")
    first = predictors.load_predictor("again", "pytorch", tmp_path)
    store.delete_run("again", tmp_path)
    with pytest.raises(RunNotFound):
        predictors.load_predictor("again", "pytorch", tmp_path)
    make_tiny_run(tmp_path, "again", labels=["bad", "good", "meh"])
    second = predictors.load_predictor("again", "pytorch", tmp_path)
    assert second is not first
    assert second.label_names == ["bad", "good", "meh"]
    assert second.predict(["fine"]).probabilities.shape == (1, 3)


def test_concurrent_loads_and_predictions(root, texts):
    """Gradio calls from many threads: one load, and the shared fast tokenizer must not break."""
    predictors.clear_cache("tiny")
    loaded, answers, errors = [], [], []

    def work():
        try:
            p = predictors.load_predictor("tiny", "pytorch", root)
            loaded.append(p)
            for _ in range(5):
                answers.append(p.predict(texts, batch_size=4).labels)
        except Exception as exc:  # collected: an exception in a thread would not fail the test
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({id(p) for p in loaded}) == 1
    assert all(a == answers[0] for a in answers)


def test_cache_is_bounded_and_keeps_the_recently_used(tmp_path, monkeypatch):
    """Regression: every run and back-end ever asked for stayed loaded (four models per compared run, forever)."""
    monkeypatch.setattr(config, "PREDICTOR_CACHE_SIZE", 2, raising=False)
    predictors.clear_cache()
    for name in ("r1", "r2", "r3"):
        make_tiny_run(tmp_path, name)
    first = predictors.load_predictor("r1", "pytorch", tmp_path)
    predictors.load_predictor("r2", "pytorch", tmp_path)
    assert predictors.load_predictor("r1", "pytorch", tmp_path) is first  # r1 is now the most recently used
    predictors.load_predictor("r3", "pytorch", tmp_path)  # over the bound: r2, the least recently used, goes
    cached = {Path(run).name for run, _ in predictors._cache}
    assert cached == {"r1", "r3"}
    assert predictors.load_predictor("r1", "pytorch", tmp_path) is first
    predictors.clear_cache()


def test_onnx_session_spins_only_when_told(root):
    """The policy's spinning choice reaches the ONNX Runtime session as its allow_spinning entry."""
    run_path = store.run_dir("tiny", root)
    for spinning in (True, False):
        policy = OrtPolicy(threads=1, spinning=spinning, reason="test")
        p = predictors.OnnxPredictor(run_path, "onnx", policy=policy)
        entry = p.session.get_session_options().get_session_config_entry("session.intra_op.allow_spinning")
        assert entry == ("1" if spinning else "0") and p.spinning is spinning and p.threads == 1


def test_one_batch_fast_path_matches_the_batched_path(root, texts):
    """A lone request skips sorting and copies; its answers must equal those of the general path."""
    p = predictors.load_predictor("tiny", "onnx-int8", root)
    for text in texts:
        alone = p.predict([text], batch_size=1)
        batched = p.predict([text, "ok", text], batch_size=1)  # > batch_size: the sorted, batched path
        np.testing.assert_allclose(alone.logits[0], batched.logits[0], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(alone.probabilities.sum(), 1.0, rtol=1e-6)
        assert alone.labels[0] == batched.labels[0]
    empty = p.predict([])
    assert empty.labels == [] and empty.logits.shape == (0, 2)


def test_resolved_names_stay_per_models_folder_and_follow_re_exports(tmp_path):
    """The served fast path (one stat per request) must never answer from another folder or a stale export."""
    predictors.clear_cache()
    a, b = tmp_path / "a", tmp_path / "b"
    make_tiny_run(a, "same")
    make_tiny_run(b, "same", labels=["bad", "good", "meh"])
    pa = predictors.load_predictor("same", "pytorch", a)
    pb = predictors.load_predictor("same", "pytorch", b)
    assert pa is not pb and pb.label_names == ["bad", "good", "meh"]
    assert predictors.load_predictor("same", "pytorch", a) is pa
    store.update_run("same", {"note": "touched"}, a)  # as an export does: run.json changes, the stamp with it
    assert predictors.load_predictor("same", "pytorch", a) is not pa
    predictors.clear_cache()
