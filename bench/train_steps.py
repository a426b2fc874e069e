"""Step-level levers of bench/train_bench.py: the bf16 path, dropout's cost, and the padding bucketing leaves.

A training step at the benchmark's long setting (batch 8 x 256 tokens, the bundled model) timed in each
arithmetic path, rounds alternating so machine drift hits all alike; and the share of computed tokens
that is padding with random batches, with bertdemo's length-grouped batches (the Trainer's group_by_length),
and so what sequence packing could still remove.
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

import torch
from transformers import AutoModelForSequenceClassification
from transformers.trainer_pt_utils import LengthGroupedSampler

from bertdemo.training import basemodels

# name -> (arithmetic, attention dropout, hidden dropout, attention kernel); None = the base model's own dropout
# (0.1 for MiniLM). BEFORE is bertdemo's step before config.TRAIN_ATTENTION_DROPOUT.
BEFORE = "autocast, attention dropout 0.1, SDPA (before)"
STEP_PATHS: dict[str, tuple[str, float | None, float | None, str]] = {
    "fp32, attention dropout 0, SDPA": ("fp32", 0.0, None, "sdpa"),
    BEFORE: ("autocast", None, None, "sdpa"),
    "autocast, attention dropout 0, SDPA": ("autocast", 0.0, None, "sdpa"),
    "autocast, attention dropout 0, eager": ("autocast", 0.0, None, "eager"),
    "bf16 weights, attention dropout 0, SDPA": ("weights", 0.0, None, "sdpa"),
    "autocast, no dropout, SDPA": ("autocast", 0.0, 0.0, "sdpa"),
}
SHAPES = ((8, 256), (16, 64))  # (batch, tokens): IMDB reviews on small data, short sentences on 1,000+ rows


def _model(model_path: str, arithmetic: str, attention: float | None, hidden: float | None, kernel: str):
    overrides = {
        k: v for k, v in (("attention_probs_dropout_prob", attention), ("hidden_dropout_prob", hidden)) if v is not None
    }
    model = AutoModelForSequenceClassification.from_pretrained(
        model_path, num_labels=2, attn_implementation=kernel, **overrides
    )
    return (model.to(torch.bfloat16) if arithmetic == "weights" else model).train()


def _step_seconds(model, arithmetic: str, batch: int, tokens: int, steps: int, warmup: int) -> list[float]:
    """Seconds of forward + backward + clip + fused AdamW step, as the Trainer takes one, per timed step."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(1000, 20000, (batch, tokens), generator=gen)
    y = torch.randint(0, 2, (batch,), generator=gen)
    mask = torch.ones_like(x)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-5, fused=True)
    out = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=arithmetic == "autocast"):
            loss = model(input_ids=x, attention_mask=mask, labels=y).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        if i >= warmup:
            out.append(time.perf_counter() - t0)
    return out


def bertdemo_path(tokens: int) -> str:
    """The STEP_PATHS entry bertdemo trains with on this CPU at this length (bf16 units assumed: autocast)."""
    kernel = basemodels.training_attention(tokens, gpu=False) or "sdpa"
    return f"autocast, attention dropout 0, {'eager' if kernel == 'eager' else 'SDPA'}"


def step_paths(model_path: str, shapes=SHAPES, rounds: int = 2, steps: int = 6, warmup: int = 2) -> dict[str, Any]:
    """Median step seconds of every STEP_PATHS entry per shape, `rounds` alternating rounds each."""
    out: dict[str, Any] = {"rounds": rounds, "steps_per_round": steps, "shapes": {}}
    for batch, tokens in shapes:
        times: dict[str, list[float]] = {name: [] for name in STEP_PATHS}
        for _ in range(rounds):
            for name, (arithmetic, attention, hidden, kernel) in STEP_PATHS.items():
                torch.manual_seed(0)
                model = _model(model_path, arithmetic, attention, hidden, kernel)
                times[name] += _step_seconds(model, arithmetic, batch, tokens, steps, warmup)
        out["shapes"][f"{batch}x{tokens}"] = {
            "batch": batch,
            "tokens": tokens,
            "bertdemo": bertdemo_path(tokens),
            "step_seconds": {name: statistics.median(t) for name, t in times.items()},
            "samples": times,
        }
    return out


def padding_shares(lengths: list[int], batch: int, seed: int = 0) -> dict[str, float]:
    """The share of computed tokens that is padding: random batches, and length-grouped ones as bertdemo trains."""

    def share(order: list[int]) -> float:
        real = computed = 0
        for i in range(0, len(order), batch):
            rows = [lengths[r] for r in order[i : i + batch]]
            real += sum(rows)
            computed += max(rows) * len(rows)
        return 1 - real / computed

    shuffled = list(range(len(lengths)))
    random.Random(seed).shuffle(shuffled)
    torch.manual_seed(seed)
    grouped = list(LengthGroupedSampler(batch, lengths=lengths))
    return {"random": share(shuffled), "grouped": share(grouped), "rows": len(lengths), "batch": batch}
