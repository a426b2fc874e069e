"""Inference benchmark: PyTorch eager vs ONNX Runtime (fp32, optimized, dynamic int8) on a fine-tuned MiniLM.

    python bench/infer_bench.py                # fine-tunes one on SST-2 if needed, then measures
    python bench/infer_bench.py --run NAME     # measures an existing run (e.g. one fine-tuned from the bundled model)
    python bench/infer_bench.py --quick        # smoke run: few texts and repeats (numbers are not meaningful)

Exports every variant, then reports p50/p95 latency at batch 1 and throughput at batch 32 per back-end,
speedup over PyTorch eager, accuracy on sst2_dev.csv, size, and distance from the fp32 FLOPs floor.
Back-ends are timed interleaved in one process (see bertdemo.benchmark.compare_backends), so machine
noise hits all alike. Writes bench/results/infer.json, bench/results/infer.md and the README table
(--quick: infer_quick.*).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import SHARED_DATA, machine, md_table, reuse_or_train, write  # noqa: E402
from bertdemo import benchmark, config, predictors, store  # noqa: E402
from bertdemo.export import export_run  # noqa: E402

DEV_CSV = SHARED_DATA / "sst2_dev.csv"
TRAIN_CSV = SHARED_DATA / "sst2_train.csv"
TARGET_SPEEDUP = 2.5  # best ORT variant vs PyTorch eager, p50 at batch 1
TARGET_INT8_DROP = 0.01  # int8 accuracy within 1 point of fp32


def ensure_run(name: str | None, root: Path | None, quick: bool, train_rows: int, epochs: int) -> str:
    """The run to measure: the one named, else an SST-2 fine-tune of the bundled model (trained once, then reused)."""
    if name:
        store.run_dir(name, root)  # RunNotFound now, not after minutes of work
        return name
    name = "sst2-minilm-quick" if quick else "sst2-minilm-bench"
    from bertdemo import data, splits

    def sst2_split():
        print(f"fine-tuning {name} on {train_rows} rows of {TRAIN_CSV.name}, validated on {DEV_CSV.name} ...")
        train = data.read_labeled_csv(TRAIN_CSV, max_rows=train_rows, seed=0)
        dev = data.read_labeled_csv(DEV_CSV, max_rows=None, seed=0)
        return splits.split_with_validation(train, dev)

    return reuse_or_train(name, root, sst2_split, epochs)


def dev_set(quick: bool) -> tuple[list[str], list[str]]:
    """sst2_dev.csv texts and labels (quick: the first 64)."""
    from bertdemo import data

    dev = data.read_labeled_csv(DEV_CSV, max_rows=None)
    n = 64 if quick else len(dev.texts)
    return dev.texts[:n], dev.labels[:n]


def dev_scores(name: str, backends: list[str], texts: list[str], gold: list[str], root: Path | None) -> dict:
    """Accuracy and macro-F1 on SST-2 dev per back-end, and label agreement with PyTorch."""
    from sklearn.metrics import accuracy_score, f1_score

    labels = {b: predictors.load_predictor(name, b, root).predict(texts).labels for b in backends}
    out = {}
    for b, pred in labels.items():
        out[b] = {
            "accuracy": float(accuracy_score(gold, pred)),
            "f1_macro": float(f1_score(gold, pred, average="macro", zero_division=0)),
            "agreement": float(statistics.fmean(a == p for a, p in zip(pred, labels["pytorch"], strict=True))),
        }
    return out


def floors(name: str, root: Path | None, lat_texts: list[str], thr_texts: list[str]) -> dict[str, Any]:
    """fp32 FLOPs floor: latency (median latency text) and throughput (mean throughput text)."""
    from transformers import AutoConfig

    cfg = AutoConfig.from_pretrained(store.run_dir(name, root))
    p = predictors.load_predictor(name, "pytorch", root)
    cpu = benchmark.cpu_info()
    lat_lens, thr_lens = p.count_tokens(lat_texts), p.count_tokens(thr_texts)
    flops_per_text = statistics.fmean(benchmark.model_flops(cfg, n) for n in thr_lens)
    return {
        "latency_ms": statistics.median(benchmark.flops_floor(cfg, n, 1, cpu) for n in lat_lens),
        "latency_tokens_p50": statistics.median(lat_lens),
        "throughput_texts_per_s": cpu.peak_flops / flops_per_text,
        "throughput_tokens_mean": statistics.fmean(thr_lens),
        "cpu": cpu.as_dict(),
        "assumption": benchmark.FLOOR_ASSUMPTION,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", help="saved run to measure (default: fine-tune sst2-minilm-bench if it does not exist)")
    ap.add_argument("--models-dir", type=Path, default=None, help=f"saved runs folder (default {config.MODELS_DIR})")
    ap.add_argument("--quick", action="store_true", help="a smoke run (numbers are not meaningful)")
    ap.add_argument("--repeats", type=int, default=30, help="timed rounds over the latency texts")
    ap.add_argument("--train-rows", type=int, default=4000, help="sst2_train.csv rows when fine-tuning")
    ap.add_argument("--epochs", type=int, default=3, help="epochs when fine-tuning")
    args = ap.parse_args()
    q, root = args.quick, args.models_dir

    name = ensure_run(args.run, root, q, 200 if q else args.train_rows, 1 if q else args.epochs)
    print(f"exporting {name} (fp32, {config.ONNX_OPT_LEVEL_CPU}, int8) and checking it against PyTorch ...")
    exports = export_run(name, optimize=True, quantize=True, root=root)
    backends = ["pytorch", *exports["variants"]]

    dev_texts, dev_gold = dev_set(q)
    print(f"scoring every back-end on {len(dev_texts)} {DEV_CSV.name} texts ...")
    dev = dev_scores(name, backends, dev_texts, dev_gold, root)

    lat_texts = benchmark.spread_by_length(dev_texts, 4 if q else config.BENCH_LATENCY_TEXTS)
    thr_texts = dev_texts[: config.BENCH_THROUGHPUT_TEXTS]
    print(
        f"timing: {len(lat_texts)} texts at batch 1 x {3 if q else args.repeats} rounds, "
        f"{len(thr_texts)} texts at batch 32 ..."
    )
    cmp = benchmark.compare_backends(
        name,
        lat_texts,
        backends=backends,
        root=root,
        repeats=3 if q else args.repeats,
        warmup=1 if q else 5,
        throughput_texts=thr_texts,
        batch_size=32,
    )
    floor = floors(name, root, lat_texts, thr_texts)

    per_backend: dict[str, dict[str, Any]] = {}
    for b in backends:
        c, variant = cmp["backends"][b], exports["variants"].get(b, {})
        per_backend[b] = {
            **c,
            "dev_accuracy": dev[b]["accuracy"],
            "dev_f1_macro": dev[b]["f1_macro"],
            "dev_agreement": dev[b]["agreement"],
            "max_abs_diff": variant.get("max_abs_diff"),
            "x_floor_latency": c["p50_ms"] / floor["latency_ms"],
            "x_floor_throughput": floor["throughput_texts_per_s"] / c["throughput"],
        }
    ort = [b for b in backends if b != "pytorch"]
    best = max(ort, key=lambda b: per_backend[b]["speedup_p50"])
    int8_drop = per_backend["onnx"]["dev_accuracy"] - per_backend["onnx-int8"]["dev_accuracy"]
    targets = {
        "best_ort_speedup_p50": {
            "backend": best,
            "measured": per_backend[best]["speedup_p50"],
            "target": TARGET_SPEEDUP,
            "met": per_backend[best]["speedup_p50"] >= TARGET_SPEEDUP,
        },
        "int8_accuracy_drop": {"measured": int8_drop, "target": TARGET_INT8_DROP, "met": int8_drop <= TARGET_INT8_DROP},
        "fp32_agreement": {
            "measured": per_backend["onnx"]["dev_agreement"],
            "target": 1.0,
            "met": per_backend["onnx"]["dev_agreement"] == 1.0,
        },
    }
    results = {
        "machine": machine(),
        "quick": q,
        "run": name,
        "base_model": store.load_run(name, root).get("base_model"),
        "dev_texts": len(dev_texts),
        "backends": per_backend,
        "targets": targets,
        "floor": floor,
        "threads": cmp["threads"],
        "settings": cmp["settings"],
        "exports": exports,
    }

    rows = []
    for b in backends:
        r = per_backend[b]
        diff = "" if r["max_abs_diff"] is None else f"{r['max_abs_diff']:.1e}"
        rows.append(
            [
                b,
                f"{r['p50_ms']:.2f}",
                f"{r['p95_ms']:.2f}",
                f"{r['speedup_p50']:.2f}x",
                f"{r['throughput']:.0f}",
                f"{r['speedup_throughput']:.2f}x",
                f"{r['size_mb']:.1f}",
                f"{r['dev_accuracy']:.4f}",
                f"{r['dev_agreement']:.4f}",
                diff,
                f"{r['x_floor_latency']:.0f}x / {r['x_floor_throughput']:.1f}x",
            ]
        )
    table = md_table(
        [
            "back-end",
            "p50 ms (batch 1)",
            "p95 ms",
            "speedup p50",
            "texts/s (batch 32)",
            "speedup",
            "size MB",
            "SST-2 dev acc",
            "agrees w/ PyTorch",
            "max logit diff",
            "x fp32 floor (lat / thr)",
        ],
        rows,
    )
    t = targets
    table += (
        f"\n\nTargets: best ONNX Runtime variant ({best}) {t['best_ort_speedup_p50']['measured']:.2f}x PyTorch eager "
        f"at batch 1 (target >= {TARGET_SPEEDUP}x: {'met' if t['best_ort_speedup_p50']['met'] else 'NOT met'}); "
        f"int8 accuracy {abs(int8_drop) * 100:.2f} points {'below' if int8_drop >= 0 else 'above'} fp32 (target: "
        "at most 1 below: "
        f"{'met' if t['int8_accuracy_drop']['met'] else 'NOT met'}); fp32 agreement "
        f"{t['fp32_agreement']['measured']:.2%} (target 100%: {'met' if t['fp32_agreement']['met'] else 'NOT met'})."
        f"\n\nMeasured by `python bench/infer_bench.py{' --quick' if q else ''}` on run `{name}` "
        f"({results['base_model']}) on {results['machine']['cpu']}: {cmp['threads'].get('torch')} torch threads, "
        f"{cmp['threads'].get('onnxruntime')} ORT threads, GPU: {results['machine']['gpu'] or 'none'}; "
        f"{cmp['settings']['latency_texts']} texts x {cmp['settings']['repeats']} interleaved rounds at batch 1, "
        f"{len(thr_texts)} texts at batch 32, accuracy on {len(dev_texts)} {DEV_CSV.name} texts. "
        f"fp32 floor: {floor['latency_ms']:.3f} ms at {floor['latency_tokens_p50']:.0f} tokens, "
        f"{floor['throughput_texts_per_s']:.0f} texts/s ({benchmark.FLOOR_ASSUMPTION}; "
        f"peak {floor['cpu']['peak_gflops']} GFLOP/s)."
    )
    write("infer_quick" if q else "infer", results, table)
    print(table)


if __name__ == "__main__":
    main()
