"""Training benchmark: bertdemo's Trainer path vs the tutorials' naive loop, and accuracy with defaults.

    python bench/train_bench.py            # full run (~15 min on 2 CPU cores)
    python bench/train_bench.py --quick    # smoke run on a few rows

Writes bench/results/train.json, bench/results/train.md and the README table.
Throughput is measured side by side in one run, alternating naive and bertdemo
epochs, so machine noise hits both alike; the figure compared is the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.optim import AdamW
from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import SHARED_DATA, machine, md_table, write  # noqa: E402
from bertdemo import basemodels, config, data, splits  # noqa: E402
from bertdemo.hyperparameters import TrainConfig  # noqa: E402
from bertdemo.training import train_run  # noqa: E402


def naive_epoch(split: splits.Split, model_path: str, seed: int = 0) -> float:
    """One epoch of the tutorial loop: pad every text to 128, fp32, batch 16, plain AdamW. Returns samples/s."""
    torch.manual_seed(seed)
    tok = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForSequenceClassification.from_pretrained(model_path, num_labels=len(split.labels))
    label2id = {lab: i for i, lab in enumerate(split.labels)}
    enc = tok(split.train_texts, padding="max_length", truncation=True, max_length=128, return_tensors="pt")
    y = torch.tensor([label2id[lab] for lab in split.train_labels])
    opt = AdamW(model.parameters(), lr=2e-5)
    steps = (len(y) + 15) // 16
    sched = get_linear_schedule_with_warmup(opt, int(0.1 * steps), steps)
    model.train()
    start = time.perf_counter()
    for i in range(0, len(y), 16):
        out = model(
            input_ids=enc["input_ids"][i : i + 16],
            attention_mask=enc["attention_mask"][i : i + 16],
            labels=y[i : i + 16],
        )
        out.loss.backward()
        opt.step()
        sched.step()
        opt.zero_grad()
    return len(y) / (time.perf_counter() - start)


def bertdemo_epoch(split: splits.Split, root: Path, tag: str, optimizer: str = config.TRAIN_OPTIMIZER) -> float:
    """One epoch through bertdemo's path with its defaults (incl. the per-epoch evaluation). Returns samples/s.

    `optimizer` swaps config.TRAIN_OPTIMIZER for this run only, to show what the fused AdamW is worth.
    """
    chosen, config.TRAIN_OPTIMIZER = config.TRAIN_OPTIMIZER, optimizer
    try:
        info = train_run(split, TrainConfig(epochs=1), f"speed-{tag}-{optimizer}", root=root)
    finally:
        config.TRAIN_OPTIMIZER = chosen
    return info["samples_per_second"]


def accuracy_run(split: splits.Split, root: Path, name: str, epochs: int = 3) -> dict:
    """Train with the defaults and return validation metrics and timing."""
    info = train_run(split, TrainConfig(epochs=epochs), name, root=root)
    return {
        "train_rows": len(split.train_texts),
        "val_rows": len(split.val_texts),
        "epochs": epochs,
        "accuracy": info["metrics"]["accuracy"],
        "f1_macro": info["metrics"]["f1_macro"],
        "batch_size": info["params"]["batch_size"],
        "learning_rate": info["params"]["learning_rate"],
        "train_seconds": info["train_seconds"],
        "history": info["history"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smoke run on few rows (numbers are not meaningful)")
    ap.add_argument("--rounds", type=int, default=2, help="alternating naive/bertdemo epochs for throughput")
    ap.add_argument("--sst2-rows", type=int, default=4000, help="rows of sst2_train.csv to train on")
    ap.add_argument(
        "--models-dir",
        type=Path,
        default=None,
        help="keep the runs here (bench/infer_bench.py --run acc-sst2 can reuse the SST-2 one)",
    )
    ap.add_argument("--skip-throughput", action="store_true", help="only the accuracy runs")
    ap.add_argument("--skip-large", action="store_true", help="leave out the 2400/600 and SST-2 accuracy runs")
    args = ap.parse_args()
    q = args.quick
    sentences = SHARED_DATA / "sentiment_sentences.csv"
    model_path = str(basemodels.bundled_model_path())
    root = args.models_dir or Path(tempfile.mkdtemp(prefix="bench-train-"))
    root.mkdir(parents=True, exist_ok=True)
    results: dict = {"machine": machine(), "quick": q}

    # 1. Throughput on the same 400 rows (320 train), alternating naive, bertdemo, and bertdemo with for-each AdamW.
    small = splits.split_data(data.read_labeled_csv(sentences, max_rows=40 if q else 400, seed=0), 0.2, seed=0)
    naive, ours, foreach = [], [], []
    for r in range(0 if args.skip_throughput else 1 if q else args.rounds):
        naive.append(naive_epoch(small, model_path))
        ours.append(bertdemo_epoch(small, root, f"{r}"))
        foreach.append(bertdemo_epoch(small, root, f"{r}", optimizer="adamw_torch"))
    results["throughput"] = {
        "rows": len(small.train_texts),
        "optimizer": config.TRAIN_OPTIMIZER,
        "naive_samples_per_s": naive,
        "bertdemo_samples_per_s": ours,
        "bertdemo_foreach_adamw_samples_per_s": foreach,
        "speedup": statistics.median(ours) / statistics.median(naive) if naive else None,
        "fused_over_foreach": statistics.median(ours) / statistics.median(foreach) if foreach else None,
    }

    # 2. Accuracy with the defaults: 400 rows (320/80), the 2400/600 split, and SST-2 dev.
    results["small_400"] = accuracy_run(small, root, "acc-400", epochs=1 if q else 3)
    if not args.skip_large:
        full = data.read_labeled_csv(sentences, max_rows=100 if q else None, seed=0)
        results["sentences_2400_600"] = accuracy_run(
            splits.split_data(full, 0.2, seed=0), root, "acc-2400", epochs=1 if q else 3
        )
        sst_train = data.read_labeled_csv(SHARED_DATA / "sst2_train.csv", max_rows=100 if q else args.sst2_rows, seed=0)
        sst_dev = data.read_labeled_csv(SHARED_DATA / "sst2_dev.csv", max_rows=50 if q else None, seed=0)
        results["sst2_dev"] = accuracy_run(
            splits.split_with_validation(sst_train, sst_dev), root, "acc-sst2", epochs=1 if q else 3
        )

    t = results["throughput"]
    rows = []
    if naive:
        rows += [
            [
                "training throughput, naive loop (pad 128, fp32, batch 16)",
                f"{statistics.median(naive):.1f} samples/s",
                "",
                f"{t['rows']} rows of sentiment_sentences, median of {len(naive)} alternating rounds",
            ],
            [
                "training throughput, bertdemo defaults",
                f"{statistics.median(ours):.1f} samples/s",
                f"{t['speedup']:.2f}x naive (target >= 3x)",
                f"incl. per-epoch evaluation; optimizer {t['optimizer']}",
            ],
            [
                "training throughput, bertdemo with for-each AdamW (adamw_torch)",
                f"{statistics.median(foreach):.1f} samples/s",
                f"{statistics.median(foreach) / statistics.median(naive):.2f}x naive",
                f"the fused optimizer is {t['fused_over_foreach']:.2f}x this",
            ],
        ]
    for key, label, target in (
        ("small_400", "accuracy, 400 rows (320/80), 3 epochs", ">= 0.85"),
        ("sentences_2400_600", "accuracy, sentiment_sentences 2400/600, 3 epochs", ">= 0.92"),
        ("sst2_dev", "accuracy, sst2_dev after sst2_train rows, 3 epochs", "MiniLM-L6 full-data figure: 0.915"),
    ):
        if key not in results:
            rows.append([label, "not run (--skip-large)", target, ""])
            continue
        r = results[key]
        if key == "sst2_dev":
            label = label.replace("after", f"after {r['train_rows']}")
        rows.append(
            [
                label,
                f"{r['accuracy']:.4f} (macro-F1 {r['f1_macro']:.4f})",
                target,
                f"batch {r['batch_size']}, lr {r['learning_rate']:g}, {r['train_seconds']:.0f} s",
            ]
        )
    table = md_table(["what", "measured", "vs", "notes"], rows)
    table += (
        f"\n\nMeasured by `python bench/train_bench.py` on {results['machine']['cpu']} "
        f"({results['machine']['torch_threads']} torch threads, GPU: {results['machine']['gpu'] or 'none'})."
    )
    write("train_quick" if q else "train", results, table)
    print(table)


if __name__ == "__main__":
    main()
