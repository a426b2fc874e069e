"""Base model resolution: whether the Hub answers is checked again after a while, not once per process."""

from __future__ import annotations

import os
import socket

import pytest

from bertdemo import config
from bertdemo.training import basemodels


def test_hub_reachable_is_checked_again_after_its_ttl(monkeypatch) -> None:
    """A Space that boots before its network is up must take Hub ids once the network is there, without a restart."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there yet: "offline"
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setattr(config, "HUB_CHECK_TTL_S", 0.0, raising=False)
    assert basemodels.hub_reachable(timeout=1) is False
    hub = socket.socket()
    hub.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hub.bind(("127.0.0.1", port))
    hub.listen()
    try:
        assert basemodels.hub_reachable(timeout=1) is True  # the network came up
    finally:
        hub.close()


def test_hub_offline_env_wins(monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert basemodels.hub_reachable() is False


# --- what a visitor (the app, the API) may train from (issue 19) -----------------------------------------------------


def test_visitors_train_from_listed_folders_only(monkeypatch, tmp_path, tiny_model_dir) -> None:
    from bertdemo.errors import ModelLoadError
    from tests.helpers import make_tiny_run

    models = tmp_path / "models"
    run = make_tiny_run(models, "someones-run")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv(config.BASE_MODELS_ENV, f"{tiny_model_dir}{os.pathsep}{run}")  # the run: an operator's slip
    assert basemodels.resolve_app_base_model(str(tiny_model_dir), models).source == "local"
    assert basemodels.listed_folders(models) == [tiny_model_dir.resolve()]  # never a folder inside models/
    with pytest.raises(ModelLoadError) as listed_run:
        basemodels.resolve_app_base_model(str(run), models)
    with pytest.raises(ModelLoadError) as unlisted:
        basemodels.resolve_app_base_model(str(tmp_path / "nothing-here"), models)
    assert str(listed_run.value).replace(str(run), "X") == str(unlisted.value).replace(
        str(tmp_path / "nothing-here"), "X"
    )
    assert basemodels.resolve_base_model(str(run)).source == "local"  # the command line keeps local folders


def test_a_hub_like_name_that_is_a_folder_here_is_not_loaded(monkeypatch, tmp_path, tiny_model_dir) -> None:
    """transformers would load ./org/model instead of the Hub repo: answered as for a Hub id that does not exist."""
    import shutil

    from bertdemo.errors import ModelLoadError

    shutil.copytree(tiny_model_dir, tmp_path / "org" / "model")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv(config.BASE_MODELS_ENV, raising=False)
    with pytest.raises(ModelLoadError) as here:
        basemodels.resolve_app_base_model("org/model")
    with pytest.raises(ModelLoadError) as nowhere:
        basemodels.resolve_app_base_model("org/absent")
    assert str(here.value).replace("org/model", "X") == str(nowhere.value).replace("org/absent", "X")


def test_attention_dropout_override_follows_the_setting_the_length_and_the_models_own_key(monkeypatch) -> None:
    from transformers import BertConfig, DistilBertConfig, GPT2Config

    monkeypatch.setattr(config, "TRAIN_ATTENTION_DROPOUT", 0.0)
    monkeypatch.setattr(config, "TRAIN_ATTENTION_DROPOUT_ABOVE_LENGTH", 128)
    override = basemodels.attention_dropout_override
    assert override(BertConfig(), 256, gpu=False) == {"attention_probs_dropout_prob": 0.0}
    assert override(DistilBertConfig(), 256, gpu=False) == {"attention_dropout": 0.0}
    assert override(GPT2Config(), 256, gpu=False) == {}  # no such key: nothing to override
    assert override(BertConfig(), 128, gpu=False) == {} == override(BertConfig(), 256, gpu=True)  # cheap there
    monkeypatch.setattr(config, "TRAIN_ATTENTION_DROPOUT", None)  # BERTDEMO_ATTENTION_DROPOUT=base
    assert override(BertConfig(), 256, gpu=False) == {}


def test_training_attention_is_eager_for_short_texts_on_a_cpu_only(monkeypatch) -> None:
    monkeypatch.setattr(config, "TRAIN_CPU_EAGER_ATTENTION_MAX_LENGTH", 128)
    assert basemodels.training_attention(64, gpu=False) == basemodels.training_attention(128, gpu=False) == "eager"
    assert basemodels.training_attention(256, gpu=False) is None  # SDPA, transformers' default
    assert basemodels.training_attention(64, gpu=True) is None
