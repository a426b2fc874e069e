"""Training speed: the tutorial loop vs bertdemo, on short sentences and 256-token reviews, and the levers measured.

    python bench/train_bench.py            # full run (~20 min on 2 CPU cores)
    python bench/train_bench.py --quick    # smoke run on a few rows (numbers are not meaningful)
    python bench/train_bench.py --recipes-only --emulate-cpu avx2 --recipes defaults   # an AVX2-only CPU's code

Writes bench/results/train.json, bench/results/train.md and the README table.

1. Throughput, side by side in one run: rounds alternate the tutorial loop, bertdemo as it trains on
   this machine (precision on auto) and bertdemo in the other precision (bf16 where auto chose fp32,
   fp32 where it chose bf16), so machine noise hits all alike; the figures compared are ratios.
   - short: 320 rows of UCI sentiment sentences; the tutorial pads to 128 tokens as it teaches.
   - long: IMDB reviews at 256 tokens (bertdemo's CPU cap); the tutorial pads to the same 256 tokens.
2. Levers, each measured both ways on the short data: torch.compile (compile time counted), the per-epoch
   evaluation sample, tokenization's share of an epoch, and 1 thread (the app's training job on 2 cores)
   against all cores (the CLI); and at the step level (bench/train_steps.py) the bf16 path (autocast against
   weights cast to bf16), the attention dropout bertdemo leaves out, and the padding that length-grouped
   batches leave (what sequence packing could still remove).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import torch
from torch.optim import AdamW
from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import train_recipes as recipes  # noqa: E402
from bench import train_steps  # noqa: E402
from bench.configured import config_set  # noqa: E402
from bench.report import RESULTS, SHARED_DATA, machine, md_table, write  # noqa: E402
from bertdemo import config, hardware  # noqa: E402
from bertdemo.data import labeled, splits
from bertdemo.training import basemodels
from bertdemo.training.hyperparameters import TrainConfig  # noqa: E402
from bertdemo.training.inspection import token_lengths  # noqa: E402
from bertdemo.training.monitor import TrainingMonitor  # noqa: E402
from bertdemo.training.trainer import _tokenized, train_run  # noqa: E402

# The targets are on time to the same accuracy (bench/train_recipes.py's table), with bf16 units: samples/s alone
# leave out that bertdemo's recipe learns in fewer epochs.
TARGET_SHORT = 8.0  # tutorial / bertdemo seconds to the common accuracy, short sentences
TARGET_LONG = 4.0  # the same on 256-token reviews


def tutorial_epoch(split: splits.Split, model_path: str, max_length: int, seed: int = 0) -> float:
    """One epoch of the tutorial loop: pad every text to max_length, fp32, batch 16, plain AdamW. Returns samples/s."""
    torch.manual_seed(seed)
    tok = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForSequenceClassification.from_pretrained(model_path, num_labels=len(split.labels))
    label2id = {lab: i for i, lab in enumerate(split.labels)}
    enc = tok(split.train_texts, padding="max_length", truncation=True, max_length=max_length, return_tensors="pt")
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


class StepClock(TrainingMonitor):
    """A monitor that also notes when each logged training step ended (for steady-state step times)."""

    def __init__(self) -> None:
        super().__init__()
        self.stamps: list[tuple[int, float]] = []

    def add_loss(self, step: int, epoch: float, loss: float) -> None:
        self.stamps.append((step, time.perf_counter()))
        super().add_loss(step, epoch, loss)

    def steady_step_s(self, skip: int = 3) -> float | None:
        """Median seconds per step after the first `skip` logged points (compilation and warm-up left out)."""
        pts = self.stamps[skip:]
        per_step = [(t1 - t0) / (s1 - s0) for (s0, t0), (s1, t1) in zip(pts, pts[1:], strict=False) if s1 > s0]
        return statistics.median(per_step) if per_step else None


def bertdemo_epoch(split: splits.Split, root: Path, tag: str, **settings: Any) -> dict[str, Any]:
    """One epoch of bertdemo's fine-tuning (per-epoch evaluation and checkpoint included); its speed and choices.

    The recipe is pinned to fine-tuning: on auto, 120 IMDB rows (60 a class) would take the contrastive one.
    """
    clock = StepClock()
    settings.setdefault("recipe", "fine-tune")
    info = train_run(split, TrainConfig(epochs=1, **settings), f"speed-{tag}", root=root, monitor=clock)
    h = info["history"][-1] if info["history"] else {}
    return {
        "samples_per_s": info["samples_per_second"],
        "train_seconds": info["train_seconds"],
        "steady_step_s": clock.steady_step_s(),
        "eval_seconds": h.get("eval_seconds"),
        "val_rows": h.get("val_rows"),
        "precision": info["device"]["precision"],
        "batch_size": info["params"]["batch_size"],
        "max_length": info["params"]["max_length"],
    }


def throughput(split, model_path, tutorial_len, root, rounds, tag, other_rows: int | None = None) -> dict[str, Any]:
    """Alternating rounds of the tutorial loop, bertdemo on auto, and bertdemo in the other precision.

    other_rows: train the other precision on the first rows only (emulated bf16 on an AVX2 CPU is ~10x slower).
    """
    tut, auto, other = [], [], []
    sub = (
        split
        if other_rows is None
        else replace(split, train_texts=split.train_texts[:other_rows], train_labels=split.train_labels[:other_rows])
    )
    for r in range(rounds):
        tut.append(tutorial_epoch(split, model_path, tutorial_len))
        auto.append(bertdemo_epoch(split, root, f"{tag}-auto-{r}"))
        flip = "fp32" if auto[-1]["precision"] == "bf16" else "bf16"
        other.append(bertdemo_epoch(split if flip == "fp32" else sub, root, f"{tag}-{flip}-{r}", precision=flip))
    med = {
        "tutorial": statistics.median(tut),
        "auto": statistics.median(a["samples_per_s"] for a in auto),
        "other": statistics.median(o["samples_per_s"] for o in other),
    }
    return {
        "train_rows": len(split.train_texts),
        "tutorial_max_length": tutorial_len,
        "tutorial_samples_per_s": tut,
        "bertdemo_auto": auto,
        "bertdemo_other_precision": other,
        "median": med,
        "speedup": med["auto"] / med["tutorial"],
        "other_speedup": med["other"] / med["tutorial"],
        "other_rows": len((sub if other and other[-1]["precision"] == "bf16" else split).train_texts),
    }


def lever_compile(split, root) -> dict[str, Any]:
    """torch.compile of the model (Trainer's torch_compile) against eager, one epoch each, compile time counted."""
    out: dict[str, Any] = {}
    # A cold compile, as a user's first run on a fresh machine or Space: Inductor's on-disk caches would
    # otherwise reuse an earlier run's kernels and hide most of the compile time.
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-inductor-")
    for compiled in (False, True):
        try:
            with config_set(TRAIN_TORCH_COMPILE=compiled):
                out["compiled" if compiled else "eager"] = bertdemo_epoch(split, root, f"compile-{compiled}")
        except Exception as exc:  # a compiler missing or failing is a result too
            out["compiled" if compiled else "eager"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    e, c = out["eager"], out["compiled"]
    if "error" not in c:
        steps = e["train_seconds"] / e["steady_step_s"] if e.get("steady_step_s") else None
        out["steady_speedup"] = e["steady_step_s"] / c["steady_step_s"] if c.get("steady_step_s") else None
        # Extra seconds the compiled epoch took beyond its own steady steps: compilation (and recompiles).
        # `steps` is the eager epoch in units of its steady step (evaluation and checkpoint included).
        if steps and c.get("steady_step_s"):
            out["compile_seconds"] = c["train_seconds"] - steps * c["steady_step_s"]
            # Break-even: seconds of eager training after which compiling pays for itself.
            gain = 1 - 1 / out["steady_speedup"] if out["steady_speedup"] and out["steady_speedup"] > 1 else None
            out["break_even_s"] = out["compile_seconds"] / gain if gain else None
    return out


def lever_evaluation(split, root) -> dict[str, Any]:
    """One epoch evaluating the whole validation set vs the per-epoch sample (EVAL_SAMPLE_ROWS)."""
    out: dict[str, Any] = {"val_rows": len(split.val_texts), "sample_rows": config.EVAL_SAMPLE_ROWS}
    for label, cap in (("whole", 0), ("sample", config.EVAL_SAMPLE_ROWS)):
        with config_set(EVAL_SAMPLE_ROWS=cap):
            out[label] = bertdemo_epoch(split, root, f"eval-{label}")
    w, s = out["whole"], out["sample"]
    out["epoch_saving"] = 1 - s["train_seconds"] / w["train_seconds"]
    out["eval_share_whole"] = w["eval_seconds"] / w["train_seconds"]
    return out


def lever_tokenization(split, model_path: str, max_length: int, epoch_seconds: float) -> dict[str, Any]:
    """Seconds to count token lengths (auto max length) and tokenize train + validation, against an epoch."""
    tok = AutoTokenizer.from_pretrained(model_path)
    t0 = time.perf_counter()
    token_lengths(split.train_texts, tok)
    t1 = time.perf_counter()
    _tokenized(tok, split.train_texts, [0] * len(split.train_texts), max_length, config.DEFAULT_TRUNCATION)
    _tokenized(tok, split.val_texts, [0] * len(split.val_texts), max_length, config.DEFAULT_TRUNCATION)
    t2 = time.perf_counter()
    return {
        "count_seconds": t1 - t0,
        "tokenize_seconds": t2 - t1,
        "epoch_seconds": epoch_seconds,
        "share_of_epoch": (t2 - t0) / epoch_seconds,
    }


def lever_threads(split, root) -> dict[str, Any]:
    """bertdemo with 1 intra-op thread (the app's job on 2 cores: all CPUs but one) vs every usable CPU (the CLI)."""
    before = torch.get_num_threads()
    out: dict[str, Any] = {}
    for n in sorted({1, hardware.job_threads(), hardware.usable_cpus()}):
        torch.set_num_threads(n)
        try:
            out[str(n)] = bertdemo_epoch(split, root, f"threads-{n}")
        finally:
            torch.set_num_threads(before)
    return out


def lever_padding(short, long, model_path: str, measured: dict[str, Any]) -> dict[str, Any]:
    """Padding share of computed tokens, random against length-grouped batches, at the length and batch trained."""
    tok = AutoTokenizer.from_pretrained(model_path)
    out = {}
    for key, split in (("short sentences", short), ("IMDB 256 tokens", long)):
        t = measured.get("short" if split is short else "long") if split is not None else None
        if t:
            a = t["bertdemo_auto"][-1]
            lengths = [min(n, a["max_length"]) for n in token_lengths(split.train_texts, tok)]
            out[key] = {**train_steps.padding_shares(lengths, a["batch_size"]), "max_length": a["max_length"]}
    return out


def imdb_split(rows: int) -> splits.Split:
    """`rows` IMDB reviews (a fixed sample), 80/20; most are longer than 256 tokens."""
    import pandas as pd

    frame = pd.read_csv(SHARED_DATA / "imdb_50k.csv.gz").sample(n=rows, random_state=0)
    path = Path(tempfile.mkdtemp(prefix="bench-train-")) / "imdb.csv"
    frame.to_csv(path, index=False)
    return splits.split_data(labeled.read_labeled_csv(path, max_rows=None, seed=0), 0.2, seed=0)


def render(res: dict[str, Any]) -> str:
    cpu = res["cpu"]
    rows = []
    for key, label, target in (
        ("short", "short sentences (UCI, ~20 tokens)", TARGET_SHORT),
        ("long", "IMDB reviews, 256 tokens", TARGET_LONG),
    ):
        t = res["throughput"].get(key)
        if not t:
            continue
        a, o = t["bertdemo_auto"][-1], t["bertdemo_other_precision"][-1]
        m = t["median"]
        rows.append(
            [
                f"{label}, {t['train_rows']} rows",
                f"{m['tutorial']:.1f} (pad {t['tutorial_max_length']})",
                f"{m['auto']:.1f} ({a['precision']}, batch {a['batch_size']}, max {a['max_length']})",
                f"**{t['speedup']:.2f}x** (time to the same accuracy: target >= {target:g}x with bf16 units)",
                f"{m['other']:.1f} ({o['precision']}"
                + (f", first {t['other_rows']} rows" if t.get("other_rows", t["train_rows"]) < t["train_rows"] else "")
                + ")",
                f"{t['other_speedup']:.2f}x",
            ]
        )
    out = (
        md_table(
            [
                "data",
                "tutorial loop samples/s",
                "bertdemo samples/s (auto)",
                "bertdemo / tutorial",
                "bertdemo, other precision",
                "other / tutorial",
            ],
            rows,
        )
        if rows
        else ""
    )
    lev = res.get("levers", {})
    lines = []
    c = lev.get("compile")
    if c:
        if "error" in c.get("compiled", {}):
            lines.append(["torch.compile", "failed", c["compiled"]["error"][:120], "off"])
        else:
            lines.append(
                [
                    "torch.compile (Trainer torch_compile)",
                    f"steady steps {c.get('steady_speedup') or 0:.2f}x eager",
                    f"{c['compiled']['samples_per_s']:.1f} vs {c['eager']['samples_per_s']:.1f} samples/s over one "
                    f"epoch; compiling cost {c.get('compile_seconds') or 0:.0f} s"
                    + (f", paid back after {c['break_even_s']:.0f} s" if c.get("break_even_s") else ", not paid back"),
                    "on" if config.TRAIN_TORCH_COMPILE else "off",
                ]
            )
    e = lev.get("evaluation")
    if e:
        lines.append(
            [
                f"evaluate a {e['sample_rows']:,}-row sample per epoch",
                f"epoch {100 * e['epoch_saving']:.0f}% shorter",
                f"{e['val_rows']:,} validation rows: evaluation took {e['whole']['eval_seconds']:.1f} s of a "
                f"{e['whole']['train_seconds']:.1f} s epoch ({100 * e['eval_share_whole']:.0f}%), the sample "
                f"{e['sample']['eval_seconds']:.1f} s",
                "on (final scores read every row)",
            ]
        )
    for key, tk in lev.get("tokenization", {}).items():
        lines.append(
            [
                f"tokenization, {key}",
                f"{100 * tk['share_of_epoch']:.1f}% of an epoch",
                f"counting lengths {tk['count_seconds']:.2f} s + tokenizing {tk['tokenize_seconds']:.2f} s, "
                f"against a {tk['epoch_seconds']:.0f} s epoch",
                "done once per run (no cache needed)",
            ]
        )
    th = lev.get("threads")
    if th:
        fast = max(th, key=lambda n: th[n]["samples_per_s"])
        lines.append(
            [
                "threads: " + " vs ".join(f"{n}" for n in th),
                " vs ".join(f"{th[n]['samples_per_s']:.1f}" for n in th) + " samples/s",
                f"the app's job uses {hardware.job_threads()} (one core left to serving), the CLI all "
                f"{hardware.usable_cpus()}; fastest alone: {fast}",
                "kept",
            ]
        )
    lines += step_lever_lines(lev, cpu)
    if lines:
        out += "\n\n" + md_table(["lever", "effect", "measured", "in bertdemo"], lines)
    m = res["machine"]
    out += (
        f"\n\nMeasured by `python bench/train_bench.py` on {m['cpu']} ({cpu['simd']}; bf16 units: "
        f"{'yes' if cpu['bf16'] else 'no'}; {m['torch_threads']} torch threads, GPU: {m['gpu'] or 'none'}); "
        f"median of {res['rounds']} alternating rounds, one epoch each, bertdemo's including its per-epoch "
        f"evaluation and checkpoint. 1-minute load average {res['load_average_1m']['before']:.1f} before and "
        f"{res['load_average_1m']['after']:.1f} after (above ~2, other processes shared the cores)."
    )
    return out


def render_recipes(res: dict[str, Any], alone: bool) -> str:
    """The time-to-accuracy table (results/train_recipes.md, its own README section) and where it was measured."""
    cpu, m = res["cpu"], res["machine"]
    emu = res.get("emulated")
    how = ("--recipes-only" if alone else "") + (f" --emulate-cpu {emu['kind']}" if emu else "")
    if res.get("recipes_filter"):
        how += " --recipes " + " ".join(res["recipes_filter"])
    if emu:
        caps = ", ".join(f"{k}={v}" for k, v in emu["environment"].items())
        where = (
            f"{m['cpu']} ({emu.get('real_simd', '?')}) running an {emu['kind'].upper()}-only CPU's kernels ({caps}; "
            "bertdemo saw the flags without "
            f"{emu['stripped_flags']}: {cpu['simd']}, bf16 units: {'yes' if cpu['bf16'] else 'no'}); an approximation "
            "of such a CPU: memory, caches and clock are this machine's"
        )
    else:
        where = f"{m['cpu']} ({cpu['simd']}; bf16 units: {'yes' if cpu['bf16'] else 'no'})"
    return recipes.render_recipes(res["recipes"]) + (
        f"\n\nMeasured by `python bench/train_bench.py{' ' + how.strip() if how else ''}` on {where}; "
        f"{m['torch_threads']} torch threads, GPU: {m['gpu'] or 'none'}."
    )


def step_lever_lines(lev: dict[str, Any], cpu: dict[str, Any]) -> list[list[str]]:
    """The lever table's rows for the step-level levers (bench/train_steps.py) and the padding."""
    lines = []
    shapes = (lev.get("step_paths") or {}).get("shapes") or {}
    ms = {k: {n: 1000 * v for n, v in sh["step_seconds"].items()} for k, sh in shapes.items()}

    def each(fmt) -> str:  # one figure per shape, "batch x tokens: ..."
        return "; ".join(f"{sh['batch']} x {sh['tokens']} tokens: {fmt(ms[k], sh)}" for k, sh in shapes.items())

    if shapes:
        drop, sdpa, eager = (
            train_steps.BEFORE,
            "autocast, attention dropout 0, SDPA",
            "autocast, attention dropout 0, eager",
        )
        lines.append(
            [
                "attention dropout 0 (the base model's: 0.1)",
                each(lambda m, sh: f"step {m[drop] / m[sdpa]:.2f}x faster"),
                each(lambda m, sh: f"{m[drop]:.0f} -> {m[sdpa]:.0f} ms") + " a step; accuracy: the accuracy "
                "benchmark's --dropout-study",
                "on (hidden-state dropout kept)",
            ]
        )
        lines.append(
            [
                "eager attention against SDPA",
                each(lambda m, sh: f"{m[sdpa] / m[eager]:.2f}x"),
                each(lambda m, sh: f"eager {m[eager]:.0f} ms, SDPA {m[sdpa]:.0f} ms"),
                f"eager up to {config.TRAIN_CPU_EAGER_ATTENTION_MAX_LENGTH} tokens on a CPU, SDPA above and on GPUs",
            ]
        )
        none = "autocast, no dropout, SDPA"
        lines.append(
            [
                "no dropout at all",
                each(lambda m, sh: f"{m[sdpa] / m[none]:.2f}x"),
                each(lambda m, sh: f"{m[none]:.0f} ms") + "; changes what small data learns, its accuracy not measured",
                "off",
            ]
        )
        cast, fp32 = "bf16 weights, attention dropout 0, SDPA", "fp32, attention dropout 0, SDPA"
        amx = "AMX" in cpu.get("simd", "")
        lines.append(
            [
                "bf16: weights cast against autocast",
                each(lambda m, sh: f"{m[sdpa] / m[cast]:.2f}x"),
                each(lambda m, sh: f"cast {m[cast]:.0f} ms, autocast {m[sdpa]:.0f} ms, fp32 {m[fp32]:.0f} ms")
                + f"; AMX on this CPU: {'yes' if amx else 'no'}",
                "autocast: with bf16 weights the optimizer would round away updates below bf16's 8-bit "
                "mantissa (5e-5 steps on weights near 0.05), and the Trainer keeps no fp32 master copy on a CPU",
            ]
        )
    pad = lev.get("padding")
    if pad:
        worst = max(v["grouped"] for v in pad.values())
        lines.append(
            [
                "bucketing (group_by_length)",
                "padding "
                + ", ".join(f"{100 * v['random']:.0f}% -> {100 * v['grouped']:.0f}%" for v in pad.values())
                + " of computed tokens",
                "; ".join(
                    f"{k}: {v['rows']} rows, batch {v['batch']}, max {v['max_length']}, random against grouped batches"
                    for k, v in pad.items()
                ),
                f"on; packing not taken: at most {100 * worst:.0f}% of the tokens left to remove, and one "
                "label per text needs a per-text attention mask BERT's classifier does not take",
            ]
        )
    return lines


# --emulate-cpu: the kernels a CPU without AVX-512 runs, on this one. oneDNN, ATen and MKL each take a cap on the
# instruction set from the environment (read when torch loads, hence the re-exec); bertdemo's own choices (bf16 on
# auto) follow the CPU's flags, which the bench strips of AVX-512 and AMX. Memory, caches and clock stay this
# machine's, so it approximates an AVX2 CPU's figures; it does not replace measuring on one.
EMULATED_ISA = {
    "avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
}
_EMULATED_FLAG_PREFIXES = ("avx512", "amx", "avx_vnni")
REAL_FLAGS: set[str] = set()  # the CPU's own flags, for the record, once emulate_cpu has stripped bertdemo's view


def emulate_cpu(kind: str) -> dict[str, str]:
    """Run as a `kind` CPU: re-exec with the kernel caps set (first call), then strip bertdemo's view of the flags."""
    caps = EMULATED_ISA[kind]
    if any(os.environ.get(k) != v for k, v in caps.items()):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **caps})
    real = hardware.cpu_info()
    REAL_FLAGS.update(real.flags)
    flags = frozenset(f for f in real.flags if not f.startswith(_EMULATED_FLAG_PREFIXES))
    emulated = replace(real, flags=flags)
    hardware.cpu_info = lambda: emulated  # module-level lookups (precision on auto, the CPU's facts) see it
    return caps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smoke run on a few rows (numbers are not meaningful)")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds for throughput")
    ap.add_argument("--short-rows", type=int, default=400, help="sentiment_sentences rows (80%% train)")
    ap.add_argument("--long-rows", type=int, default=150, help="IMDB reviews (80%% train)")
    ap.add_argument("--skip-long", action="store_true", help="leave out the 256-token reviews")
    ap.add_argument("--skip-levers", action="store_true", help="throughput only")
    ap.add_argument(
        "--levers-only", action="store_true", help="keep the throughput of the last results/train.json, rerun levers"
    )
    ap.add_argument("--models-dir", type=Path, default=None, help="keep the runs here")
    ap.add_argument("--skip-recipes", action="store_true", help="leave out time to the same accuracy")
    ap.add_argument("--recipes-only", action="store_true", help="only time to the same accuracy")
    ap.add_argument("--report-partial", action="store_true", help="render the recipes an unfinished run measured")
    ap.add_argument("--resume", action="store_true", help="keep the recipes an interrupted run finished")
    ap.add_argument("--recipe-short-rows", type=int, default=1000, help="sentences for the recipes (80%% train)")
    ap.add_argument("--recipe-long-rows", type=int, default=600, help="IMDB reviews for the recipes (80%% train)")
    ap.add_argument(
        "--emulate-cpu", choices=sorted(EMULATED_ISA), help="recipes only: this kind of CPU's kernels, on this one"
    )
    ap.add_argument("--recipes", nargs="+", metavar="RECIPE", help="only these recipes beside the tutorial")
    args = ap.parse_args()
    emulated = emulate_cpu(args.emulate_cpu) if args.emulate_cpu else None
    if emulated and not args.recipes_only:
        ap.error("--emulate-cpu measures the recipes only (add --recipes-only)")
    q = args.quick
    model_path = str(basemodels.bundled_model_path())
    root = args.models_dir or Path(tempfile.mkdtemp(prefix="bench-train-"))
    root.mkdir(parents=True, exist_ok=True)
    rounds = 1 if q else args.rounds
    results: dict[str, Any] = {
        "machine": machine(),
        "cpu": hardware.cpu_info().as_dict(),
        "flags": sorted(hardware.cpu_info().flags),
        "quick": q,
        "rounds": rounds,
        "load_average_1m": {"before": os.getloadavg()[0]},
        "throughput": {},
        "levers": {},
    }
    if args.recipes:
        results["recipes_filter"] = args.recipes
    if emulated:
        results["emulated"] = {
            "kind": args.emulate_cpu,
            "environment": emulated,
            "stripped_flags": "avx512*, amx*, avx_vnni",
            "real_simd": hardware.CpuInfo(**{**asdict(hardware.cpu_info()), "flags": frozenset(REAL_FLAGS)}).simd,
        }
    # An emulated run keeps its own files (and README section): the real CPU's table stays as it was.
    out_name = f"train_recipes_{args.emulate_cpu}_emulated" if emulated else "train_recipes"
    sentences = SHARED_DATA / "sentiment_sentences.csv"
    short = splits.split_data(
        labeled.read_labeled_csv(sentences, max_rows=40 if q else args.short_rows, seed=0), 0.2, 0
    )
    long = None if args.skip_long else imdb_split(20 if q else args.long_rows)
    partial = RESULTS / ("train_quick.partial.json" if q else f"{out_name if emulated else 'train'}.partial.json")
    results["recipes"] = recipes.load_partial(partial) if args.resume else {}

    def save_partial() -> None:
        partial.write_text(json.dumps(results["recipes"], indent=2))

    if args.report_partial:  # what an unfinished run measured so far, rendered as it stands
        kept = recipes.load_partial(partial)
        for done in (RESULTS / f"{out_name}.json", RESULTS / "train.json"):  # a finished run: render it again
            if not kept and done.exists():
                stored = json.loads(done.read_text())
                kept = stored.get("recipes", {})
                # where it was measured, not where it is rendered again
                results.update(
                    {k: stored[k] for k in ("machine", "cpu", "flags", "emulated", "recipes_filter") if k in stored}
                )
        results["recipes"] = {k: recipes.score(v) for k, v in kept.items()}
    elif not args.skip_recipes:
        rshort = splits.split_data(
            labeled.read_labeled_csv(sentences, max_rows=40 if q else args.recipe_short_rows, seed=0), 0.2, 0
        )
        data = [("short sentences", rshort, 128, recipes.LEVERS_SHORT)]
        if not args.skip_long:  # first: the long texts are where the time goes
            data.insert(0, ("IMDB reviews", imdb_split(20 if q else args.recipe_long_rows), 256, recipes.LEVERS_LONG))
        for label, split, tut_len, levers in data:
            levers = {k: v for k, v in levers.items() if not args.recipes or k in args.recipes}
            done = results["recipes"].setdefault(label, {})
            recipes.recipes_for(split, model_path, root, label.split()[0], tut_len, levers, done, save_partial)
            save_partial()
        print(recipes.render_recipes(results["recipes"]), flush=True)
    if args.recipes_only or args.report_partial:
        pass  # nothing else measured (results from another run may be from another machine)
    elif args.levers_only:
        kept = json.loads((RESULTS / "train.json").read_text())
        results["throughput"], results["rounds"] = kept["throughput"], kept["rounds"]
        results["load_average_1m"]["throughput"] = kept["load_average_1m"]
    else:
        results["throughput"]["short"] = throughput(short, model_path, 128, root, rounds, "short", other_rows=80)
        print(results["throughput"]["short"]["median"], flush=True)
        if long is not None:
            results["throughput"]["long"] = throughput(long, model_path, 256, root, rounds, "long", other_rows=24)
            print(results["throughput"]["long"]["median"], flush=True)
    if not args.skip_levers and not args.recipes_only and not args.report_partial:
        full = labeled.read_labeled_csv(sentences, max_rows=200 if q else None, seed=0)
        # A validation set larger than the per-epoch sample: half the rows (1,500) validate, 600 train.
        half = splits.split_data(full, 0.5, 0)
        n = 60 if q else 600
        evsplit = replace(half, train_texts=half.train_texts[:n], train_labels=half.train_labels[:n])
        results["levers"]["evaluation"] = lever_evaluation(evsplit, root)
        tok = {}
        for key, split in (("short sentences", short), ("IMDB 256 tokens", long)):
            t = results["throughput"]["short" if split is short else "long"] if split is not None else None
            if t:
                a = t["bertdemo_auto"][-1]
                tok[key] = lever_tokenization(split, model_path, a["max_length"], a["train_seconds"])
        results["levers"]["tokenization"] = tok
        results["levers"]["threads"] = lever_threads(short, root)
        results["levers"]["step_paths"] = train_steps.step_paths(model_path, steps=2 if q else 6, rounds=1 if q else 2)
        results["levers"]["padding"] = lever_padding(short, long, model_path, results["throughput"])
        # Last: however well each run resets the environment, a compiled model leaves dynamo caches behind.
        results["levers"]["compile"] = lever_compile(short, root)
    results["load_average_1m"]["after"] = os.getloadavg()[0]
    alone = args.recipes_only or args.report_partial
    # The recipes go to their own table and README section, the throughput and levers to theirs: a run of one
    # part leaves the other part's table (maybe another CPU's) as it was.
    if results["recipes"]:
        table = render_recipes(results, alone)
        write("train_recipes_quick" if q else out_name, {**results, "throughput": {}, "levers": {}}, table)
        print(table)
    if not alone:
        table = render({**results, "recipes": {}})
        write("train_quick" if q else "train", {**results, "recipes": {}}, table)
        print(table)
    if not args.report_partial:
        partial.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
