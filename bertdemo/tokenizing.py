"""Tokenizers loaded once per process."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=4)
def load_tokenizer(path: str):
    """A fast tokenizer from a model folder or id (cached)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


def bundled_tokenizer():
    """The bundled MiniLM tokenizer, used to report token lengths before training."""
    from bertdemo.basemodels import bundled_model_path

    return load_tokenizer(str(bundled_model_path()))
