"""Resolve a base model: the bundled offline MiniLM, a local folder, or a Hub id.

The command line (the machine's owner) may name any local folder. The app and the API (any visitor) may not:
`resolve_app_base_model` takes the bundled model, Hub ids and the folders the operator lists in
config.BASE_MODELS_ENV, and answers every other value the same way, so nobody trains from another visitor's
run in models/ or learns which paths exist on the server.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bertdemo import config
from bertdemo.errors import ModelLoadError, first_line
from bertdemo.tokenizing import bundled_model_path

log = logging.getLogger(__name__)

_BUNDLED_ALIASES = {"", "bundled", "default", "all-minilm-l6-v2", config.BUNDLED_MODEL.lower()}


@dataclass(frozen=True)
class BaseModel:
    """Where a base model comes from: `name` as the user said it, `path` what from_pretrained gets."""

    name: str
    path: str
    source: str  # "bundled" | "local" | "hub"


def resolve_base_model(name: str | None) -> BaseModel:
    """Map what the user typed to a loadable model, checking it before any training starts.

    Never sets trust_remote_code: a model that needs custom code is refused.
    """
    typed = (name or "").strip()
    if typed.lower() in _BUNDLED_ALIASES:
        return BaseModel(config.BUNDLED_MODEL, str(bundled_model_path()), "bundled")
    local = Path(typed).expanduser()
    if local.exists() or typed.startswith((".", "/", "~")) or "\\" in typed:
        if not local.is_dir():
            raise ModelLoadError(f"Local model path {typed!r} is not a folder: give a folder with config.json.")
        if not (local / "config.json").is_file():
            raise ModelLoadError(f"Local folder {typed!r} has no config.json: it is not a saved Hugging Face model.")
        base = BaseModel(typed, str(local.resolve()), "local")
    else:
        base = BaseModel(typed, typed, "hub")
    _check_config(base)
    return base


# A Hub repo id: "name" or "namespace/name" (the Hub's own rules: letters, digits, '-', '_', '.'; no '--' or '..').
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$")


def listed_folders(models_root: Path | None = None) -> list[Path]:
    """The folders the operator lets the app and the API train from (config.BASE_MODELS_ENV), outside models/."""
    models = Path(models_root or config.MODELS_DIR).resolve()
    folders = []
    for entry in os.environ.get(config.BASE_MODELS_ENV, "").split(os.pathsep):
        if not entry.strip():
            continue
        folder = Path(entry.strip()).expanduser().resolve()
        if folder == models or models in folder.parents:  # a visitor's run is never anyone's base model
            log.warning("%s lists %s, inside the models folder: ignored", config.BASE_MODELS_ENV, folder)
            continue
        folders.append(folder)
    return folders


def refused(typed: str) -> ModelLoadError:
    """The one answer to every base model the app does not take (the same whether the path exists or not)."""
    return ModelLoadError(
        f"Base model {typed[:120]!r} cannot be used here: pick the bundled default {config.BUNDLED_MODEL!r}, "
        "a Hugging Face Hub id such as 'bert-base-uncased', or a folder the app's operator lists."
    )


def resolve_app_base_model(name: str | None, models_root: Path | None = None) -> BaseModel:
    """resolve_base_model for a visitor: the bundled model, a listed folder or a Hub id; never a server path."""
    typed = (name or "").strip()
    if typed.lower() in _BUNDLED_ALIASES:
        return resolve_base_model(typed)
    folders = listed_folders(models_root)
    if folders and not typed.startswith("~"):
        try:
            as_path = Path(typed).resolve()
        except (OSError, RuntimeError, ValueError):
            as_path = None
        if as_path in folders:
            return resolve_base_model(str(as_path))
    if not _HUB_ID.match(typed) or ".." in typed or "--" in typed or typed.endswith(".git"):
        raise refused(typed)
    base = BaseModel(typed, typed, "hub")
    # transformers loads a folder of that name instead of the Hub repo (here, and in the job, which runs in the
    # project folder): such a name is answered exactly like a Hub id that does not exist.
    if any((where / typed).exists() for where in (Path.cwd(), config.PROJECT_ROOT)):
        raise _hub_error(base, offline=not hub_reachable())
    token = visitor_token()
    params = _hub_parameters(base, token) if hub_reachable() else None  # before anything is downloaded
    if params is not None:
        _check_size(base, params)
    cfg = _check_config(base, token)
    if params is None:  # no safetensors metadata on the Hub: the config says the size (before any weights load)
        _check_size(base, config_parameters(cfg))
    return base


def keep_operator_token_from_visitors() -> None:
    """In the app's process, Hub calls that name no token send none (not HF_TOKEN, not a saved login).

    Every Hub call there is for a visitor: the checks here pass visitor_token() themselves, but a thread-mode job
    (ZeroGPU) loads the tokenizer and weights in this process through transformers, which passes no token.
    A subprocess job gets the same rule from its environment (jobs.runner.visitor_env).
    """
    if config.VISITOR_HUB_TOKEN:
        return
    import huggingface_hub.constants

    os.environ["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"  # for anything that reads it later
    huggingface_hub.constants.HF_HUB_DISABLE_IMPLICIT_TOKEN = True  # read on every request (utils._headers)


def visitor_token() -> bool | None:
    """The token for a visitor's Hub calls: False (none, whatever HF_TOKEN says) unless the operator allows theirs."""
    return None if config.VISITOR_HUB_TOKEN else False


def _hub_parameters(base: BaseModel, token: bool | None) -> int | None:
    """The parameter count in the Hub's safetensors metadata (None when the repo has none): no weights are fetched."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    try:
        info = HfApi().model_info(base.path, token=token, timeout=10)
    except HfHubHTTPError as exc:  # no such repo, private or gated: as for an id that does not exist
        raise _hub_error(base, offline=False) from exc
    except OSError as exc:
        raise _hub_error(base, offline=True) from exc
    safetensors = getattr(info, "safetensors", None)
    return int(safetensors.total) if safetensors and safetensors.total else None


def config_parameters(cfg) -> int:
    """About how many parameters a transformer config describes (embeddings + layers; experts counted)."""
    hidden = int(getattr(cfg, "hidden_size", 0) or getattr(cfg, "d_model", 0) or 0)
    layers = int(getattr(cfg, "num_hidden_layers", 0) or getattr(cfg, "num_layers", 0) or 0)
    vocab = int(getattr(cfg, "vocab_size", 0) or 0)
    ffn = int(getattr(cfg, "intermediate_size", 0) or getattr(cfg, "d_ff", 0) or 4 * hidden)
    experts = int(getattr(cfg, "num_local_experts", 0) or getattr(cfg, "n_routed_experts", 0) or 1)
    return vocab * hidden + layers * (4 * hidden * hidden + experts * 2 * hidden * ffn)


def _check_size(base: BaseModel, params: int) -> None:
    limit = config.MAX_MODEL_PARAMS_M * 1e6
    if limit > 0 and params > limit:
        raise ModelLoadError(
            f"Model {base.name!r} has about {params / 1e6:,.0f}M parameters, over the {limit / 1e6:,.0f}M limit "
            f"here: pick a smaller BERT-family encoder, such as the bundled default {config.BUNDLED_MODEL!r}."
        )


def _hub_error(base: BaseModel, offline: bool) -> ModelLoadError:
    """Why a Hub id cannot be used: the Hub is out of reach, or it has no such (public) model."""
    if offline:
        return ModelLoadError(
            f"The Hugging Face Hub cannot be reached from here, so {base.name!r} cannot be downloaded: "
            f"use the bundled default {config.BUNDLED_MODEL!r} (or a model folder)."
        )
    return ModelLoadError(
        f"{base.name!r} is not a model id on the Hugging Face Hub (or it is private): check the spelling, "
        f"or use the bundled default {config.BUNDLED_MODEL!r}."
    )


def _check_config(base: BaseModel, token: bool | None = None):
    """Load only the config: fails fast (and small) on unknown ids, no network or custom code; returns it."""
    from transformers import AutoConfig
    from transformers.models.auto.modeling_auto import MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES

    # Offline, huggingface_hub retries for ~30 s; look in the local cache only instead.
    offline = base.source == "hub" and not hub_reachable()
    try:
        cfg = AutoConfig.from_pretrained(base.path, trust_remote_code=False, local_files_only=offline, token=token)
    except ValueError as exc:
        if "trust_remote_code" in str(exc) or "custom code" in str(exc):
            raise ModelLoadError(
                f"Model {base.name!r} needs custom code (trust_remote_code), which bertdemo never runs: "
                "pick a standard BERT-family model."
            ) from exc
        raise ModelLoadError(f"Model {base.name!r} cannot be used: {first_line(exc)}") from exc
    except OSError as exc:
        if base.source == "hub":
            raise _hub_error(base, offline) from exc
        raise ModelLoadError(f"Could not read model config in {base.name!r}: {first_line(exc)}") from exc
    if getattr(cfg, "auto_map", None):
        raise ModelLoadError(
            f"Model {base.name!r} needs custom code (auto_map), which bertdemo never runs: "
            "pick a standard BERT-family model."
        )
    if cfg.model_type not in MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES:
        raise ModelLoadError(
            f"Model {base.name!r} is a {cfg.model_type!r} model, which has no sequence-classification head "
            "in transformers: pick a BERT-family encoder."
        )
    return cfg


_hub_checked: dict[str, tuple[float, bool]] = {}  # Hub host -> (when checked, reachable)
_hub_lock = threading.Lock()


def hub_reachable(timeout: float = 3.0) -> bool:
    """True when the Hub's host answers a TCP connect (and HF_HUB_OFFLINE is not set).

    Remembered for config.HUB_CHECK_TTL_S only: a Space that boots before its network is up
    must accept Hub ids once it is, without a restart.
    """
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes"}:
        return False
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host = url.hostname or "huggingface.co"
    port = url.port or (80 if url.scheme == "http" else 443)
    key = f"{host}:{port}"
    with _hub_lock:
        checked = _hub_checked.get(key)
    if checked is not None and time.monotonic() - checked[0] < config.HUB_CHECK_TTL_S:
        return checked[1]
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        reachable = True
    except OSError:
        reachable = False
    with _hub_lock:
        _hub_checked[key] = (time.monotonic(), reachable)
    return reachable


# The config keys that hold attention-probability dropout: BERT, RoBERTa, ELECTRA, DeBERTa...; DistilBERT.
ATTENTION_DROPOUT_KEYS = ("attention_probs_dropout_prob", "attention_dropout")


def attention_dropout_override(model_config, max_length: int, gpu: bool) -> dict[str, float]:
    """The from_pretrained config override that sets the base model's attention dropout for fine-tuning.

    config.TRAIN_ATTENTION_DROPOUT on a CPU above config.TRAIN_ATTENTION_DROPOUT_ABOVE_LENGTH tokens, where the
    mask's random numbers cost a large share of a step; {} otherwise (the model's own), and for a model with no
    such key.
    """
    if config.TRAIN_ATTENTION_DROPOUT is None or gpu or max_length <= config.TRAIN_ATTENTION_DROPOUT_ABOVE_LENGTH:
        return {}
    return {
        key: config.TRAIN_ATTENTION_DROPOUT
        for key in ATTENTION_DROPOUT_KEYS
        if isinstance(getattr(model_config, key, None), (int, float))
    }


def training_attention(max_length: int, gpu: bool) -> str | None:
    """The attention kernel to fine-tune with: "eager" on a CPU up to config.TRAIN_CPU_EAGER_ATTENTION_MAX_LENGTH
    tokens, else None (transformers' default, SDPA where the model has it)."""
    return None if gpu or max_length > config.TRAIN_CPU_EAGER_ATTENTION_MAX_LENGTH else "eager"


def fine_tune_loading(model_config, max_length: int, gpu: bool) -> tuple[dict[str, Any], str | None]:
    """from_pretrained's extra arguments for fine-tuning (attention dropout, attention kernel), and the line that
    says why the attention dropout changed (None when it did not)."""
    loading: dict[str, Any] = dict(attention_dropout_override(model_config, max_length, gpu))
    why = (
        f"{config.TRAIN_ATTENTION_DROPOUT:g} while fine-tuning (the base model's "
        f"{max(getattr(model_config, k) for k in loading):g}): a faster step on a CPU at {max_length} tokens"
        if loading
        else None
    )
    kernel = training_attention(max_length, gpu)
    if kernel:
        loading["attn_implementation"] = kernel  # a loading choice: the saved config does not keep it
    return loading, why
