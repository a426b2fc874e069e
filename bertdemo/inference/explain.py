"""Which tokens pushed a prediction towards a class: Captum's layer integrated gradients over the embeddings.

Integrated gradients (Sundararajan et al. 2017) sums the gradients along a straight path from a baseline text
(every word replaced by [PAD], [CLS]/[SEP] kept) to the real one; the scores add up to the change of the
class's logit between the two ("completeness"), and the error of that sum is reported as `delta`.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from bertdemo import config
from bertdemo.errors import BertDemoError, ModelLoadError
from bertdemo.runs import store
from bertdemo.tokenizing import encode

log = logging.getLogger(__name__)


class _Explainer:
    """A run's own PyTorch model for attributions: Captum hooks its embedding layer, so it is never shared with
    the predictors (a concurrent prediction would run through the hook), and one explanation runs at a time."""

    def __init__(self, run_path: Path):
        import json

        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        info = json.loads((run_path / store.RUN_JSON).read_text(encoding="utf-8"))
        params = info.get("params") or {}
        self.max_length = int(params.get("max_length") or config.DEFAULT_MAX_LENGTH)
        self.truncation = str(params.get("truncation") or config.DEFAULT_TRUNCATION)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(run_path)
            model = AutoModelForSequenceClassification.from_pretrained(run_path)
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"The model of run {run_path.name!r} cannot be loaded: {exc}") from exc
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.model = model.to(self.device).eval()
        for param in self.model.parameters():  # gradients flow to the embeddings' output only: less to compute
            param.requires_grad_(False)
        id2label = self.model.config.id2label
        self.labels = [str(x) for x in info.get("labels") or []] or [str(id2label[i]) for i in sorted(id2label)]
        self.lock = threading.Lock()


_cache: dict[str, tuple[int, _Explainer]] = {}
_cache_lock = threading.Lock()


def _explainer(name: str, root: Path | None) -> _Explainer:
    """The run's explainer, loaded once and reloaded when run.json changes (retrained under the same name)."""
    run_path = store.run_dir(name, root)
    stamp = (run_path / store.RUN_JSON).stat().st_mtime_ns
    with _cache_lock:
        hit = _cache.get(str(run_path))
        if hit is None or hit[0] != stamp:
            _cache.pop(str(run_path), None)
            hit = (stamp, _Explainer(run_path))
            _cache[str(run_path)] = hit
    return hit[1]


def clear_cache() -> None:
    """Forget the loaded explainer models."""
    with _cache_lock:
        _cache.clear()


def explain(
    name: str, text: str, target: str | None = None, root: Path | None = None, steps: int = config.EXPLAIN_STEPS
) -> dict[str, Any]:
    """Token and word scores towards `target` (default: the predicted class), with the prediction itself.

    Returns label, target, probabilities, tokens ([word piece, score] pairs), words ([word, score] pairs),
    segments (the text cut into [piece, score or None] for highlighting, scores scaled to [-1, 1]) and delta.
    """
    if not text or not str(text).strip():
        raise BertDemoError("Type a text to explain.")
    store.run_dir(name, root)  # an unknown run is refused before torch and captum load
    import torch
    from captum.attr import LayerIntegratedGradients

    text = str(text)[: config.MAX_TEXT_CHARS]
    ex = _explainer(name, root)
    if target not in (None, "") and str(target) not in ex.labels:
        raise BertDemoError(f"Unknown class {target!r}: choose one of {', '.join(ex.labels)}.")
    tok = ex.tokenizer
    enc = encode(tok, [text], ex.max_length, ex.truncation, padding=True, return_tensors="pt")
    ids = enc["input_ids"].to(ex.device)
    mask = enc["attention_mask"].to(ex.device)
    types = enc["token_type_ids"].to(ex.device) if "token_type_ids" in enc else None
    special = tok.get_special_tokens_mask(ids[0].tolist(), already_has_special_tokens=True)
    special_t = torch.tensor(special, dtype=torch.bool, device=ex.device)
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else 0
    baseline = torch.where(special_t, ids[0], torch.full_like(ids[0], pad_id)).unsqueeze(0)

    def forward(input_ids, attention_mask, token_type_ids=None):
        return ex.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits

    started = time.perf_counter()
    with ex.lock:
        with torch.no_grad():
            logits = forward(ids, mask, types)[0].float()
        probs = torch.softmax(logits, -1).cpu().tolist()
        predicted = int(logits.argmax())
        target_i = ex.labels.index(str(target)) if target not in (None, "") else predicted
        lig = LayerIntegratedGradients(forward, ex.model.get_input_embeddings())
        attributions, delta = lig.attribute(
            ids,
            baselines=baseline,
            target=target_i,
            additional_forward_args=(mask, types),
            n_steps=max(2, int(steps)),
            internal_batch_size=config.EXPLAIN_INTERNAL_BATCH,
            return_convergence_delta=True,
        )
    scores = attributions.sum(dim=-1)[0].detach().float().cpu().tolist()
    pieces = tok.convert_ids_to_tokens(ids[0].tolist())
    kept = [i for i, s in enumerate(special) if not s]
    tokens = [[pieces[i], _sig(scores[i])] for i in kept]
    words, segments = merge_words(tok, text, [ids[0, i].item() for i in kept], [scores[i] for i in kept])
    return {
        "name": store.sanitize_name(name),
        "text": text,
        "label": ex.labels[predicted],
        "target": ex.labels[target_i],
        "probabilities": {lab: round(p, 6) for lab, p in zip(ex.labels, probs, strict=True)},
        "tokens": tokens,
        "words": words,
        "segments": segments,
        "delta": round(float(delta.abs().max()), 6),
        "steps": max(2, int(steps)),
        "seconds": round(time.perf_counter() - started, 3),
    }


def merge_words(tok, text: str, ids: list[int], scores: list[float]) -> tuple[list[list[Any]], list[list[Any]]]:
    """Word pieces back to the words of `text` (scores summed), and the text as highlight segments.

    The text is tokenized again with character offsets; the model's pieces are its first ones, or (head_tail
    truncation) its first and last ones, so they line up with that tokenization.
    """
    full = tok(text, add_special_tokens=False, return_offsets_mapping=True, truncation=False, verbose=False)
    full_ids, offsets, word_ids = full["input_ids"], full["offset_mapping"], full.word_ids()
    positions = _align(full_ids, ids)
    if positions is None:  # a tokenizer whose pieces do not line up: show the pieces themselves
        pieces = tok.convert_ids_to_tokens(ids)
        words = [[p, _sig(s)] for p, s in zip(pieces, scores, strict=True)]
        return words, _scaled([[p + " ", s] for p, s in words])
    groups: list[tuple[int, list[int], float]] = []  # (word id, full positions, summed score)
    for pos, score in zip(positions, scores, strict=True):
        wid = word_ids[pos] if word_ids[pos] is not None else -pos - 1
        if groups and groups[-1][0] == wid:
            groups[-1][1].append(pos)
            groups[-1] = (wid, groups[-1][1], groups[-1][2] + score)
        else:
            groups.append((wid, [pos], score))
    words: list[list[Any]] = []
    segments: list[list[Any]] = []
    cursor, last_pos = 0, -1
    for _, group, score in groups:
        start, end = offsets[group[0]][0], offsets[group[-1]][1]
        if group[0] > last_pos + 1 and last_pos >= 0:
            segments.append([" … ", None])  # tokens cut out by head_tail truncation
        elif start > cursor:
            segments.append([text[cursor:start], None])
        words.append([text[start:end], _sig(score)])
        segments.append([text[start:end], score])
        cursor, last_pos = end, group[-1]
    if last_pos < len(full_ids) - 1:
        segments.append([" …", None])  # the model never saw the rest
    elif cursor < len(text):
        segments.append([text[cursor:], None])
    return words, _scaled(segments)


def _align(full_ids: list[int], ids: list[int]) -> list[int] | None:
    """Positions in full_ids of the model's pieces: a prefix, or a prefix plus a suffix; None if neither."""
    n, m = len(full_ids), len(ids)
    if full_ids[:m] == ids:
        return list(range(m))
    for head in range(m, -1, -1):
        tail = m - head
        if full_ids[:head] == ids[:head] and full_ids[n - tail :] == ids[head:]:
            return list(range(head)) + list(range(n - tail, n))
    return None


def _scaled(segments: list[list[Any]]) -> list[list[Any]]:
    """Scores divided by the largest magnitude, so the strongest word is +-1 (what HighlightedText colors)."""
    top = max((abs(s) for _, s in segments if s is not None), default=0.0) or 1.0
    return [[t, None if s is None else round(s / top, 4)] for t, s in segments]


def _sig(x: float) -> float:
    """Six significant digits (a small model's attributions can be 1e-5 and must not round to 0)."""
    return float(f"{x:.6g}")
