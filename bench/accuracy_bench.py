"""Accuracy benchmark: bertdemo's defaults (every setting on auto) against the TF-IDF baseline, per data set.

    python bench/accuracy_bench.py                      # every data set (~1 h on 2 CPU cores)
    python bench/accuracy_bench.py --only example imdb  # some of them; results merge into the last full table
    python bench/accuracy_bench.py --truncation-study   # IMDB: head vs head+tail truncation at the auto length
    python bench/accuracy_bench.py --legacy             # also the old fixed recipe (3 epochs, 128 tokens)
    python bench/accuracy_bench.py --legacy --reuse     # only the old recipe, beside the defaults already measured
    python bench/accuracy_bench.py --only example --reuse --precision-study bf16   # bf16 beside the defaults
    python bench/accuracy_bench.py --frozen-study 0.5   # also with half the layers frozen and cached, beside each
    python bench/accuracy_bench.py --only imdb --reuse --length-study 128   # IMDB at 128 tokens beside its defaults
    python bench/accuracy_bench.py --only sst2 --reuse --dropout-study 42 1 2   # attention dropout on and off, paired
    python bench/accuracy_bench.py --only sst2 --reuse --dropout-study 42 1 2 --adopt /tmp/bench-accuracy-XXXX
                                                        # ... keeping the runs a cut call finished there
    python bench/accuracy_bench.py --only sst2 --keep-previous   # new defaults, still against the table before
    python bench/accuracy_bench.py --quick              # smoke run on a few rows (numbers are not meaningful)

Writes bench/results/accuracy.json, bench/results/accuracy.md and the README table. The baseline
(TF-IDF + logistic regression) is fitted by training itself on the very same split, so every row
compares like with like; accuracy does not depend on machine load, seconds do.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.configured import config_set  # noqa: E402
from bench.report import RESULTS, SHARED_DATA, head_commit, machine, md_table, write  # noqa: E402
from bertdemo import config  # noqa: E402
from bertdemo.data import labeled, splits
from bertdemo.training.hyperparameters import TrainConfig  # noqa: E402
from bertdemo.training.trainer import train_run  # noqa: E402

# The old fixed recipe, for the "no data set gets worse" check.
LEGACY = {"epochs": 3, "max_length": 128, "truncation": "head"}


def _csv(file: str, rows: int) -> Path:
    """A seeded sample of a shared data file as plain CSV (IMDB 50k is gzipped and over the upload limit)."""
    import pandas as pd

    frame = pd.read_csv(SHARED_DATA / file)
    frame = frame.sample(n=min(rows, len(frame)), random_state=0) if rows < len(frame) else frame
    path = Path(tempfile.mkdtemp(prefix="bench-accuracy-data-")) / f"{file.split('.')[0]}_{rows}.csv"
    frame[["text", "label"]].to_csv(path, index=False)
    return path


def _sample(file: str, rows: int, quick: bool) -> Callable[[], splits.Split]:
    def make() -> splits.Split:
        loaded = labeled.read_labeled_csv(_csv(file, min(rows, 120) if quick else rows), max_rows=None, seed=0)
        return splits.split_data(loaded, 0.2, seed=0)

    return make


def _sst2(rows: int, quick: bool) -> Callable[[], splits.Split]:
    def make() -> splits.Split:
        train = labeled.read_labeled_csv(SHARED_DATA / "sst2_train.csv", max_rows=120 if quick else rows, seed=0)
        dev = labeled.read_labeled_csv(SHARED_DATA / "sst2_dev.csv", max_rows=60 if quick else None, seed=0)
        return splits.split_with_validation(train, dev)

    return make


def _example(quick: bool) -> splits.Split:
    # Exactly what the app does with "Use example data": all rows, the default split and seed.
    loaded = labeled.read_labeled_csv(config.EXAMPLE_CSV, max_rows=90 if quick else None)
    return splits.split_data(loaded, config.DEFAULT_VAL_FRACTION, config.DEFAULT_SEED)


def datasets(quick: bool) -> dict[str, tuple[str, Callable[[], splits.Split]]]:
    """name -> (description, split maker)."""
    return {
        "example": ("examples/reviews.csv (the app's example data)", lambda: _example(quick)),
        "sentences": ("UCI sentiment sentences 2400/600", _sample("sentiment_sentences.csv", 3000, quick)),
        "sst2": ("SST-2: 4,000 train rows, scored on sst2_dev", _sst2(4000, quick)),
        "imdb": ("IMDB reviews 1600/400", _sample("imdb_50k.csv.gz", 2000, quick)),
        "ag_news": ("AG News 1600/400 (4 classes)", _sample("ag_news_test.csv", 2000, quick)),
        "sms_spam": ("SMS spam 1600/400 (imbalanced)", _sample("sms_spam.csv", 2000, quick)),
    }


LP_FT_SIDES = {"on": "LP-FT: mean-pooled, from the quick model's probe", "off": "no LP-FT: [CLS] head, fresh"}
BASE_DROPOUT = "base"  # run_one's attention_dropout for the base model's own (config.TRAIN_ATTENTION_DROPOUT None)


def run_one(
    split: splits.Split,
    root: Path,
    name: str,
    frozen: float | None = None,
    attention_dropout: float | str | None = None,
    lp_ft: bool | None = None,
    **settings,
) -> dict:
    """Fine-tune on the split with the given settings (the rest on auto); metrics, baseline, choices, time.

    `frozen`: the share of layers frozen and cached (config.TRAIN_FROZEN_FRACTION) for this run only;
    `attention_dropout`: config.TRAIN_ATTENTION_DROPOUT for this run only, at any length (BASE_DROPOUT: the base
    model's own); `lp_ft`: config.TRAIN_LP_FT for this run only.
    """
    overrides: dict = {} if frozen is None else {"TRAIN_FROZEN_FRACTION": frozen}
    if lp_ft is not None:
        overrides["TRAIN_LP_FT"] = lp_ft
    if attention_dropout is not None:  # at every length, for this run only
        overrides["TRAIN_ATTENTION_DROPOUT"] = None if attention_dropout == BASE_DROPOUT else float(attention_dropout)
        overrides["TRAIN_ATTENTION_DROPOUT_ABOVE_LENGTH"] = 0
    with config_set(**overrides):
        info = train_run(split, TrainConfig(**settings), name, root=root)
    return summarize(info)


def summarize(info: dict) -> dict:
    """What the tables read of a run: train_run's answer, or a saved run's run.json (--adopt)."""
    p = info["params"]
    return {
        "train_rows": info["data"]["train_rows"],
        "val_rows": info["data"]["val_rows"],
        "accuracy": info["metrics"]["accuracy"],
        "f1_macro": info["metrics"]["f1_macro"],
        "baseline_accuracy": info["baseline"]["accuracy"],
        "baseline_f1_macro": info["baseline"]["f1_macro"],
        "epochs_chosen": p["epochs"],
        "epochs_run": len(info["history"]),
        "best_epoch": 1 + max(range(len(info["history"])), key=lambda i: info["history"][i]["val_f1_macro"] or 0),
        "max_length": p["max_length"],
        "truncation": p["truncation"],
        "precision": info["device"].get("precision", "fp32"),
        "batch_size": p["batch_size"],
        "learning_rate": p["learning_rate"],
        "chosen": p["chosen"],
        "train_seconds": info["train_seconds"],
        "recipe": info.get("recipe") or "fine-tune",
        "seed": info["params"].get("seed"),
        "frozen": info.get("frozen"),
        # The linear probe saved before fine-tuning: its accuracy, and its seconds against fine-tuning's.
        "quick_model": {k: v for k, v in (info.get("quick_model") or {}).items() if k != "path"} or None,
        "history": info["history"],
    }


def dropout_study(
    split: splits.Split, root: Path, name: str, entry: dict, seeds: list[int], adopt: Path | None = None
) -> dict:
    """Paired runs per seed: the base model's attention dropout ("base") against none ("none"), at any length.

    Kept from an earlier call for the same seed, or adopted from a cut call's models folder (`adopt`); at the
    default seed the defaults run stands for the side it trained as.
    """
    study = entry.get("dropout_study", {}).get("seeds", {})
    defaults_side = "none" if "attention_dropout" in (entry["defaults"].get("chosen") or {}) else "base"
    for seed in seeds:
        pair = study.setdefault(str(seed), {})
        for side, value in (("base", BASE_DROPOUT), ("none", 0.0)):
            if side in pair:
                continue
            # A cut call's run of this set, side and seed (its own tag in the name): the name up to the set's key.
            prefix = name.rsplit("-", 1)[0]
            saved = next(iter(sorted(adopt.glob(f"{prefix}-*-drop{side}-s{seed}/run.json"))), None) if adopt else None
            if saved is not None:
                pair[side] = {k: v for k, v in summarize(json.loads(saved.read_text())).items() if k != "history"}
            elif side == defaults_side and seed == config.DEFAULT_SEED:
                pair[side] = {k: v for k, v in entry["defaults"].items() if k != "history"}
            else:
                run = run_one(split, root, f"{name}-drop{side}-s{seed}", attention_dropout=value, seed=seed)
                pair[side] = {k: v for k, v in run.items() if k != "history"}
    done = [p for p in study.values() if {"base", "none"} <= set(p)]
    points = [100 * (p["none"]["accuracy"] - p["base"]["accuracy"]) for p in done]
    speed = [p["base"]["train_seconds"] / p["none"]["train_seconds"] for p in done]
    return {
        "seeds": study,
        "mean_points": sum(points) / len(points) if points else None,
        "points": points,
        "speedups": speed,
    }


def table(results: dict) -> str:
    rows = []
    for key, (label, _) in datasets(False).items():
        r = results["datasets"].get(key)
        if not r:
            continue
        d = r["defaults"]
        gain = 100 * (d["accuracy"] - d["baseline_accuracy"])
        legacy = r.get("legacy")
        rows.append(
            [
                label,
                f"{d['accuracy']:.4f} ({d['f1_macro']:.4f})",
                f"{d['baseline_accuracy']:.4f} ({d['baseline_f1_macro']:.4f})",
                f"{gain:+.1f}",
                f"{legacy['accuracy']:.4f}" if legacy else "not run",
                f"{d['epochs_run']} of {d['epochs_chosen']} (best {d['best_epoch']})",
                f"{d['max_length']} {d['truncation']}",
                f"{d['train_seconds']:.0f}",
            ]
        )
    out = md_table(
        [
            "data (train/validation)",
            "defaults: accuracy (macro-F1)",
            "TF-IDF + LR: accuracy (macro-F1)",
            "points over baseline",
            "old recipe (3 epochs, 128 tokens)",
            "epochs run of chosen (best)",
            "max length, truncation",
            "train s",
        ],
        rows,
    )
    study = results.get("truncation_study")
    if study:
        when = results.get("truncation_study_machine")
        where = f"on {when['cpu']}" if when else "by an earlier run, on another CPU (its seconds are that CPU's)"
        out += f"\n\nIMDB 1600/400, head vs head+tail truncation at the same auto length, {where}:\n\n" + md_table(
            ["truncation", "max length", "accuracy", "macro-F1", "train s"],
            [
                [t, r["max_length"], f"{r['accuracy']:.4f}", f"{r['f1_macro']:.4f}", f"{r['train_seconds']:.0f}"]
                for t, r in study.items()
            ],
        )
    prec = [
        [label, d["defaults"], p, r]
        for key, (label, _) in datasets(False).items()
        if (d := results["datasets"].get(key))
        for p, r in d.get("precision", {}).items()
    ]
    if prec:
        out += "\n\nThe same split and settings in another precision (`--precision-study`):\n\n" + md_table(
            ["data", "defaults: precision, accuracy", "other precision", "accuracy (macro-F1)", "points", "train s"],
            [
                [
                    label,
                    f"{d.get('precision', 'fp32')} {d['accuracy']:.4f}",
                    p,
                    f"{r['accuracy']:.4f} ({r['f1_macro']:.4f})",
                    f"{100 * (r['accuracy'] - d['accuracy']):+.2f}",
                    f"{r['train_seconds']:.0f} vs {d['train_seconds']:.0f}",
                ]
                for label, d, p, r in prec
            ],
        )
    levers = [
        [label, d["defaults"], lever, r]
        for key, (label, _) in datasets(False).items()
        if (d := results["datasets"].get(key))
        for lever, r in [
            *((f"{(r.get('frozen') or {}).get('frozen_layers', f)} layers frozen", r)
              for f, r in d.get("frozen_study", {}).items()),
            *((f"head+tail {n} tokens", r) for n, r in d.get("length_study", {}).items()),
            *((LP_FT_SIDES[side], r) for side, r in d.get("lp_ft_study", {}).items()),
        ]
    ]  # fmt: skip
    if levers:
        out += (
            "\n\nThe same split and settings with one lever changed: lower layers frozen and cached "
            "(`--frozen-study`), a shorter max length (`--length-study`), or LP-FT (`--lp-ft-study`):\n\n"
            + md_table(
                [
                    "data",
                    "defaults: accuracy (macro-F1)",
                    "lever",
                    "accuracy (macro-F1)",
                    "points",
                    "train s",
                    "speed-up",
                ],
                [
                    [
                        label,
                        f"{d['accuracy']:.4f} ({d['f1_macro']:.4f})",
                        lever,
                        f"{r['accuracy']:.4f} ({r['f1_macro']:.4f})",
                        f"{100 * (r['accuracy'] - d['accuracy']):+.2f}",
                        f"{r['train_seconds']:.0f} vs {d['train_seconds']:.0f}",
                        f"{d['train_seconds'] / r['train_seconds']:.2f}x",
                    ]
                    for label, d, lever, r in levers
                ],
            )  # fmt: skip
        )
    out += _dropout_table(results)
    out += _since_and_quick(results)
    m = results["machine"]
    out += (
        f"\n\nMeasured by `python bench/accuracy_bench.py` on {m['cpu']} ({m['torch_threads']} torch threads, "
        f"GPU: {m['gpu'] or 'none'}); seconds depend on machine load, accuracy does not."
    )
    return out


def _dropout_table(results: dict) -> str:
    """Paired seeds: accuracy with the base model's attention dropout and with bertdemo's (`--dropout-study`)."""
    rows = []
    for key, (label, _) in datasets(False).items():
        st = (results["datasets"].get(key) or {}).get("dropout_study")
        if not st or st.get("mean_points") is None:
            continue
        pairs = [(seed, p) for seed, p in st["seeds"].items() if {"base", "none"} <= set(p)]
        mean = {side: sum(p[side]["accuracy"] for _, p in pairs) / len(pairs) for side in ("base", "none")}
        rows.append(
            [
                label,
                ", ".join(seed for seed, _ in pairs),
                f"{mean['base']:.4f}",
                f"{mean['none']:.4f}",
                f"**{st['mean_points']:+.2f}**",
                ", ".join(f"{x:+.2f}" for x in st["points"]),
                ", ".join(f"{x:.2f}x" for x in st["speedups"]),
            ]
        )
    if not rows:
        return ""
    return (
        "\n\nAttention dropout: the same split trained with the base model's (0.1) and with none, at any length "
        "(`--dropout-study SEED...`, paired by seed; at the default seed the defaults run stands for its side). "
        f"bertdemo drops it on a CPU above {config.TRAIN_ATTENTION_DROPOUT_ABOVE_LENGTH} tokens:\n\n"
        + md_table(
            [
                "data",
                "seeds",
                "accuracy, base dropout (mean)",
                "accuracy, none (mean)",
                "points (mean)",
                "points per seed",
                "train s: base / none",
            ],
            rows,
        )
    )


def _since_and_quick(results: dict) -> str:
    """The defaults against the table they replaced, and the quick model against fine-tuning's time."""
    rows = []
    for key, (label, _) in datasets(False).items():
        r = results["datasets"].get(key)
        if not r or not (r.get("previous") or r["defaults"].get("quick_model")):
            continue
        d, before, quick = r["defaults"], r.get("previous"), r["defaults"].get("quick_model") or {}
        share = quick.get("seconds") / d["train_seconds"] if quick.get("seconds") and d["train_seconds"] else None
        rows.append(
            [
                label,
                f"{d['accuracy']:.4f} ({d.get('precision', 'fp32')})",
                f"{before['accuracy']:.4f} ({before.get('precision', 'fp32')})" if before else "not run",
                f"{100 * (d['accuracy'] - before['accuracy']):+.2f}" if before else "",
                f"{quick['accuracy']:.4f} ({quick.get('fitted_rows', d['train_rows']):,} rows)" if quick else "none",
                f"{quick['seconds']:.1f} s, {share:.2f}" if share is not None else "",
            ]
        )
    if not rows:
        return ""
    was = results.get("previous_machine") or {}
    return (
        "\n\nThe defaults against the previous table's"
        + (f" (measured on {was.get('cpu', 'another CPU')}, at commit {was.get('commit') or 'unknown'})" if was else "")
        + ", and the quick model (the linear probe saved before fine-tuning starts) against fine-tuning's time:\n\n"
        + md_table(
            [
                "data",
                "defaults now (precision)",
                "previous defaults (precision)",
                "points",
                "quick model: accuracy (rows fitted)",
                "quick model: s, share of train s",
            ],
            rows,
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", choices=list(datasets(False)), help="run these data sets only")
    ap.add_argument("--legacy", action="store_true", help="also train with the old fixed recipe, for comparison")
    ap.add_argument("--reuse", action="store_true", help="keep the defaults already measured (with --legacy)")
    ap.add_argument("--truncation-study", action="store_true", help="IMDB with head and with head+tail truncation")
    ap.add_argument(
        "--precision-study",
        choices=("fp32", "bf16"),
        help="also train every chosen data set in this precision (same split and settings) and compare accuracy",
    )
    ap.add_argument(
        "--frozen-study",
        type=float,
        metavar="SHARE",
        help="also train every chosen data set with this share of layers frozen and cached, and compare",
    )
    ap.add_argument(
        "--length-study",
        type=int,
        metavar="TOKENS",
        help="also train every chosen data set at this max length (head+tail), and compare",
    )
    ap.add_argument(
        "--dropout-study",
        type=int,
        nargs="+",
        metavar="SEED",
        help="also train every chosen data set with these seeds, with the base model's attention dropout and with "
        "none, and compare",
    )
    ap.add_argument(
        "--lp-ft-study",
        action="store_true",
        help="also train every chosen data set with LP-FT (config.TRAIN_LP_FT) the other way, and compare",
    )
    ap.add_argument(
        "--keep-previous",
        action="store_true",
        help="new defaults keep the 'previous defaults' they were compared with (a fix-up within one change)",
    )
    ap.add_argument("--adopt", type=Path, help="with --dropout-study: take the runs a cut call finished in this folder")
    ap.add_argument("--quick", action="store_true", help="a smoke run on few rows (numbers are not meaningful)")
    ap.add_argument("--models-dir", type=Path, default=None, help="keep the runs here")
    args = ap.parse_args()
    name = "accuracy_quick" if args.quick else "accuracy"
    previous = RESULTS / f"{name}.json"
    results = json.loads(previous.read_text()) if previous.exists() and not args.quick else {"datasets": {}}
    keep = args.keep_previous and results.get("previous_machine")
    if not args.quick and not args.reuse and previous.exists() and not keep:  # the table this run replaces
        results["previous_machine"] = {**results.get("machine", {}), "commit": results.get("commit")}
    results["machine"] = machine()
    results["commit"] = head_commit("bertdemo", "bench/accuracy_bench.py")
    root = args.models_dir or Path(tempfile.mkdtemp(prefix="bench-accuracy-"))
    root.mkdir(parents=True, exist_ok=True)
    tag = tempfile.mkdtemp(dir=root).rsplit("/", 1)[-1][-6:].lower().replace("_", "")  # fresh run names per call

    chosen = datasets(args.quick)
    if args.truncation_study:
        split = chosen["imdb"][1]()
        results["truncation_study"] = {
            t: run_one(split, root, f"acc-imdb-{t.replace('_', '')}-{tag}", truncation=t) for t in config.TRUNCATIONS
        }
        results["truncation_study_machine"] = results["machine"]
        write(name, results, table(results))
    keys = [] if args.truncation_study and not args.only else (args.only or list(chosen))
    for key in keys:
        # The study's run stands in for the defaults only when this call made it (an older one is another code's).
        study = results["truncation_study"].get(config.DEFAULT_TRUNCATION) if args.truncation_study else None
        if key == "imdb" and study and not args.legacy and not args.reuse:
            # The study's run with the default truncation is the defaults run: same split, same settings.
            results["datasets"]["imdb"] = {"defaults": study}
            continue
        split = chosen[key][1]()
        old = results["datasets"].get(key, {})
        kept = old.get("defaults") if args.reuse else None
        entry = {**old, "defaults": kept or run_one(split, root, f"acc-{key}-{tag}")}
        if not kept:
            entry.pop("precision", None)  # compared with the defaults just replaced: no longer like with like
            if old.get("defaults") and not (keep and old.get("previous")):
                entry["previous"] = {k: v for k, v in old["defaults"].items() if k != "history"}
        if args.legacy:
            entry["legacy"] = run_one(split, root, f"acc-{key}-legacy-{tag}", **LEGACY)
        if args.precision_study:
            p = args.precision_study
            run = run_one(split, root, f"acc-{key}-{p}-{tag}", precision=p)
            entry["precision"] = {**entry.get("precision", {}), p: run}
        if args.frozen_study is not None:
            f = args.frozen_study
            run = run_one(split, root, f"acc-{key}-frozen-{tag}", frozen=f)
            entry["frozen_study"] = {**entry.get("frozen_study", {}), str(f): run}
        elif not kept:
            entry.pop("frozen_study", None)  # compared with the defaults just replaced
        if args.dropout_study:
            entry["dropout_study"] = dropout_study(
                split, root, f"acc-{key}-{tag}", entry, args.dropout_study, args.adopt
            )
        if args.lp_ft_study:  # the side the defaults do not take
            side = "off" if config.TRAIN_LP_FT else "on"
            run = run_one(split, root, f"acc-{key}-lpft{side}-{tag}", lp_ft=side == "on")
            entry["lp_ft_study"] = {side: run}
        elif not kept:
            entry.pop("lp_ft_study", None)
        if args.length_study:
            n = args.length_study
            run = run_one(split, root, f"acc-{key}-len{n}-{tag}", max_length=n)
            entry["length_study"] = {**entry.get("length_study", {}), str(n): run}
        elif not kept:
            entry.pop("length_study", None)
        results["datasets"][key] = entry
        write(name, results, table(results))  # after every data set: a long run that is cut keeps what it did
        print(f"{key}: {json.dumps({k: v for k, v in entry['defaults'].items() if k != 'history'})}", flush=True)
    write(name, results, table(results))
    print(table(results))


if __name__ == "__main__":
    main()
