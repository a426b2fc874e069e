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

# name -> (arithmetic, attention dropout, hidden dropout); None = the base model's own (0.1 for MiniLM).
STEP_PATHS: dict[str, tuple[str, float | None, float | None]] = {
    "fp32": ("fp32", None, None),
    "bf16 autocast, attention dropout 0.1 (before)": ("autocast", None, None),
    "bf16 autocast, attention dropout 0 (bertdemo)": ("autocast", 0.0, None),
    "bf16 weights, attention dropout 0": ("weights", 0.0, None),
    "bf16 autocast, no dropout at all": ("autocast", 0.0, 0.0),
}


def _model(model_path: str, arithmetic: str, attention: float | None, hidden: float | None):
    overrides = {
        k: v for k, v in (("attention_probs_dropout_prob", attention), ("hidden_dropout_prob", hidden)) if v is not None
    }
    model = AutoModelForSequenceClassification.from_pretrained(model_path, num_labels=2, **overrides)
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


def step_paths(
    model_path: str, batch: int = 8, tokens: int = 256, rounds: int = 2, steps: int = 6, warmup: int = 2
) -> dict[str, Any]:
    """Median step seconds of every STEP_PATHS entry, `rounds` alternating rounds; ratios against bertdemo's."""
    times: dict[str, list[float]] = {name: [] for name in STEP_PATHS}
    for _ in range(rounds):
        for name, (arithmetic, attention, hidden) in STEP_PATHS.items():
            torch.manual_seed(0)
            model = _model(model_path, arithmetic, attention, hidden)
            times[name] += _step_seconds(model, arithmetic, batch, tokens, steps, warmup)
    med = {name: statistics.median(t) for name, t in times.items()}
    ours = med["bf16 autocast, attention dropout 0 (bertdemo)"]
    return {
        "batch": batch,
        "tokens": tokens,
        "rounds": rounds,
        "steps_per_round": steps,
        "step_seconds": med,
        "vs_bertdemo": {name: ours / s for name, s in med.items()},  # > 1: faster than bertdemo's step
        "samples": times,
    }


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
