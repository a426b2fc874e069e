"""Resolve a base model: the bundled offline MiniLM, a local folder, or a Hub id."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
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


def _check_config(base: BaseModel) -> None:
    """Load only the config: fails fast (and small) on unknown ids, no network or custom code."""
    from transformers import AutoConfig
    from transformers.models.auto.modeling_auto import MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES

    # Offline, huggingface_hub retries for ~30 s; look in the local cache only instead.
    offline = base.source == "hub" and not hub_reachable()
    try:
        cfg = AutoConfig.from_pretrained(base.path, trust_remote_code=False, local_files_only=offline)
    except ValueError as exc:
        if "trust_remote_code" in str(exc) or "custom code" in str(exc):
            raise ModelLoadError(
                f"Model {base.name!r} needs custom code (trust_remote_code), which bertdemo never runs: "
                "pick a standard BERT-family model."
            ) from exc
        raise ModelLoadError(f"Model {base.name!r} cannot be used: {first_line(exc)}") from exc
    except OSError as exc:
        if offline:
            raise ModelLoadError(
                f"The Hugging Face Hub cannot be reached from here, so {base.name!r} cannot be downloaded: "
                f"use the bundled default {config.BUNDLED_MODEL!r} or a local model folder."
            ) from exc
        if base.source == "hub":
            raise ModelLoadError(
                f"{base.name!r} is not a model id on the Hugging Face Hub (or it is private): check the spelling, "
                f"or use the bundled default {config.BUNDLED_MODEL!r}."
            ) from exc
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
