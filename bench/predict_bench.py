"""Batch prediction and explanation benchmark: texts/s per back-end through the CSV path, memory on 50k rows.

    python bench/predict_bench.py                # fine-tunes an SST-2 MiniLM if needed (as infer_bench), then measures
    python bench/predict_bench.py --run NAME     # measures an existing run
    python bench/predict_bench.py --quick        # smoke run: small files, few repeats (numbers are not meaningful)

Measures, through bertdemo.inference.batchpredict.predict_file (read CSV, predict in length-sorted chunks, write CSV):
texts/s of every back-end on 2,000 IMDB reviews (imdb_test_2k.csv) and on sst2_dev.csv; the peak RSS growth of a
fresh process labeling the 50,000-review imdb_50k.csv.gz with the default (fastest passed) back-end; and the
latency of an explanation (Captum layer integrated gradients) of a 30-token review. Writes
bench/results/predict.json, predict.md and the README table (--quick: predict_quick.*).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import SHARED_DATA, machine, md_table, write  # noqa: E402
from bertdemo import config  # noqa: E402
from bertdemo.runs import store

IMDB_2K = SHARED_DATA / "imdb_test_2k.csv"
SST2_DEV = SHARED_DATA / "sst2_dev.csv"
IMDB_50K = SHARED_DATA / "imdb_50k.csv.gz"
TARGET_INT8_SPEEDUP = 2.0  # int8 texts/s vs PyTorch on the sentence data
TARGET_RSS_MB = 1024  # peak RSS growth on 50k rows
TARGET_EXPLAIN_S = 1.0  # a 30-token review
EXPLAIN_TOKENS = 30


def head_csv(src: Path, rows: int, dest: Path) -> Path:
    """The first `rows` data rows of a CSV (or .csv.gz) as a new file of the same kind."""
    opener = gzip.open if src.suffix == ".gz" else open
    with opener(src, "rt", newline="", encoding="utf-8") as fin, opener(dest, "wt", newline="", encoding="utf-8") as fo:
        reader, writer = csv.reader(fin), csv.writer(fo)
        writer.writerow(next(reader))
        for i, row in enumerate(reader):
            if i >= rows:
                break
            writer.writerow(row)
    return dest


def ensure_exported(name: str, root: Path | None) -> list[str]:
    """Every back-end of the run, exporting (fp32, O2, int8) first when a variant is missing."""
    from bertdemo.onnx.compare import available_backends
    from bertdemo.onnx.export import export_run

    if len(available_backends(name, root)) < len(config.BACKENDS):
        print(f"exporting {name} (fp32, {config.ONNX_OPT_LEVEL_CPU}, int8) ...", flush=True)
        export_run(name, optimize=True, quantize=True, root=root)
    return available_backends(name, root)


def throughput(name: str, backends: list[str], files: dict[str, Path], root: Path | None, out_dir: Path) -> dict:
    """{file: {backend: report}} from predict_file; models loaded first, so texts/s is predicting and writing."""
    from bertdemo.inference.batchpredict import predict_file
    from bertdemo.inference.predictors import load_predictor

    results: dict[str, dict[str, Any]] = {}
    for label, path in files.items():
        results[label] = {}
        for backend in backends:
            load_predictor(name, backend, root)
            r = predict_file(name, path, out_dir / f"{label}-{backend}.csv", backend=backend, root=root)
            m = r["metrics"] or {}
            results[label][backend] = {
                "rows": r["rows"],
                "seconds": r["seconds"],
                "texts_per_second": r["texts_per_second"],
                "accuracy": m.get("accuracy"),
                "f1_macro": m.get("f1_macro"),
            }
            print(f"  {label:<10} {backend:<15} {r['texts_per_second']:8.1f} texts/s  acc {m.get('accuracy')}")
    return results


def rss_child(name: str, backend: str, path: str, root: str | None) -> None:
    """In a fresh process: load the predictor, then label the file while sampling RSS; print one JSON line."""
    import psutil

    from bertdemo.inference.batchpredict import predict_file
    from bertdemo.inference.predictors import load_predictor

    root_path = Path(root) if root else None
    proc = psutil.Process()
    load_predictor(name, backend, root_path).predict(["warm-up text"] * 8)
    base = proc.memory_info().rss
    peak, done = [base], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with tempfile.TemporaryDirectory() as tmp:
        report = predict_file(name, path, Path(tmp) / "out.csv", backend=backend, root=root_path)
    done.set()
    sampler.join()
    peak[0] = max(peak[0], proc.memory_info().rss)
    print(
        json.dumps(
            {
                "backend": backend,
                "rows": report["rows"],
                "seconds": report["seconds"],
                "texts_per_second": report["texts_per_second"],
                "accuracy": (report["metrics"] or {}).get("accuracy"),
                "rss_base_mb": round(base / 2**20, 1),
                "rss_peak_mb": round(peak[0] / 2**20, 1),
                "rss_growth_mb": round((peak[0] - base) / 2**20, 1),
            }
        )
    )


def memory(name: str, backend: str, path: Path, root: Path | None) -> dict[str, Any]:
    """Run rss_child in a fresh interpreter (nothing else allocated in it) and read its JSON line."""
    cmd = [sys.executable, __file__, "--rss-child", name, backend, str(path)]
    if root:
        cmd += ["--models-dir", str(root)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def explain_latency(name: str, root: Path | None, repeats: int) -> dict[str, Any]:
    """Seconds per explanation of an sst2_dev review of 30 tokens (after one warm-up)."""
    from bertdemo.data import labeled
    from bertdemo.inference.explain import explain
    from bertdemo.inference.predictors import load_predictor

    counts = load_predictor(name, "pytorch", root)
    texts = labeled.read_labeled_csv(SST2_DEV, max_rows=None).texts
    n_tokens = counts.count_tokens(texts)
    text = min(zip(texts, n_tokens, strict=True), key=lambda t: abs(t[1] - EXPLAIN_TOKENS))
    explain(name, text[0], root=root)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        r = explain(name, text[0], root=root)
        times.append(time.perf_counter() - started)
    return {
        "text": text[0],
        "tokens": text[1],
        "steps": r["steps"],
        "delta": r["delta"],
        "median_s": round(statistics.median(times), 3),
        "max_s": round(max(times), 3),
        "repeats": repeats,
    }


def table(res: dict[str, Any]) -> str:
    """The README table and the verdict lines."""
    thr, mem, exp = res["throughput"], res["memory"], res["explain"]
    files = list(thr)
    rows = []
    for b in res["backends"]:
        row: list[Any] = [b]
        for f in files:
            t, base = thr[f][b], thr[f]["pytorch"]
            row += [f"{t['texts_per_second']:.1f}", f"{t['texts_per_second'] / base['texts_per_second']:.2f}x"]
            row.append(f"{t['accuracy']:.4f}" if t.get("accuracy") is not None else "")
        rows.append(row)
    header = ["back-end"]
    for f in files:
        n = thr[f]["pytorch"]["rows"]
        header += [f"{f} texts/s ({n:,} rows)", "vs PyTorch", f"{f} accuracy"]
    speedup = thr["sst2_dev"]["onnx-int8"]["texts_per_second"] / thr["sst2_dev"]["pytorch"]["texts_per_second"]
    met = lambda ok: "met" if ok else "NOT met"  # noqa: E731
    lines = [
        md_table(header, rows),
        "",
        f"int8 on the sentence data (sst2_dev): {speedup:.2f}x PyTorch texts/s (target >= {TARGET_INT8_SPEEDUP:g}x: "
        f"{met(speedup >= TARGET_INT8_SPEEDUP)}). Peak RSS growth labeling {mem['rows']:,} rows of "
        f"{IMDB_50K.name} with {mem['backend']}: {mem['rss_growth_mb']:.0f} MB over {mem['rss_base_mb']:.0f} MB "
        f"with the model loaded (target < {TARGET_RSS_MB} MB: {met(mem['rss_growth_mb'] < TARGET_RSS_MB)}); "
        f"{mem['texts_per_second']:.1f} texts/s, accuracy {mem['accuracy']:.4f}. Explanation of a "
        f"{exp['tokens']}-token review ({exp['steps']} integration steps): median {exp['median_s']:.2f} s, max "
        f"{exp['max_s']:.2f} s over {exp['repeats']} (target < {TARGET_EXPLAIN_S:g} s: "
        f"{met(exp['median_s'] < TARGET_EXPLAIN_S)}).",
        "",
        f"Measured by `python bench/predict_bench.py` on run `{res['run']}` on {res['machine']['cpu']} "
        f"({res['machine']['torch_threads']} torch threads, {res['ort_threads']} ORT threads, GPU: "
        f"{res['machine']['gpu'] or 'none'}); texts/s counts reading, predicting (chunks of "
        f"{config.PREDICT_CHUNK_ROWS}, batches of {config.PREDICT_BATCH_SIZE}) and writing the CSV, not loading the "
        f"model. 1-minute load average {res['load_before']:.1f} before and {res['load_after']:.1f} after "
        "(above ~2, other processes were sharing the cores).",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", help="saved run to measure (default: the SST-2 MiniLM of infer_bench, trained if needed)")
    ap.add_argument("--models-dir", type=Path, default=None, help=f"saved runs folder (default {config.MODELS_DIR})")
    ap.add_argument("--quick", action="store_true", help="a smoke run (numbers are not meaningful)")
    ap.add_argument("--explain-repeats", type=int, default=10)
    ap.add_argument("--imdb-rows", type=int, default=0, help="first N rows of imdb_test_2k.csv only (0: all 2,000)")
    ap.add_argument("--sst2-rows", type=int, default=0, help="first N rows of sst2_dev.csv only (0: all 872)")
    ap.add_argument("--rss-rows", type=int, default=0, help="first N rows of imdb_50k.csv.gz only (0: all 50,000)")
    ap.add_argument("--train-rows", type=int, default=4000, help="sst2_train.csv rows when fine-tuning")
    ap.add_argument("--epochs", type=int, default=3, help="epochs when fine-tuning")
    ap.add_argument("--rss-child", nargs=3, metavar=("RUN", "BACKEND", "CSV"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rss_child:
        rss_child(*args.rss_child, str(args.models_dir) if args.models_dir else None)
        return
    from bench.infer_bench import ensure_run
    from bertdemo.inference.batchpredict import fastest_backend
    from bertdemo.inference.predictors import ort_threads

    q, root = args.quick, args.models_dir
    load_before = os.getloadavg()[0]
    name = ensure_run(args.run, root, q, 200 if q else args.train_rows, 1 if q else args.epochs)
    backends = ensure_exported(name, root)
    imdb_rows, sst2_rows, rss_rows = (100, 200, 1000) if q else (args.imdb_rows, args.sst2_rows, args.rss_rows)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_dir = Path(tmp)

        def subset(src: Path, rows: int, dest: str) -> Path:
            return head_csv(src, rows, tmp_dir / dest) if rows else src

        files = {
            "imdb_2k": subset(IMDB_2K, imdb_rows, "imdb_2k.csv"),
            "sst2_dev": subset(SST2_DEV, sst2_rows, "sst2_dev.csv"),
        }
        big = subset(IMDB_50K, rss_rows, "imdb_50k.csv.gz")
        print(f"texts/s through predict_file for {', '.join(backends)} ...", flush=True)
        thr = throughput(name, backends, files, root, tmp_dir)
        backend = fastest_backend(name, root)
        print(f"peak RSS labeling {big.name} with {backend} in a fresh process ...", flush=True)
        mem = memory(name, backend, big, root)
    print(f"  {mem}")
    print("explanation latency ...", flush=True)
    exp = explain_latency(name, root, 2 if q else args.explain_repeats)
    print(f"  {exp}")
    res = {
        "run": name,
        "base_model": store.load_run(name, root).get("base_model"),
        "backends": backends,
        "throughput": thr,
        "memory": mem,
        "explain": exp,
        "machine": machine(),
        "ort_threads": ort_threads(),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "quick": q,
    }
    text = table(res)
    write("predict_quick" if q else "predict", res, text)
    print(text)


if __name__ == "__main__":
    main()
