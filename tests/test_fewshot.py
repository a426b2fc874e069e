"""Few labeled rows: the recipe chosen, SetFit-style pairs, the quick model, and what the runs are (tiny models)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from bertdemo import config, meanpool
from bertdemo.errors import BertDemoError, TrainingStopped
from bertdemo.inference import predictors
from bertdemo.onnx.export import export_run
from bertdemo.runs import store
from bertdemo.training import fewshot
from bertdemo.training.hyperparameters import TrainConfig
from bertdemo.training.monitor import TrainingMonitor
from bertdemo.training.trainer import train_run
from tests.helpers import make_tiny_model_dir
from tests.test_training import tiny_split


@pytest.fixture(scope="module")
def tiny_encoders(tmp_path_factory):
    """(plain tiny BERT, the same made a mean-pooling sentence encoder by its modules.json)."""
    plain = make_tiny_model_dir(tmp_path_factory.mktemp("plain") / "tiny")
    sentence = tmp_path_factory.mktemp("sentence") / "tiny"
    shutil.copytree(plain, sentence)
    (sentence / "1_Pooling").mkdir()
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    (sentence / "modules.json").write_text(json.dumps(modules))
    (sentence / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_mean_tokens": True}))
    return str(plain), str(sentence)


class TriesTheQuickModel(TrainingMonitor):
    """A visitor who predicts with the quick model the moment it is announced, while training goes on."""

    def __init__(self, root):
        super().__init__()
        self.root, self.tried, self.removed = root, None, False

    def set_quick(self, quick):
        super().set_quick(quick)
        if quick.get("removed"):  # the final run is saved: the quick one is gone
            assert not (self.root / Path(quick["path"]).name).exists()
            self.removed = True
            return
        predicted = predictors.load_predictor(quick["run"], "pytorch", self.root).predict(tiny_split().val_texts)
        right = [p == g for p, g in zip(predicted.labels, tiny_split().val_labels, strict=True)]
        self.tried = {"info": store.load_run(quick["run"], self.root), "accuracy": sum(right) / len(right)}
        predictors.clear_cache(quick["run"])


@pytest.fixture(scope="module")
def contrastive_run(tiny_encoders, tmp_path_factory):
    """The tiny sentence encoder trained on auto: (root, run.json, monitor)."""
    root = tmp_path_factory.mktemp("models")
    monitor = TriesTheQuickModel(root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(config, "FEWSHOT_MAX_PAIRS", 160)  # 4 steps: the tiny model learns nothing more from more
        info = train_run(tiny_split(), TrainConfig(model=tiny_encoders[1]), "few", monitor=monitor, root=root)
    return root, info, monitor


def test_few_rows_on_a_sentence_encoder_choose_contrastive_and_others_fine_tune() -> None:
    few = ["a"] * 8 + ["b"] * 8
    assert fewshot.choose_recipe("auto", few, "bert", {"normalize": True})[0] == fewshot.CONTRASTIVE
    assert fewshot.choose_recipe("auto", few, "bert", None)[0] == fewshot.FINE_TUNE
    many = ["a"] * (config.FEWSHOT_MAX_ROWS_PER_CLASS + 1) + ["b"] * 500
    recipe, why = fewshot.choose_recipe("auto", many, "bert", {"normalize": True})
    assert recipe == fewshot.FINE_TUNE and "more than" in why
    assert fewshot.choose_recipe("fine-tune", few, "bert", {"normalize": True})[0] == fewshot.FINE_TUNE
    with pytest.raises(BertDemoError, match="needs a BERT encoder"):
        fewshot.choose_recipe("contrastive", few, "distilbert", None)


def test_every_pair_of_a_steps_rows_counts_and_both_kinds_weigh_alike() -> None:
    import torch

    labels = torch.tensor([0, 0, 1, 2])  # 1 same-label pair, 5 other-label pairs
    apart = torch.eye(4)  # orthogonal vectors: every cosine is 0
    # The same-label pair is wrong by 1 (cosine 0, target 1), the 5 others right: half the weight is wrong.
    assert float(fewshot.pair_loss(apart, labels)) == pytest.approx(0.5)
    together = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    # Same label together, other labels orthogonal (0) or opposite (-1, squared error 1 on 1 of the 5 pairs).
    assert float(fewshot.pair_loss(together, labels)) == pytest.approx(0.5 * 0 + 0.5 * (1 / 5))
    assert float(fewshot.pair_loss(torch.eye(2), torch.tensor([0, 1]))) == 0  # one kind only: its own mean
    assert float(fewshot.pair_loss(torch.ones(1, 3), torch.tensor([0]))) == 0  # one row: no pair at all


def test_the_recipe_takes_a_share_of_setfits_steps() -> None:
    assert fewshot.setfit_steps(24) == math.ceil(min(config.FEWSHOT_MAX_PAIRS, 2 * 20 * 24) / 16) == 60
    assert fewshot.setfit_steps(10_000) == math.ceil(config.FEWSHOT_MAX_PAIRS / 16)  # capped, for time
    # The steps grow with the rows up to 64 rows per class of four classes, as SetFit's do.
    assert fewshot.setfit_steps(4 * 64) == 2 * 20 * 4 * 64 // 16 > fewshot.setfit_steps(2 * 32) == 160


def test_a_contrastive_run_is_a_complete_mean_pool_run_with_its_choice_recorded(contrastive_run) -> None:
    root, info, monitor = contrastive_run
    assert info["recipe"] == fewshot.CONTRASTIVE
    assert info["params"]["chosen"]["recipe"].startswith("contrastive (auto: 18 training rows")
    assert [h["epoch"] for h in info["history"]] == [1.0] and info["history"][0]["val_accuracy"] is not None
    # Scored without the validation rows, then trained again with them: the saved model learnt from every row.
    split = tiny_split()
    assert info["refit"]["rows"] == len(split.train_texts) + len(split.val_texts)
    assert info["refit"]["validation_rows"] == len(split.val_texts) == info["data"]["val_rows"]
    assert "refit" in info["params"]["chosen"]
    assert monitor.snapshot()["loss_trace"], "the loss curve is drawn for what was trained"
    low_high = info["metrics"]["accuracy_interval"]
    assert low_high["low"] <= info["metrics"]["accuracy"] <= low_high["high"]
    saved = json.loads((root / "few" / "config.json").read_text())
    assert saved[meanpool.POOLING_KEY] == "mean" and saved[meanpool.NORMALIZE_KEY] is True
    # The contrastive recipe trains with the encoder's own attention dropout, as SetFit does.
    assert saved["attention_probs_dropout_prob"] == 0.1 and "attention_dropout" not in info["params"]["chosen"]
    result = predictors.load_predictor("few", "pytorch", root).predict(["great phone, love it"])
    assert result.labels[0] in ("negative", "positive")


def test_the_quick_model_is_a_usable_run_during_training_and_goes_once_the_final_run_is_saved(contrastive_run) -> None:
    root, info, monitor = contrastive_run
    quick = monitor.snapshot()["quick"]
    assert quick["run"] == "few-quick" and info["quick_model"]["run"] == "few-quick"
    tried = monitor.tried
    assert tried["info"]["recipe"] == "linear probe" and tried["info"]["quick_model_of"] == "few"
    assert tried["accuracy"] == pytest.approx(quick["accuracy"]), "it predicts as its validation accuracy says"
    assert not (root / "few-quick").exists(), "the final run supersedes the quick one"
    assert monitor.removed and quick["removed"], "and the status says it is gone"


def test_a_mean_pool_run_exports_to_onnx_and_passes_the_checks_against_pytorch(contrastive_run) -> None:
    root, _, _ = contrastive_run
    report = export_run("few", optimize=False, quantize=True, root=root)
    assert report["passed"], report["variants"]
    # Its validation rows were trained on: the check compares with PyTorch there, it claims no accuracy.
    assert "trained on" in report["check_source"] and "accuracy" not in report["pytorch"]
    assert "accuracy" not in report["variants"]["onnx"] and report["variants"]["onnx"]["agreement"] == 1.0
    assert report["variants"]["onnx"]["max_abs_diff"] <= config.ONNX_ATOL


def test_fine_tuning_also_gets_a_quick_model(tiny_encoders, tmp_path) -> None:
    info = train_run(tiny_split(), TrainConfig(model=tiny_encoders[0], epochs=1), "plain", root=tmp_path)
    assert "recipe" not in info and info["params"]["chosen"]["recipe"].startswith("fine-tune (auto: not a mean")
    assert info["quick_model"]["run"] == "plain-quick" and info["quick_model"]["seconds"] > 0


def test_a_large_files_quick_model_reads_a_stratified_sample_that_keeps_every_label() -> None:
    from bertdemo.training.probe import sample_rows

    labels = [0] * 900 + [1] * 95 + [2] * 5
    assert sample_rows(labels, 1000, 0) == list(range(1000))  # all rows when they fit
    rows = sample_rows(labels, 100, 0)
    kept = [labels[i] for i in rows]
    assert kept.count(0) == 90 and kept.count(1) == 9 and kept.count(2) == 5  # shares, and the rare label whole
    assert rows == sorted(set(rows)) and rows == sample_rows(labels, 100, 0) != sample_rows(labels, 100, 1)


def test_the_quick_model_of_a_file_past_the_cap_says_it_read_a_sample(tiny_encoders, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(config, "QUICK_MODEL_MAX_ROWS", 10)
    monitor = TrainingMonitor()
    monitor.set_quick = lambda quick: (TrainingMonitor.set_quick(monitor, quick), monitor.request_stop(False))
    split = tiny_split()
    with pytest.raises(TrainingStopped):  # stopped at once: only the quick model matters here
        train_run(split, TrainConfig(model=tiny_encoders[0], epochs=1), "big", monitor=monitor, root=tmp_path)
    quick = monitor.snapshot()["quick"]
    assert quick["fitted_rows"] < len(split.train_texts) and quick["fitted_rows"] >= 10, quick


def test_the_quick_model_of_long_texts_reads_fewer_tokens_and_predicts_at_that_length(
    tiny_encoders, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(config, "QUICK_MODEL_MAX_LENGTH", 8)
    monitor = TrainingMonitor()
    monitor.set_quick = lambda quick: (TrainingMonitor.set_quick(monitor, quick), monitor.request_stop(True))
    with pytest.raises(TrainingStopped, match="is kept as run 'long-quick'"):
        train_run(
            tiny_split(), TrainConfig(model=tiny_encoders[0], epochs=1, max_length=16), "long", monitor=monitor,
            root=tmp_path,
        )  # fmt: skip
    params = json.loads((tmp_path / "long-quick" / "run.json").read_text())["params"]
    assert params["max_length"] == 8, params  # what Predict and Export read: the length it was fitted at
    assert params["chosen"]["max_length"].startswith("8 (the quick model reads at most 8 tokens"), params["chosen"]
    assert "fine-tuning reads 16" in params["chosen"]["max_length"]


@pytest.mark.parametrize("keep", [True, False])
def test_stopping_the_contrastive_tuning_keeps_the_quick_model_or_discards_all(tiny_encoders, tmp_path, keep) -> None:
    monitor = TrainingMonitor()
    real_add_loss = monitor.add_loss

    def stop_after_a_point(*args):
        real_add_loss(*args)
        monitor.request_stop(keep_best=keep)

    monitor.add_loss = stop_after_a_point
    with pytest.raises(TrainingStopped, match="is kept as run 'stopped-quick'" if keep else "nothing was saved"):
        train_run(tiny_split(), TrainConfig(model=tiny_encoders[1]), "stopped", monitor=monitor, root=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == (["stopped-quick"] if keep else [])


def test_the_progress_says_where_the_quick_model_is_and_how_sure_its_accuracy_is() -> None:
    from bertdemo.ui import views

    quick = {"run": "r-quick", "seconds": 2.5, "accuracy": 0.8, "accuracy_interval": {"low": 0.376, "high": 0.964}}
    running = views.device_markdown({"state": "running", "quick": quick})
    assert "`r-quick`" in running and "80.0% (95% interval 37.6%–96.4%)" in running and "**Predict**" in running
    assert "replaced by the final run" in views.device_markdown({"state": "done", "quick": quick})
    assert "not made (no room)" in views.device_markdown(
        {"state": "running", "quick": {"run": None, "error": "no room"}}
    )
    info = {"name": "r", "metrics": {"accuracy": 0.8, "accuracy_interval": quick["accuracy_interval"]}}
    assert "(95% interval 37.6%–96.4%)" in views.results_markdown(info)


@pytest.mark.slow
def test_the_bundled_encoder_gives_a_quick_model_in_seconds_that_beats_chance_and_exports(tmp_path) -> None:
    """The real MiniLM on the example data: the probe is a mean-pooling, normalized run that ONNX reproduces."""
    from bertdemo.data.labeled import read_labeled_csv
    from bertdemo.data.splits import split_data
    from bertdemo.training import basemodels
    from bertdemo.training.hyperparameters import choose_hyperparameters
    from bertdemo.training.quickmodel import train_quick_model
    from tests.conftest import REPO

    split = split_data(read_labeled_csv(REPO / "examples" / "reviews.csv", None, None, None, 0), 0.2, 0)
    base = basemodels.resolve_base_model("bundled")
    from bertdemo.tokenizing import load_tokenizer

    cfg = choose_hyperparameters(TrainConfig(), len(split.train_texts), None)
    pooling = fewshot.base_pooling(base.path)
    assert pooling == {"normalize": True}
    quick = train_quick_model(
        base, load_tokenizer(base.path), split, cfg, "ex", TrainingMonitor(), pooling, root=tmp_path
    )
    assert quick is not None and quick["accuracy_interval"]["low"] > 0.5, quick  # above chance (2 balanced classes)
    report = export_run("ex-quick", optimize=True, quantize=True, root=tmp_path)
    assert report["passed"], report["variants"]


def test_the_model_card_snippet_of_a_mean_pool_run_answers_as_bertdemo_does(contrastive_run) -> None:
    from tests.test_modelcard import code_blocks, run_snippet

    root, _, _ = contrastive_run
    card = (root / "few" / "README.md").read_text()
    printed = run_snippet(code_blocks(card)[0], root)
    expected = predictors.load_predictor("few", "pytorch", root).predict(["An absolute delight from start to finish."])
    assert printed[0][0]["label"] == expected.labels[0]
    assert printed[0][0]["score"] == pytest.approx(float(expected.probabilities.max()), abs=1e-5)


class KeepsTheQuickHead(TrainingMonitor):
    """Reads the quick model's classifier weights the moment it is saved (the run is removed at the end)."""

    def __init__(self, root):
        super().__init__()
        self.root, self.head = root, None

    def set_quick(self, quick):
        super().set_quick(quick)
        if not quick.get("removed") and quick.get("run"):
            model = predictors.load_predictor(quick["run"], "pytorch", self.root).model
            self.head = model.classifier.weight.detach().clone()
            predictors.clear_cache(quick["run"])


def test_lp_ft_fine_tunes_a_sentence_encoder_mean_pooled_from_the_quick_models_probe(
    tiny_encoders, tmp_path, monkeypatch
) -> None:
    import torch
    from transformers import AutoConfig

    from bertdemo.tokenizing import load_classifier

    monkeypatch.setattr(config, "TRAIN_LP_FT", True)
    monitor = KeepsTheQuickHead(tmp_path)
    # A learning rate too small to move anything: what is saved is where fine-tuning started.
    cfg = TrainConfig(model=tiny_encoders[1], recipe="fine-tune", epochs=1, learning_rate=1e-12)
    info = train_run(tiny_split(), cfg, "lpft", monitor=monitor, root=tmp_path)
    assert "LP-FT" in info["params"]["chosen"]["head"] and "head" not in info["quick_model"]
    saved = Path(info["path"])
    assert meanpool.is_mean_pool(AutoConfig.from_pretrained(saved))
    model = load_classifier(saved)
    assert monitor.head is not None and torch.allclose(model.classifier.weight, monitor.head, atol=1e-5)
    assert json.loads(json.dumps(monitor.snapshot()))  # the progress carries no weights
    # Its model card's snippet mean-pools as the run does (the pipeline would read an untrained [CLS] pooler).
    from tests.test_modelcard import code_blocks, run_snippet

    printed = run_snippet(code_blocks((saved / "README.md").read_text())[0], tmp_path)
    expected = predictors.load_predictor(saved.name, "pytorch", tmp_path).predict(
        ["An absolute delight from start to finish."]
    )
    assert printed[0][0]["label"] == expected.labels[0]
    assert printed[0][0]["score"] == pytest.approx(float(expected.probabilities.max()), abs=1e-5)

    # Off (the default), or a base that is no sentence encoder: the [CLS] classifier with a fresh head.
    plain = train_run(tiny_split(), TrainConfig(model=tiny_encoders[0], epochs=1), "lpft-plain", root=tmp_path)
    assert "head" not in plain["params"]["chosen"]
    monkeypatch.setattr(config, "TRAIN_LP_FT", False)
    off = train_run(
        tiny_split(), TrainConfig(model=tiny_encoders[1], recipe="fine-tune", epochs=1), "off", root=tmp_path
    )
    assert "head" not in off["params"]["chosen"] and not meanpool.is_mean_pool(AutoConfig.from_pretrained(off["path"]))
