"""Training with the HF Trainer: defaults for the data size, history, stop, saved run."""

from __future__ import annotations

import json
import math
import os

import pytest

from bertdemo import config
from bertdemo.data.splits import Split
from bertdemo.errors import BertDemoError, TrainingError, TrainingStopped
from bertdemo.runs import store
from bertdemo.training.callbacks import MonitorCallback
from bertdemo.training.hyperparameters import TrainConfig, choose_hyperparameters
from bertdemo.training.monitor import TrainingMonitor
from bertdemo.training.trainer import train_run
from tests.conftest import SHARED_DATA
from tests.helpers import make_tiny_model_dir

POS = [
    "great phone, love it",
    "works perfectly and fast",
    "excellent value",
    "really happy with this",
    "the best purchase this year",
    "wonderful screen and battery",
]
NEG = [
    "broke after a day",
    "terrible support, avoid",
    "waste of money",
    "stopped working quickly",
    "awful battery life",
    "cheap plastic, very poor",
]


def tiny_split(n_copies: int = 3) -> Split:
    texts = (POS + NEG) * n_copies
    labels = (["positive"] * len(POS) + ["negative"] * len(NEG)) * n_copies
    return Split(
        train_texts=texts,
        train_labels=labels,
        val_texts=POS[:3] + NEG[:3],
        val_labels=["positive"] * 3 + ["negative"] * 3,
        labels=["negative", "positive"],
    )


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return str(make_tiny_model_dir(tmp_path_factory.mktemp("tiny")))


def test_defaults_adapt_to_data_size() -> None:
    small = choose_hyperparameters(TrainConfig(epochs=3), 320)
    assert (small.batch_size, small.learning_rate) == (8, 5e-5)
    assert "auto" in small.chosen["batch_size"] and "120 optimizer steps" in small.chosen["steps"]
    big = choose_hyperparameters(TrainConfig(), 50_000)
    assert big.batch_size == 32 and big.learning_rate == 3e-5
    fixed = choose_hyperparameters(TrainConfig(batch_size=4, learning_rate=2e-5), 320)
    assert (fixed.batch_size, fixed.learning_rate) == (4, 2e-5) and "batch_size" not in fixed.chosen


@pytest.mark.parametrize(
    "bad",
    [
        dict(epochs=0),
        dict(learning_rate=1.0),
        dict(batch_size=0),
        dict(max_length=4),
        dict(warmup_ratio=1.5),
        dict(early_stopping_patience=-1),
    ],
)
def test_bad_settings_are_refused_in_one_line(bad) -> None:
    with pytest.raises(BertDemoError) as err:
        TrainConfig(**bad).validate()
    assert "\n" not in str(err.value)


def test_train_saves_a_complete_run(tiny_model, models_root) -> None:
    monitor = TrainingMonitor()
    info = train_run(
        tiny_split(),
        TrainConfig(model=tiny_model, epochs=2, batch_size=4),
        "tiny-run",
        monitor=monitor,
        root=models_root,
    )
    path = models_root / "tiny-run"
    assert info["path"] == str(path)
    assert (path / "model.safetensors").is_file() and (path / "tokenizer.json").is_file()
    saved = json.loads((path / "run.json").read_text())
    assert saved["labels"] == ["negative", "positive"]
    assert [round(h["epoch"]) for h in saved["history"]] == [1, 2]
    for record in saved["history"]:
        for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "val_f1_macro"):
            assert record[key] is not None and math.isfinite(record[key]), key
    assert set(saved["metrics"]) >= {"accuracy", "f1_macro", "precision_macro", "recall_macro", "per_class"}
    assert sum(map(sum, saved["confusion_matrix"])) == 6
    assert saved["params"]["batch_size"] == 4 and saved["samples_per_second"] > 0
    assert (path / "validation.csv").read_text().startswith("text,label")
    config_json = json.loads((path / "config.json").read_text())
    assert config_json["id2label"] == {"0": "negative", "1": "positive"}
    # Short texts on a CPU: the base model's attention dropout (BERT's 0.1) and the eager attention kernel, which
    # the saved config does not pin for inference.
    assert config_json["attention_probs_dropout_prob"] == 0.1 and "attention_dropout" not in saved["params"]["chosen"]
    assert saved["device"]["attention"] == "eager" and "_attn_implementation" not in json.dumps(config_json)
    snap = monitor.snapshot()
    assert snap["phase"] == "done" and snap["step"] == snap["total_steps"] == 2 * 9  # 36 rows / batch 4
    assert not [p for p in models_root.iterdir() if p.name.startswith(".")], "no staging left behind"


def test_long_texts_on_a_cpu_train_without_attention_dropout_and_with_sdpa(tiny_model, models_root) -> None:
    train_run(tiny_split(1), TrainConfig(model=tiny_model, epochs=1, max_length=256), "long-run", root=models_root)
    path = models_root / "long-run"
    saved = json.loads((path / "run.json").read_text())
    assert json.loads((path / "config.json").read_text())["attention_probs_dropout_prob"] == 0
    assert config.TRAIN_ATTENTION_DROPOUT == 0 and "base model's 0.1" in saved["params"]["chosen"]["attention_dropout"]
    assert saved["device"]["attention"] == "sdpa"
    assert "| attention dropout | 0 while fine-tuning" in (path / "README.md").read_text()  # the model card


def test_auto_recipe_keeps_the_best_epoch_and_records_the_baseline(tiny_model, models_root) -> None:
    monitor = TrainingMonitor()
    info = train_run(
        tiny_split(), TrainConfig(model=tiny_model, batch_size=4), "auto-run", monitor=monitor, root=models_root
    )
    saved = json.loads((models_root / "auto-run" / "run.json").read_text())
    params = saved["params"]
    assert params["epochs"] == 10 and params["early_stopping_patience"] == 2  # 9 steps per epoch: more epochs
    assert params["max_length"] == 64 and params["truncation"] == "head_tail"
    assert {"epochs", "max_length", "early_stopping"} <= set(params["chosen"])
    assert saved["baseline"]["method"] == "tfidf+logreg" and 0 <= saved["baseline"]["accuracy"] <= 1
    assert monitor.snapshot()["baseline"] == saved["baseline"]
    # The saved model is the best epoch's (load_best_model_at_end), not the last one's.
    best = max(h["val_f1_macro"] for h in saved["history"])
    assert saved["metrics"]["f1_macro"] == pytest.approx(best)
    assert not (models_root / "auto-run" / "checkpoints").exists()
    assert info["baseline"] == saved["baseline"]


def test_head_tail_run_predicts_with_head_tail(tiny_model, models_root) -> None:
    from bertdemo.inference import predictors

    split = tiny_split()
    split.val_texts[0] = "opening " + "filler " * 200 + "ending"
    train_run(
        split,
        TrainConfig(model=tiny_model, epochs=1, max_length=16, truncation="head_tail"),
        "ht-run",
        root=models_root,
    )
    p = predictors.load_predictor("ht-run", "pytorch", models_root)
    assert (p.max_length, p.truncation) == (16, "head_tail")
    ids = p._encode([split.val_texts[0]])["input_ids"][0]
    assert p.tokenizer.convert_ids_to_tokens(ids.tolist())[-2] == "ending"
    predictors.clear_cache()


def test_stop_saves_nothing(tiny_model, models_root) -> None:
    monitor = TrainingMonitor()
    monitor.request_stop()
    with pytest.raises(TrainingStopped):
        train_run(
            tiny_split(),
            TrainConfig(model=tiny_model, epochs=3, batch_size=4),
            "stopped",
            monitor=monitor,
            root=models_root,
        )
    assert list(models_root.iterdir()) == []
    assert monitor.snapshot()["step"] == 1, "stopped after the first step"


class StopAfter(TrainingMonitor):
    """Asks to stop (keeping the best epoch) once `epochs` epochs have been evaluated."""

    def __init__(self, epochs: int):
        super().__init__()
        self.after = epochs

    def add_epoch(self, record):
        super().add_epoch(record)
        if len(self.history) == self.after:
            self.request_stop(keep_best=True)


def test_stop_and_keep_the_best_epoch(tiny_model, models_root) -> None:
    monitor = StopAfter(2)
    info = train_run(
        tiny_split(), TrainConfig(model=tiny_model, epochs=6, batch_size=4), "kept", monitor=monitor, root=models_root
    )
    saved = json.loads((models_root / "kept" / "run.json").read_text())
    assert len(saved["history"]) == 2 and saved["stopped_early"]["kept_epoch"] in (1.0, 2.0)
    kept = next(h for h in saved["history"] if h["epoch"] == saved["stopped_early"]["kept_epoch"])
    assert saved["metrics"]["f1_macro"] == pytest.approx(kept["val_f1_macro"])
    assert kept["val_f1_macro"] == max(h["val_f1_macro"] for h in saved["history"])
    assert info["stopped_early"] == saved["stopped_early"] and monitor.snapshot()["phase"] == "done"
    assert monitor.snapshot()["kept_epoch"] == saved["stopped_early"]["kept_epoch"]  # the status names it too


def test_keep_best_before_any_epoch_keeps_the_quick_model_only(tiny_model, models_root) -> None:
    monitor = TrainingMonitor()
    monitor.request_stop(keep_best=True)
    with pytest.raises(
        TrainingStopped, match="before the first epoch ended: the quick model .* is kept as run 'none-quick'"
    ):
        train_run(tiny_split(), TrainConfig(model=tiny_model, epochs=2), "none", monitor=monitor, root=models_root)
    assert [p.name for p in models_root.iterdir()] == ["none-quick"]


def test_loss_is_logged_every_few_steps_and_averaged_per_epoch(tiny_model, models_root) -> None:
    monitor = TrainingMonitor()
    train_run(
        tiny_split(), TrainConfig(model=tiny_model, epochs=2, batch_size=4), "trace", monitor=monitor, root=models_root
    )
    trace = monitor.snapshot()["loss_trace"]
    assert len(trace) >= 10 and [p["step"] for p in trace] == sorted({p["step"] for p in trace})
    for record in monitor.history:
        points = [p["loss"] for p in trace if record["epoch"] - 1 < p["epoch"] <= record["epoch"]]
        assert min(points) - 1e-6 <= record["train_loss"] <= max(points) + 1e-6


def test_eta_counts_from_the_first_step_not_from_loading() -> None:
    import time

    monitor = TrainingMonitor()
    monitor.begin(epochs=1, chosen={}, device={"device": "cpu"})
    time.sleep(0.5)  # loading the model and tokenizing: not part of a step's time
    monitor.on_step(0, 10, 0.0)
    time.sleep(0.02)
    monitor.on_step(1, 10, 0.1)
    assert monitor.snapshot()["eta"] < 0.45


def test_stop_file_is_seen(tmp_path) -> None:
    stop = tmp_path / "STOP"
    monitor = TrainingMonitor(status_path=tmp_path / "status.json", stop_path=stop)
    monitor.begin(epochs=1, chosen={}, device={"device": "cpu"})
    assert not monitor.stop_requested
    stop.touch()
    assert monitor.stop_requested and not monitor.stop_keeps_best
    stop.write_text("keep-best")
    assert monitor.stop_keeps_best
    assert json.loads((tmp_path / "status.json").read_text())["phase"] == "loading"


def test_existing_name_is_refused_before_training(tiny_model, models_root) -> None:
    (models_root / "taken").mkdir()
    (models_root / "taken" / "run.json").write_text("{}")
    with pytest.raises(BertDemoError, match="already exists"):
        train_run(tiny_split(), TrainConfig(model=tiny_model, epochs=1), "taken", root=models_root)


def test_nan_loss_is_reported() -> None:
    class State:
        epoch = 2.0

    with pytest.raises(TrainingError, match="nan"):
        MonitorCallback(TrainingMonitor()).on_log(None, State(), None, logs={"loss": float("nan")})


@pytest.mark.slow
def test_example_data_with_defaults_beats_the_baseline(models_root) -> None:
    """What every visitor trains first: the example set, every setting on auto, the real bundled MiniLM."""
    from bertdemo import config
    from bertdemo.data.labeled import read_labeled_csv
    from bertdemo.data.splits import split_data

    data = read_labeled_csv(config.EXAMPLE_CSV)
    info = train_run(split_data(data), TrainConfig(), "example-defaults", root=models_root)
    assert info["params"]["epochs"] > 3 and info["params"]["max_length"] <= 128, info["params"]["chosen"]
    assert info["metrics"]["accuracy"] >= 0.85, info["history"]
    assert info["metrics"]["accuracy"] >= info["baseline"]["accuracy"] + 0.1, info["baseline"]
    assert store.load_run("example-defaults", models_root)["baseline"] == info["baseline"]


@pytest.mark.slow
def test_real_bundled_model_learns_sentiment(models_root) -> None:
    """The bundled MiniLM on 400 real UCI sentences: clearly better than chance with the defaults."""
    from bertdemo.data.labeled import read_labeled_csv
    from bertdemo.data.splits import split_data

    csv_path = SHARED_DATA / "sentiment_sentences.csv"
    if not csv_path.exists():
        pytest.skip("shared data not available")
    data = read_labeled_csv(csv_path, max_rows=400, seed=1)
    info = train_run(split_data(data, 0.2, seed=1), TrainConfig(epochs=3), "minilm-uci", root=models_root)
    assert info["base_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert info["metrics"]["accuracy"] >= 0.75, info["history"]
    # The final report and the last epoch's evaluation see the same predictions.
    assert info["metrics"]["accuracy"] == pytest.approx(info["history"][-1]["val_accuracy"])
    assert store.load_run("minilm-uci", models_root)["metrics"]["accuracy"] == info["metrics"]["accuracy"]


def test_large_validation_sets_are_sampled_per_epoch_and_scored_whole_at_the_end(
    tiny_model, models_root, monkeypatch
) -> None:
    monkeypatch.setattr(config, "EVAL_SAMPLE_ROWS", 4)
    split = tiny_split()
    split.val_texts = POS[:6] + NEG[:6]
    split.val_labels = ["positive"] * 6 + ["negative"] * 6
    cfg = TrainConfig(model=tiny_model, epochs=2, batch_size=4, precision="fp32")  # what auto picks: see below
    train_run(split, cfg, "sampled", root=models_root)
    saved = json.loads((models_root / "sampled" / "run.json").read_text())
    assert [h["val_rows"] for h in saved["history"]] == [4, 4]
    assert all(h["eval_seconds"] > 0 for h in saved["history"])
    assert sum(map(sum, saved["confusion_matrix"])) == 12  # the final scores read every validation row
    assert "4 of the 12 validation rows" in saved["params"]["chosen"]["evaluation"]
    assert saved["device"]["precision"] == saved["params"]["precision"] == "fp32"  # as pinned


def test_bf16_on_request_trains_and_saves_an_fp32_model(tiny_model, models_root) -> None:
    cfg = TrainConfig(model=tiny_model, epochs=1, batch_size=4, precision="bf16")
    train_run(tiny_split(), cfg, "b", root=models_root)
    saved = json.loads((models_root / "b" / "run.json").read_text())
    assert saved["device"]["precision"] == "bf16" and saved["device"]["bf16"] is True
    assert json.loads((models_root / "b" / "config.json").read_text()).get("dtype", "float32") == "float32"
    assert math.isfinite(saved["history"][0]["val_loss"])
    # The Trainer keeps its precision (and torch_compile) in os.environ: the next run in this process must not
    # inherit them.
    os.environ["ACCELERATE_DYNAMO_BACKEND"] = "inductor"  # as a torch_compile=True run leaves it
    try:
        # fp32 pinned: on auto a CPU with bf16 units would pick bf16 (tests/test_hardware_profiles.py)
        after = TrainConfig(model=tiny_model, epochs=1, batch_size=4, precision="fp32")
        train_run(tiny_split(), after, "after", root=models_root)
        assert os.environ["ACCELERATE_MIXED_PRECISION"] == "no"
        assert "ACCELERATE_DYNAMO_BACKEND" not in os.environ
    finally:
        os.environ.pop("ACCELERATE_DYNAMO_BACKEND", None)
    assert json.loads((models_root / "after" / "run.json").read_text())["device"]["precision"] == "fp32"
