"""Freeze a classifier's embeddings and lower layers, and compute their outputs once per text.

Fine-tuning spends most of a CPU's time in forward and backward passes through every layer. With the
embeddings and the first k layers frozen, their output for a text never changes: it is computed once (the
first time a text is seen, in eval mode, without gradients), kept, and every later epoch runs forward and
backward through the top layers only.

It works for any classifier head over a BERT-like base model: nothing in the model's structure changes.
The embeddings module and the layers get a per-instance `forward` while attached: the embeddings return
the cached output of layer k, the lower layers pass their input through. The head class, the Trainer, the
checkpoints (the state dict is untouched) and the evaluation all run as usual; `detach()` restores the
plain model, which is what gets saved and exported.
"""

from __future__ import annotations

import logging
import math
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

log = logging.getLogger(__name__)


def frozen_layer_count(num_layers: int, fraction: float) -> int:
    """How many of `num_layers` to freeze for a fraction (at least one layer stays trainable)."""
    if num_layers < 2 or fraction <= 0:
        return 0
    return max(0, min(num_layers - 1, math.floor(num_layers * fraction)))


def find_parts(model: nn.Module) -> tuple[nn.Module, nn.Module, nn.ModuleList] | None:
    """The base model, its embeddings and its list of transformer layers, or None for a layout not recognised."""
    base = getattr(model, "base_model", model)
    embeddings = getattr(base, "embeddings", None)
    n = getattr(getattr(model, "config", None), "num_hidden_layers", None)
    if not isinstance(embeddings, nn.Module) or not n:
        return None
    # The encoder's layer list: BERT/RoBERTa/ELECTRA `encoder.layer`, DistilBERT `transformer.layer`, ...
    lists = [m for m in base.modules() if isinstance(m, nn.ModuleList) and len(m) == n]
    return (base, embeddings, lists[0]) if len(lists) == 1 else None


class FrozenPrefixCache:
    """While attached: the embeddings and the first `k` layers are frozen and their outputs cached per text.

    A text's key is its token ids (and token type ids) where the attention mask is on, so the cache holds
    whatever padding a batch has. Storage stops at `max_bytes`; past it, outputs are still computed
    without gradients (cheaper than training through those layers), just not kept.
    """

    def __init__(self, model: nn.Module, k: int, store_dtype: torch.dtype = torch.float32, max_bytes: int = 1 << 30):
        parts = find_parts(model)
        if parts is None or not 0 < k < len(parts[2]):
            raise ValueError(f"cannot freeze {k} layers of {type(model).__name__}")
        self.base, self.embeddings, self.layers = parts
        self.k = k
        self.store_dtype = store_dtype
        self.max_bytes = max_bytes
        self.cache: dict[bytes, torch.Tensor] = {}
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._mask: torch.Tensor | None = None
        self._computing = False
        self._hook = None
        self._frozen: list[nn.Parameter] = []

    # -- attach / detach -------------------------------------------------------------------------------
    def attach(self) -> FrozenPrefixCache:
        """Freeze the lower part and route the model's forward through the cache."""
        lower = [self.embeddings, *self.layers[: self.k]]
        self._frozen = [p for m in lower for p in m.parameters() if p.requires_grad]
        for p in self._frozen:
            p.requires_grad_(False)
        self.embeddings.forward = self._embed  # an instance attribute shadows the class's forward
        for i, layer in enumerate(self.layers):
            layer.forward = self._layer_forward(i, layer.forward)
        self._hook = self.base.register_forward_pre_hook(self._note_mask, with_kwargs=True)
        return self

    def detach(self) -> None:
        """Restore the plain model (its forwards and trainable flags); the cache is dropped. Safe to call twice."""
        if self._hook is None:
            return
        self._hook.remove()
        self._hook = None
        for m in (self.embeddings, *self.layers):
            m.__dict__.pop("forward", None)
        for p in self._frozen:
            p.requires_grad_(True)
        self._frozen = []
        self.cache.clear()

    def stats(self) -> dict[str, Any]:
        """What the cache did: texts kept, megabytes, and how often a batch row found its text there."""
        return {
            "frozen_layers": self.k,
            "cached_texts": len(self.cache),
            "cache_mb": round(self.bytes / 2**20, 1),
            "hits": self.hits,
            "misses": self.misses,
        }

    # -- the patched forwards --------------------------------------------------------------------------
    def _note_mask(self, module, args, kwargs):
        if not self._computing:
            mask = kwargs.get("attention_mask")
            self._mask = mask if mask is not None and mask.dim() == 2 else None

    def _layer_forward(self, i: int, original):
        def forward(hidden_states, *args, **kwargs):
            # Training: the lower layers are already in the cached states. Filling the cache: the top ones wait.
            if (i < self.k) != self._computing:
                return (hidden_states,)
            return original(hidden_states, *args, **kwargs)

        return forward

    def _embed(self, input_ids=None, token_type_ids=None, *args, **kwargs):
        original = type(self.embeddings).forward.__get__(self.embeddings)
        if self._computing or input_ids is None:
            if input_ids is None:
                raise ValueError("frozen layers are cached by token ids; inputs_embeds are not supported")
            return original(input_ids, token_type_ids, *args, **kwargs)
        mask = self._mask.bool() if self._mask is not None else torch.ones_like(input_ids, dtype=torch.bool)
        keys = [self._key(input_ids[i], token_type_ids, mask[i], i) for i in range(len(input_ids))]
        missing = [i for i, key in enumerate(keys) if key not in self.cache]
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        fresh: dict[int, torch.Tensor] = {}
        if missing:
            rows = torch.tensor(missing)
            tt = token_type_ids[rows] if token_type_ids is not None else None
            states = self._lower_states(input_ids[rows], mask[rows], tt)
            for j, i in enumerate(missing):
                kept = states[j][mask[i]].to(self.store_dtype)
                fresh[i] = kept
                if self.bytes + kept.numel() * kept.element_size() <= self.max_bytes:
                    self.cache[keys[i]] = kept
                    self.bytes += kept.numel() * kept.element_size()
        out = torch.zeros(*input_ids.shape, self._hidden_size(), dtype=torch.float32, device=input_ids.device)
        for i, key in enumerate(keys):
            out[i, mask[i]] = (fresh[i] if i in fresh else self.cache[key]).to(torch.float32)
        return out

    def _key(self, ids: torch.Tensor, token_type_ids, mask: torch.Tensor, i: int) -> bytes:
        key = ids[mask].cpu().numpy().tobytes()
        if token_type_ids is not None and bool(token_type_ids[i].any()):
            key += b"|" + token_type_ids[i][mask].cpu().numpy().tobytes()
        return key

    def _hidden_size(self) -> int:
        return int(self.base.config.hidden_size)

    def _lower_states(self, input_ids, mask, token_type_ids) -> torch.Tensor:
        """Layer k's output for these rows: the plain model, top layers passed through, eval mode, no grad."""
        with self._computing_mode(), torch.no_grad():
            out = self.base(input_ids=input_ids, attention_mask=mask.long(), token_type_ids=token_type_ids)
        return out[0]

    @contextmanager
    def _computing_mode(self):
        training = self.base.training
        self._computing = True
        self.base.eval()  # no dropout in what is kept for every epoch
        try:
            yield
        finally:
            self._computing = False
            self.base.train(training)


def attach_frozen_cache(
    model: nn.Module, fraction: float, precision: str, max_bytes: int
) -> tuple[FrozenPrefixCache | None, str]:
    """Freeze the lower `fraction` of the model's layers with their outputs cached; the cache (or None) and why."""
    parts = find_parts(model)
    if fraction <= 0:
        return None, "off"
    if parts is None:
        return None, f"off: {type(model).__name__} has no embeddings + layer list this recognises"
    n = len(parts[2])
    k = frozen_layer_count(n, fraction)
    if k == 0:
        return None, f"off: {n} layer(s) are too few to freeze some"
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    cache = FrozenPrefixCache(model, k, dtype, max_bytes).attach()
    why = (
        f"embeddings + {k} of {n} layers frozen; their outputs are computed once per text and every later "
        f"epoch trains the top {n - k} layers and the head only"
    )
    return cache, why
