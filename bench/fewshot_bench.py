"""Few-shot benchmark: bertdemo's defaults against SetFit, the quick model and TF-IDF, on n rows per class.

    python bench/fewshot_bench.py                          # every set, 8/16/32/64 rows per class (SEEDS by size)
    python bench/fewshot_bench.py --sizes 8 --seeds 0      # some cells; results already measured are kept
    python bench/fewshot_bench.py --table                  # only re-render the table from the JSON

Each cell (set, rows per class, seed) samples the same labeled rows for every method and scores all of them on
the same held-out rows, one method after the other (side by side), recording the load average before and after.
The file is resumable: a cell already in bench/results/fewshot.json is skipped, so a stopped run goes on.

- defaults: `bertdemo train` with every setting on auto (its own validation split), then its saved run predicts;
- quick model: the linear probe that training saves first (models/<name>-quick), trained on the same split;
- SetFit: the `setfit` package (requirements-bench.txt) with the same bundled encoder, the paper's recipe
  (20 pair iterations, 1 epoch, logistic-regression head), on all the sampled rows;
- TF-IDF + LR: bertdemo's bag-of-words baseline on all the sampled rows.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import RESULTS, SHARED_DATA, machine, md_table, write  # noqa: E402

NAME = "fewshot"
SIZES = (8, 16, 32, 64)
# Seeds per size: a cell's mean moves by a point or more from one set of seeds to another, most at 8 rows per class
# (16-32 rows drawn; per seed -6 to +6 points against SetFit), which also cost the least; so more seeds there.
SEEDS = {8: tuple(range(10)), 16: tuple(range(5)), 32: tuple(range(5)), 64: tuple(range(3))}
EVAL_ROWS = 400  # held-out rows per set (a seeded stratified sample, the same for every cell of a set)
# (file, held-out file or None to hold out from the same file)
SETS = {
    "sst2": ("sst2_train.csv", "sst2_dev.csv"),
    "ag_news": ("ag_news_test.csv", None),
    "sentences": ("sentiment_sentences.csv", None),
    "sms_spam": ("sms_spam.csv", None),
}
METHODS = ("defaults", "quick", "setfit", "tfidf")


def _frames(set_name: str):
    """The pool to sample training rows from, and the held-out rows (never in the pool)."""
    import pandas as pd

    train_file, eval_file = SETS[set_name]
    pool = pd.read_csv(SHARED_DATA / train_file)[["text", "label"]].dropna().astype(str)
    if eval_file:
        held = pd.read_csv(SHARED_DATA / eval_file)[["text", "label"]].dropna().astype(str)
    else:
        held = pool.groupby("label", group_keys=False).sample(frac=0.3, random_state=1234)
        pool = pool.drop(held.index)
    held = held.sample(n=min(EVAL_ROWS, len(held)), random_state=1234)
    return pool, held


def _sample(pool, per_class: int, seed: int):
    return (
        pool.groupby("label", group_keys=False).sample(n=per_class, random_state=seed).sample(frac=1, random_state=seed)
    )


def _accuracy(predicted, gold) -> float:
    return sum(p == g for p, g in zip(predicted, gold, strict=True)) / len(gold)


def run_defaults(rows, held, seed: int, work: Path, **settings: Any) -> dict[str, dict[str, Any]]:
    """bertdemo's pipeline on auto; its quick model predicts the held-out rows while training goes on (the final
    run replaces it), then the saved run does. The quick model's scoring is not counted in the training time.
    `settings`: TrainRequest settings other than auto (bench/fewshot_variants.py)."""
    from bertdemo.inference import predictors
    from bertdemo.training.monitor import TrainingMonitor
    from bertdemo.training.pipeline import TrainRequest, train_from_request

    texts, gold = held["text"].tolist(), held["label"].tolist()
    root = work / "models"
    root.mkdir()

    class ScoresTheQuickModel(TrainingMonitor):
        quick: dict[str, Any] | None = None
        spent = 0.0

        def set_quick(self, quick):
            super().set_quick(quick)
            if quick.get("run") and not quick.get("removed"):  # announced (removed: the final run is saved)
                started = time.perf_counter()
                predicted = predictors.load_predictor(quick["run"], "pytorch", root).predict(texts).labels
                self.quick = {"accuracy": _accuracy(predicted, gold), "seconds": quick["seconds"]}
                predictors.clear_cache(quick["run"])
                self.spent += time.perf_counter() - started

    csv_path = work / "rows.csv"
    rows.to_csv(csv_path, index=False)
    monitor = ScoresTheQuickModel()
    started = time.perf_counter()
    info = train_from_request(
        TrainRequest(csv_path=str(csv_path), name="run", seed=seed, **settings), monitor, root=root
    )
    seconds = time.perf_counter() - started - monitor.spent
    out = {
        "defaults": {
            "accuracy": _accuracy(predictors.load_predictor("run", "pytorch", root).predict(texts).labels, gold),
            "seconds": round(seconds, 2),
            "recipe": info.get("recipe", "fine-tune"),
            "val_accuracy": info["metrics"]["accuracy"],
            "val_interval": info["metrics"].get("accuracy_interval"),
        }
    }
    if monitor.quick:
        out["quick"] = monitor.quick
    predictors.clear_cache()
    return out


def run_setfit(rows, held, seed: int, work: Path) -> dict[str, Any]:
    """The setfit package: the bundled encoder, 20 pair iterations, 1 epoch, logistic-regression head."""
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments

    from bertdemo.tokenizing import bundled_model_path

    started = time.perf_counter()
    model = SetFitModel.from_pretrained(str(bundled_model_path()))
    args = TrainingArguments(
        output_dir=str(work / "setfit"), num_iterations=20, num_epochs=1, batch_size=16, seed=seed, report_to="none"
    )
    data = Dataset.from_dict({"text": rows["text"].tolist(), "label": rows["label"].tolist()})
    Trainer(model=model, args=args, train_dataset=data).train()
    seconds = time.perf_counter() - started
    predicted = [str(p) for p in model.predict(held["text"].tolist())]
    return {"accuracy": _accuracy(predicted, held["label"].tolist()), "seconds": round(seconds, 2)}


def run_tfidf(rows, held) -> dict[str, Any]:
    """bertdemo's bag-of-words baseline (TF-IDF word 1-2 grams + logistic regression)."""
    from bertdemo.training.baseline import baseline_model

    started = time.perf_counter()
    model = baseline_model().fit(rows["text"].tolist(), rows["label"].tolist())
    seconds = time.perf_counter() - started
    return {
        "accuracy": _accuracy(list(model.predict(held["text"].tolist())), held["label"].tolist()),
        "seconds": round(seconds, 2),
    }


def recipe_settings(rows: int) -> dict[str, Any]:
    """The few-shot recipe's settings a cell of `rows` rows was measured with (cells of other settings are measured
    again). The pairs cap counts as it applied to the cell: a cap far above the cell's pairs changed nothing there."""
    from bertdemo import config

    return {
        "pair_iterations": config.FEWSHOT_PAIR_ITERATIONS,
        "max_pairs": min(config.FEWSHOT_MAX_PAIRS, 2 * config.FEWSHOT_PAIR_ITERATIONS * rows),
        "rows_per_step": config.FEWSHOT_BATCH_SIZE,
        "step_share": round(config.FEWSHOT_STEP_SHARE, 4),
        "learning_rate": config.FEWSHOT_LEARNING_RATE,
        "max_grad_norm": config.FEWSHOT_MAX_GRAD_NORM,
        "refit": config.FEWSHOT_REFIT,
        "max_rows_per_class": config.FEWSHOT_MAX_ROWS_PER_CLASS,
    }


def measure_cell(set_name: str, per_class: int, seed: int, setfit: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every method on one cell's rows, side by side, with the load average around it.

    `setfit`: SetFit's result on these rows from an earlier run, kept instead of measured again (--reuse-setfit).
    """
    pool, held = _frames(set_name)
    rows = _sample(pool, per_class, seed)
    cell: dict[str, Any] = {"set": set_name, "per_class": per_class, "seed": seed, "rows": len(rows)}
    cell["recipe"] = recipe_settings(len(rows))
    cell["load_before"] = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-fewshot-") as tmp:
        work = Path(tmp)
        cell["tfidf"] = run_tfidf(rows, held)
        cell.update(run_defaults(rows, held, seed, work))
        cell["setfit"] = {**setfit, "reused": True} if setfit else run_setfit(rows, held, seed, work)
    cell["load_after"] = os.getloadavg()
    return cell


def earlier_setfit(data: dict[str, Any]) -> dict[tuple[str, int, int], dict[str, Any]]:
    """SetFit's results of every cell measured (current or superseded), by cell: they do not depend on bertdemo's
    recipe, and the same seed samples the same rows, so a cell measured again for a new recipe can keep them."""
    found: dict[tuple[str, int, int], dict[str, Any]] = {}
    for c in data.get("superseded", []) + data.get("cells", []):
        if "setfit" in c:
            found[_key(c)] = {k: v for k, v in c["setfit"].items() if k != "reused"}
    return found


def _key(cell: dict[str, Any]) -> tuple[str, int, int]:
    return cell["set"], cell["per_class"], cell["seed"]


def table(cells: list[dict[str, Any]]) -> str:
    """Mean accuracy (and seconds) per set and size over the seeds measured, with the issue's targets."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for c in cells:
        groups.setdefault((c["set"], c["per_class"]), []).append(c)
    rows = []
    for (set_name, per_class), group in sorted(groups.items(), key=lambda kv: (list(SETS).index(kv[0][0]), kv[0][1])):

        def mean(method: str, field: str = "accuracy", group=group) -> float | None:
            values = [c[method][field] for c in group if method in c]
            return statistics.mean(values) if values else None

        d, s, t, q = mean("defaults"), mean("setfit"), mean("tfidf"), mean("quick")
        ds, ss = mean("defaults", "seconds"), mean("setfit", "seconds")
        ok = d is not None and s is not None and t is not None and d >= s - 0.01 and d >= t + 0.02
        fast = ds is not None and ss is not None and ds <= ss / 2
        quick = f"{q:.3f} ({mean('quick', 'seconds'):.1f} s)" if q is not None else "-"
        ratio = f"{ds / ss:.2f}" if ss else "-"
        rows.append(
            [set_name, per_class, len(group), f"{d:.3f} ({ds:.0f} s)", quick, f"{s:.3f} ({ss:.0f} s)", f"{t:.3f}"]
            + ["yes" if ok else "no", ratio, "yes" if fast else "no"]
        )
    header = [
        "set", "rows/class", "seeds", "defaults (train s)", "quick model (s)", "SetFit (train s)", "TF-IDF + LR",
        "accuracy target met", "time defaults/SetFit", "<= 0.5",
    ]  # fmt: skip
    loads = [c["load_before"][0] for c in cells] + [c["load_after"][0] for c in cells]
    note = (
        f"\n\nAccuracy on {EVAL_ROWS} held-out rows per set, mean over the seeds measured; seconds are training wall "
        f"time measured side by side on {machine()['cpu']} with 1-min load average {min(loads):.1f}..{max(loads):.1f} "
        "(a shared machine). Target: defaults >= SetFit - 0.01 and >= TF-IDF + 0.02; training time <= half of SetFit's."
        if cells
        else ""
    )
    reused = sum(bool(c.get("setfit", {}).get("reused")) for c in cells)
    if reused:
        note += (
            f" SetFit's column of {reused} of these {len(cells)} cells comes from an earlier run on the same rows "
            "(`--reuse-setfit`: its accuracy does not depend on bertdemo's recipe; its seconds are that run's)."
        )
    return md_table(header, rows) + note


def plan(sets: list[str], sizes: list[int], seeds: list[int] | None, done: set) -> list[tuple[str, int, int]]:
    """The cells to measure: `seeds` for every size (None: SEEDS by size), those in `done` left out.

    Seed-major, smallest sizes first: a partial run has every set and size once before any repeat.
    """

    def of(size: int) -> tuple[int, ...]:
        return tuple(seeds) if seeds else SEEDS.get(size, SEEDS[max(SEEDS)])

    return [
        (s, n, seed)
        for seed in sorted({seed for n in sizes for seed in of(n)})
        for n in sorted(n for n in sizes if seed in of(n))
        for s in sets
        if (s, n, seed) not in done
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--sizes", nargs="+", type=int, default=list(SIZES))
    parser.add_argument("--seeds", nargs="+", type=int, help="these seeds for every size (default: SEEDS by size)")
    parser.add_argument("--table", action="store_true", help="only re-render the table from the JSON")
    parser.add_argument(
        "--reuse-setfit",
        action="store_true",
        help="keep SetFit's result of a cell measured before (another recipe) instead of running it again",
    )
    args = parser.parse_args()
    path = RESULTS / f"{NAME}.json"
    data = json.loads(path.read_text()) if path.exists() else {"machine": machine(), "cells": []}
    for c in data["cells"]:  # cells recorded with the cap itself: as it applied to them
        c["recipe"]["max_pairs"] = min(c["recipe"]["max_pairs"], 2 * c["recipe"]["pair_iterations"] * c["rows"])
    stale = [c for c in data["cells"] if c.get("recipe") != recipe_settings(c["rows"])]
    if stale:  # measured with other recipe settings: measured again, not mixed into the means
        print(f"{len(stale)} cell(s) measured with other recipe settings: shown apart until measured again", flush=True)
        data["cells"] = [c for c in data["cells"] if c not in stale]
        data["superseded"] = data.get("superseded", []) + stale
    done = {_key(c) for c in data["cells"]}
    known = earlier_setfit(data) if args.reuse_setfit else {}
    todo = plan(args.sets, args.sizes, args.seeds, done)
    for set_name, per_class, seed in [] if args.table else todo:
        print(f"{set_name} {per_class}/class seed {seed} ...", flush=True)
        data["cells"].append(measure_cell(set_name, per_class, seed, known.get((set_name, per_class, seed))))
        data["superseded"] = [c for c in data.get("superseded", []) if _key(c) != _key(data["cells"][-1])]
        write(NAME, data, render(data))  # after every cell: a stopped run keeps what it measured
        print(json.dumps(data["cells"][-1]), flush=True)
    write(NAME, data, render(data))


def _recipe_only(cell: dict[str, Any]) -> dict[str, Any]:
    """A cell's recipe settings, with whether the pairs cap bound there rather than its value (which also
    follows the cell's size)."""
    recipe = cell["recipe"]
    capped = recipe.get("max_pairs", 0) < 2 * recipe.get("pair_iterations", 0) * cell["rows"]
    return {k: v for k, v in recipe.items() if k != "max_pairs"} | {"capped": capped}


def _changes(was: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """The settings that differ, as "name was -> now" (the pairs cap when it bound)."""

    def fmt(v: Any) -> str:
        if v is None:
            return "none"
        if isinstance(v, float):
            return f"{v:g}"
        if isinstance(v, int) and not isinstance(v, bool):
            return f"{v:,}"
        return str(v)

    out = [
        f"{k} {fmt(was.get(k))} -> {fmt(now.get(k))}"
        for k in sorted(set(was) | set(now))
        if k != "max_pairs" and was.get(k) != now.get(k)
    ]
    if was.get("max_pairs", 0) < now.get("max_pairs", 0):
        out.append(f"SetFit's pairs capped at {was.get('max_pairs'):,}")
    return out


def render(data: dict[str, Any]) -> str:
    """The table of the current recipe's cells, then those measured with earlier settings and not yet again."""
    out = table(data["cells"])
    old = data.get("superseded") or []
    groups: dict[str, list[dict[str, Any]]] = {}
    for c in old:  # one table per earlier recipe: cells of different settings are never averaged together
        groups.setdefault(json.dumps(_recipe_only(c), sort_keys=True), []).append(c)
    for cells in groups.values():
        was = ", ".join(_changes(cells[0]["recipe"], recipe_settings(cells[0]["rows"])))
        out += f"\n\nMeasured with an earlier setting of the recipe ({was}), not yet measured again:\n\n" + table(cells)
    return out


if __name__ == "__main__":
    main()
