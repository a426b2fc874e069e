"""Data-audit benchmark: flip a share of the labels at random, train with the defaults, and see whether the audit
ranks the flipped rows first.

    python bench/audit_bench.py                          # both sets at 5%, 10% and 20% flipped (~2-3 h on 2 cores)
    python bench/audit_bench.py --only ag_news:0.1       # one case; results merge into the last table
    python bench/audit_bench.py --rows 1000              # smaller samples (faster; noisier)
    python bench/audit_bench.py --quick                  # smoke run on a few rows (numbers are not meaningful)

For every case: precision and recall of the top k rows (k = the number of flipped rows, so the two are equal)
for each evidence alone and for the combinations, against the out-of-fold TF-IDF ranking alone; and the time
the audit added (recording the training dynamics + the out-of-fold baseline + ranking) over the training time.
Writes bench/results/audit.json, bench/results/audit.md and the README table.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import RESULTS, SHARED_DATA, machine, md_table, write  # noqa: E402
from bertdemo.runs import store  # noqa: E402
from bertdemo.training.pipeline import TrainRequest, train_from_request  # noqa: E402

SETS = {"ag_news": "ag_news_test.csv", "sentences": "sentiment_sentences.csv"}
RATES = (0.05, 0.10, 0.20)
SEED = 0
# The shared data sets sit beside the repository; a git worktree elsewhere names them in BERTDEMO_SHARED_DATA.
DATA = Path(os.environ.get("BERTDEMO_SHARED_DATA") or SHARED_DATA)


def flipped_csv(file: str, rows: int, rate: float, folder: Path) -> tuple[Path, set[int]]:
    """A seeded sample of a shared set with `rate` of its labels changed to another class; and the flipped rows."""
    with open(DATA / file, newline="", encoding="utf-8") as fh:
        records = [(r["text"], r["label"]) for r in csv.DictReader(fh)]
    rng = random.Random(SEED)
    records = rng.sample(records, min(rows, len(records)))
    classes = sorted({y for _, y in records})
    flipped = set(rng.sample(range(len(records)), round(rate * len(records))))
    path = folder / f"{Path(file).stem}-{rate:g}.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        for i, (text, label) in enumerate(records):
            writer.writerow([text, rng.choice([c for c in classes if c != label]) if i in flipped else label])
    return path, {i + 1 for i in flipped}  # 1-based data rows, as the audit names them


def method_scores(rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Every ranking measured, from the evidence the audit stored per row (higher = more suspicious)."""
    val = np.array([r["split"] == "validation" for r in rows])
    model = np.array([np.nan if r["confidence"] is None else r["confidence"] for r in rows], dtype=float)
    tfidf = np.array([np.nan if r["tfidf"] is None else r["tfidf"] for r in rows], dtype=float)
    variability = np.array([np.nan if r["variability"] is None else r["variability"] for r in rows], dtype=float)
    out = {
        "tfidf (out-of-fold)": 1 - tfidf,
        "dynamics (training rows)": np.where(val, np.nan, 1 - model),
        "fine-tuned (validation rows)": np.where(val, 1 - model, np.nan),
        "fine-tuned (dynamics + validation)": 1 - model,
        "combined (audit default)": np.array([r["score"] for r in rows], dtype=float),
    }
    for w in (0.25, 0.75):
        out[f"{w:g} fine-tuned + {1 - w:g} tfidf"] = 1 - (w * model + (1 - w) * tfidf)
    out["geometric mean"] = 1 - np.sqrt(np.clip(model, 0, 1) * np.clip(tfidf, 0, 1))
    out["combined + low variability"] = out["combined (audit default)"] - np.where(val, 0, np.nan_to_num(variability))
    return out


def top_k(score: np.ndarray, truth: np.ndarray, k: int) -> float:
    """Share of the k highest-scored rows that are flipped (rows without a score last)."""
    order = np.argsort(-np.where(np.isnan(score), -np.inf, score), kind="stable")
    return float(truth[order[:k]].sum() / k) if k else 0.0


def run_case(name: str, rows: int, rate: float, quick: bool) -> dict[str, Any]:
    """Train once on a flipped sample and score every ranking."""
    folder = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    path, flipped = flipped_csv(SETS[name], 120 if quick else rows, rate, folder)
    request = TrainRequest(csv_path=str(path), name=f"audit-{name}-{rate:g}", max_rows=None, seed=SEED)
    if quick:
        request.epochs, request.max_length = 1, 32
    started = time.perf_counter()
    info = train_from_request(request, root=folder / "models")
    wall = time.perf_counter() - started
    audited = json.loads((Path(info["path"]) / store.AUDIT_JSON).read_text(encoding="utf-8"))["rows"]
    truth = np.array([r["row"] in flipped for r in audited])
    k = len(flipped)
    precision = {m: round(top_k(s, truth, k), 4) for m, s in method_scores(audited).items()}
    recall_2k = {m: round(top_k(s, truth, 2 * k) * 2, 4) for m, s in method_scores(audited).items()}
    mislabeled = info["audit"]["mislabeled"]
    return {
        "set": name,
        "classes": len(info["labels"]),
        "rows": len(audited),
        "train_rows": info["data"]["train_rows"],
        "val_rows": info["data"]["val_rows"],
        "rate": rate,
        "flipped": k,
        "flipped_in_validation": int(sum(r["row"] in flipped and r["split"] == "validation" for r in audited)),
        "epochs": len(info["history"]),
        "accuracy": info["metrics"]["accuracy"],
        "baseline_accuracy": info["baseline"]["accuracy"],
        "precision_at_k": precision,  # = recall at k, since k is the number of flipped rows
        "recall_at_2k": recall_2k,
        "train_seconds": info["train_seconds"],
        "audit_seconds": mislabeled["seconds"],
        "recording_seconds": mislabeled["recording_seconds"],
        "audit_overhead": round(mislabeled["seconds"] / info["train_seconds"], 4),
        "wall_seconds": round(wall, 1),
    }


def table(cases: list[dict[str, Any]]) -> str:
    """Precision@k per case and method, then the time added."""
    methods = list(cases[0]["precision_at_k"]) if cases else []
    header = ["method"] + [f"{c['set']} ({c['classes']} cl.) {c['rate']:.0%}" for c in cases]
    rows = [[m] + [c["precision_at_k"][m] for c in cases] for m in methods]
    rows.append(["audit time / training time"] + [f"{100 * c['audit_overhead']:.1f}%" for c in cases])
    rows.append(["training s (audit s)"] + [f"{c['train_seconds']:.0f} ({c['audit_seconds']:.1f})" for c in cases])
    return md_table(header, rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="*", help="cases as SET:RATE (e.g. ag_news:0.1); default: every set and rate")
    p.add_argument("--rows", type=int, default=2000, help="rows sampled per set (80%% train, 20%% validation)")
    p.add_argument("--quick", action="store_true", help="tiny smoke run; writes nothing")
    args = p.parse_args()
    wanted = [(s.split(":")[0], float(s.split(":")[1])) for s in args.only] if args.only else None
    cases = wanted or [(s, r) for s in SETS for r in RATES]
    out = RESULTS / "audit.json"
    previous = json.loads(out.read_text())["cases"] if out.exists() and not args.quick else []
    results = {(c["set"], c["rate"]): c for c in previous}
    for name, rate in cases:
        result = run_case(name, args.rows, rate, args.quick)
        print(json.dumps(result), flush=True)
        if args.quick:
            continue
        results[(name, rate)] = result
        ordered = [results[k] for k in sorted(results, key=lambda k: (list(SETS).index(k[0]), k[1]))]
        note = (
            f"\n\nPrecision of the top k (k = flipped rows; recall at k is the same number) on {args.rows:,}-row "
            "samples, 80/20 split, every setting on auto. Measured by `python bench/audit_bench.py`."
        )
        write("audit", {"machine": machine(), "rows": args.rows, "cases": ordered}, table(ordered) + note)


if __name__ == "__main__":
    main()
