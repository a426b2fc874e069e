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


def bundled_token_counter():
    """The bundled tokenizer through `tokenizers` alone (same ids as AutoTokenizer), for counting tokens.

    `inspect` then answers in under a second instead of first importing transformers and torch
    (10-20 s on a busy 2-core machine). Falls back to bundled_tokenizer() without a tokenizer.json.
    """
    from bertdemo.basemodels import bundled_model_path

    path = bundled_model_path() / "tokenizer.json"
    if not path.is_file():
        return bundled_tokenizer()
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    tok.no_truncation()  # token lengths are what we measure: no cut, no padding
    tok.no_padding()

    def encode(texts, add_special_tokens: bool = True, **_ignored):
        return {"input_ids": [e.ids for e in tok.encode_batch(list(texts), add_special_tokens=add_special_tokens)]}

    return encode
