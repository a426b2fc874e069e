"""The settings schema: one declaration per setting drives the CLI, the API, the checks and the request file."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import pytest

from bertdemo import config, service, settings
from bertdemo.cli.main import build_parser
from bertdemo.errors import BertDemoError
from bertdemo.settings import setting
from bertdemo.training.hyperparameters import TrainConfig
from bertdemo.training.pipeline import TrainRequest


def test_cli_defaults_are_auto_and_flags_come_from_the_schema() -> None:
    args = build_parser().parse_args(["train", "data.csv"])
    request = settings.from_namespace(TrainRequest, args)
    assert request.csv_path == "data.csv"
    assert (request.epochs, request.max_length, request.batch_size, request.learning_rate) == (None, None, None, None)
    assert request.truncation == config.DEFAULT_TRUNCATION and request.early_stopping_patience == 0
    args = build_parser().parse_args(
        ["train", "d.csv", "--epochs", "2", "--max-length", "64", "--truncation", "head_tail", "--early-stopping", "3"]
    )
    request = settings.from_namespace(TrainRequest, args)
    assert (request.epochs, request.max_length, request.truncation, request.early_stopping_patience) == (
        2,
        64,
        "head_tail",
        3,
    )
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "d.csv", "--truncation", "middle"])


def test_api_zero_or_blank_means_auto_and_the_old_key_still_works() -> None:
    parsed = service.parse_settings(
        {"epochs": 0, "max_length": "", "batch_size": "0", "learning_rate": None, "early_stopping": "2", "seed": "7"}
    )
    assert parsed == {"early_stopping_patience": 2, "seed": 7}
    request = TrainRequest(csv_path="x.csv", **parsed)
    assert request.epochs is None and request.max_length is None
    assert service.parse_settings({"truncation": "head_tail"}) == {"truncation": "head_tail"}


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"epoch": 1}, "Unknown training setting(s) epoch"),
        ({"val_csv": "/etc/passwd"}, "Unknown training setting(s) val_csv"),  # a server path: CLI only
        ({"epochs": "two"}, "epochs must be a whole number"),
        ({"epochs": 1.5}, "epochs must be a whole number"),
        ({"learning_rate": "fast"}, "learning_rate must be a number"),
    ],
)
def test_api_refuses_bad_settings_in_one_line(values, fragment) -> None:
    with pytest.raises(BertDemoError) as err:
        service.parse_settings(values)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_ranges_and_choices_come_from_the_schema() -> None:
    with pytest.raises(BertDemoError, match=r"max length must be between 8 and 512 tokens \(got 4\)"):
        TrainConfig(max_length=4).validate()
    with pytest.raises(BertDemoError, match="truncation must be one of head, head_tail"):
        TrainRequest(csv_path="x.csv", truncation="middle").validate()
    TrainConfig().validate()  # every default is valid, auto included


def test_request_file_round_trip(tmp_path) -> None:
    request = TrainRequest(csv_path="/data/x.csv", name="r", epochs=None, max_length=64, early_stopping_patience=2)
    request.write(tmp_path / "request.json")
    again = TrainRequest.read(tmp_path / "request.json")
    assert again == request
    assert again.train_config() == TrainConfig(max_length=64, early_stopping_patience=2)
    with pytest.raises(BertDemoError, match="Unknown key"):
        TrainRequest.from_json({"csv_path": "x", "bogus": 1})


@dataclass
class WithSmoothing(TrainConfig):
    """TrainConfig plus one more setting, declared the one way a setting is declared."""

    label_smoothing: float = setting(
        0.0, label="label smoothing", help="soften the one-hot targets", minimum=0, maximum=0.5, ui="advanced"
    )


def test_a_new_setting_is_one_declaration() -> None:
    """A new field reaches the CLI, the API, the range check and the JSON request without other edits."""
    parser = argparse.ArgumentParser()
    settings.add_arguments(parser, WithSmoothing)
    cfg = settings.from_namespace(WithSmoothing, parser.parse_args(["--label-smoothing", "0.1"]))
    assert cfg.label_smoothing == 0.1
    assert settings.parse_values(WithSmoothing, {"label_smoothing": "0.2"}) == {"label_smoothing": 0.2}
    with pytest.raises(BertDemoError, match=r"label smoothing must be between 0 and 0.5 \(got 0.7\)"):
        WithSmoothing(label_smoothing=0.7).validate()
    assert settings.to_json(cfg)["label_smoothing"] == 0.1
    (field,) = [s for s in settings.schema(WithSmoothing) if s.name == "label_smoothing"]
    assert field.ui_label == "Label smoothing" and field.spec.ui == "advanced"


def test_train_tab_widgets_and_params_table_follow_the_schema() -> None:
    import gradio as gr

    from bertdemo.ui import views
    from bertdemo.ui.settings_widgets import setting_widgets

    with gr.Blocks():
        main, advanced = setting_widgets("main"), setting_widgets("advanced")
    assert list(main) == ["epochs", "learning_rate", "batch_size", "max_length", "val_fraction"]
    assert main["epochs"].label == "Epochs (0 = auto)" and main["epochs"].value == 0
    assert main["max_length"].label == "Max length (tokens) (0 = auto)"
    assert advanced["truncation"].value == config.DEFAULT_TRUNCATION
    assert advanced["early_stopping_patience"].label == "Early stopping patience (0 = off)"
    frame = views.params_frame({"r": {"params": {"epochs": 2, "truncation": "head_tail"}, "metrics": {}}})
    rows = dict(zip(frame["setting"], frame["r"], strict=True))
    assert rows["epochs"] == "2" and rows["truncation"] == "head_tail" and rows["max length"] == "-"
