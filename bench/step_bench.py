"""Where one training step's time goes on this machine: forward+backward vs the optimizer step.

Shows why bertdemo trains with fused AdamW (config.TRAIN_OPTIMIZER): with MiniLM's 22.7M parameters
(11.7M of them dense word embeddings) and a small batch of short texts, the for-each AdamW step
costs about as much as the forward and backward passes. Writes results/step.{json,md} and the
README section between the bench:step markers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.report import machine, md_table, write  # noqa: E402
from bertdemo import config  # noqa: E402
from bertdemo.training import basemodels


def time_steps(model, optimizer, batch: int, tokens: int, steps: int, warmup: int = 5) -> dict[str, float]:
    """Median ms of forward+backward and of clip+step+zero_grad over `steps` timed steps."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(1000, 20000, (batch, tokens), generator=gen)
    y = torch.randint(0, 2, (batch,), generator=gen)
    fb, st = [], []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        model(input_ids=x, labels=y).loss.backward()
        t1 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # as the Trainer does (max_grad_norm=1)
        optimizer.step()
        optimizer.zero_grad()
        t2 = time.perf_counter()
        if i >= warmup:
            fb.append(t1 - t0)
            st.append(t2 - t1)
    return {"forward_backward_ms": statistics.median(fb) * 1e3, "optimizer_ms": statistics.median(st) * 1e3}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=8, help="the auto batch size below 1,000 training rows")
    ap.add_argument("--tokens", type=int, default=26, help="padded length of a batch of short reviews")
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    model = AutoModelForSequenceClassification.from_pretrained(str(basemodels.bundled_model_path()), num_labels=2)
    model.train()
    results = {"machine": machine(), "batch": args.batch, "tokens": args.tokens, "steps": args.steps, "runs": {}}
    rows = []
    for name, kwargs in (("adamw_torch (for-each)", {"foreach": True}), ("adamw_torch_fused", {"fused": True})):
        optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5, weight_decay=0.01, **kwargs)
        r = time_steps(model, optimizer, args.batch, args.tokens, args.steps)
        results["runs"][name] = r
        share = r["optimizer_ms"] / (r["forward_backward_ms"] + r["optimizer_ms"])
        rows.append([name, f"{r['forward_backward_ms']:.0f}", f"{r['optimizer_ms']:.0f}", f"{share:.0%}"])
    table = md_table(["optimizer", "forward+backward ms", "clip+step+zero_grad ms", "optimizer share of a step"], rows)
    table += (
        f"\n\nMeasured by `python bench/step_bench.py` on {results['machine']['cpu']} "
        f"({results['machine']['torch_threads']} torch threads): bundled MiniLM, batch {args.batch} x "
        f"{args.tokens} tokens, median of {args.steps} steps after 5 warm-up steps. bertdemo uses "
        f"`{config.TRAIN_OPTIMIZER}`."
    )
    write("step", results, table)
    print(table)


if __name__ == "__main__":
    main()
