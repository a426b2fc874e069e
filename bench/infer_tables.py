"""bench/infer_bench.py's results -> the markdown written to bench/results/infer.md and the README."""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.report import md_table
from bertdemo import config

IDLE_APP_S = 10.0  # bench/infer_bench.py watches the live app this long, idle
PRESET_WEIGHTS = {"avx512_vnni": "s8", "avx2": "u8"}  # the weight type of each int8 preset (export.int8_config)


def _met(t: dict[str, Any]) -> str:
    return "met" if t["met"] else "NOT met"


def _ratio(h: dict[str, Any], key: str) -> str:
    """'1.05x [1.01-1.10]': the median of the per-round paired ratios and their quartiles (when recorded)."""
    rounds = h.get(f"{key}_rounds")
    if not rounds or len(rounds) < 4:
        return f"{h[key]:.2f}x"
    q1, q3 = np.percentile(rounds, [25, 75])
    return f"{h[key]:.2f}x [{q1:.2f}-{q3:.2f}]"


def _int8_batch(t: dict[str, Any]) -> str:
    """The int8 batch-throughput target's clause (older results files lack it)."""
    b = t.get("int8_batch_over_pytorch")
    if not b:
        return ""
    judged = _met(b) if b["applies"] else "no VNNI on this CPU: not judged"
    return (
        f"int8 texts/s at batch 32 {b['measured']:.2f}x PyTorch's (target >= {b['target']}x on a VNNI CPU: {judged}); "
    )


def render(res: dict[str, Any], backends: list[str], candidate: str, other: str, quick: bool, by_cpu: str = "") -> str:
    """Dashboard vs alone per text count, back-ends, variants, spinning, served path; targets; the machine."""
    honest, dev, floor = res["honest"], res["dev"]["scores"], res["floor"]
    dash = res["dashboard"]["backends"]
    full = max(honest, key=int)  # the full latency set: the per-back-end facts below are taken on it
    rows = []
    for k, per in honest.items():
        torch_alone = per["pytorch"]["alone_p50_ms"]
        for b in backends:
            h = per[b]
            firsts = (h["alone_first_call_ms"], h["dashboard_first_call_ms"])
            rows.append(
                [
                    k,
                    b,
                    f"{h['alone_p50_ms']:.2f}",
                    f"{h['dashboard_p50_ms']:.2f}",
                    _ratio(h, "dashboard_over_alone"),
                    f"{h['cli_p50_ms']:.2f} ({_ratio(h, 'cli_over_alone')})" if "cli_p50_ms" in h else "-",
                    f"{h['served_p50_ms']:.2f} ({_ratio(h, 'served_over_alone')})" if "served_p50_ms" in h else "-",
                    f"{h['old_dashboard_over_alone']:.2f}x",
                    f"{torch_alone / h['alone_p50_ms']:.2f}x",
                    " / ".join("-" if v is None else f"{v:.1f}" for v in firsts),
                ]
            )
    main = md_table(
        [
            "typed texts",
            "back-end",
            "p50 ms alone",
            "p50 ms dashboard",
            "dashboard / alone",
            "p50 ms CLI --json (/ alone)",
            "p50 ms app /compare (/ alone)",
            "before: dashboard / alone",
            "speed-up (alone)",
            "first call after idle, ms: alone / dashboard",
        ],
        rows,
    )
    facts = md_table(
        ["back-end", "texts/s (batch 32)", "size MB", "accuracy", "agrees w/ PyTorch", "x fp32 floor (p50 alone)"],
        [
            [
                b,
                f"{dash[b]['throughput']:.0f}",
                f"{dash[b]['size_mb']:.1f}",
                f"{dev[b]['accuracy']:.4f}",
                f"{dev[b]['agreement']:.4f}",
                f"{honest[full][b]['alone_p50_ms'] / floor['latency_ms']:.1f}x",
            ]
            for b in backends
        ],
    )

    var, plain = res["variants"], res["variants"]["onnx"]
    var_rows = []
    for v, r in var.items():
        score = dev.get(v, {})
        var_rows.append(
            [
                v,
                f"{r['Attention'] + r['QAttention']}",
                str(r["nodes"]),
                f"{r['p50_ms']:.2f}",
                f"{plain['p50_ms'] / r['p50_ms']:.2f}x",
                f"{r['texts_per_s']:.0f}",
                f"{r['texts_per_s'] / plain['texts_per_s']:.2f}x",
                f"{r['size_mb']:.1f}",
                f"{score.get('accuracy', float('nan')):.4f}",
                f"{score.get('agreement', float('nan')):.4f}",
            ]
        )
    variants = md_table(
        [
            "ORT variant",
            "fused attention nodes",
            "graph nodes",
            "p50 ms (batch 1)",
            "vs onnx",
            "texts/s (batch 32)",
            "vs onnx",
            "size MB",
            "accuracy",
            "agrees w/ PyTorch",
        ],
        var_rows,
    )

    spin_rows = []
    for where, label in (("free", "free"), ("busy_neighbour", "one core busy elsewhere")):
        for b, r in res["spinning"][where].items():
            spin_rows.append(
                [
                    b,
                    label,
                    f"{r['p50_ms_spin']:.2f}",
                    f"{r['p50_ms_no_spin']:.2f}",
                    f"{r['p50_ms_no_spin'] / r['p50_ms_spin']:.2f}x",
                    f"{r['texts_per_s_spin']:.0f}",
                    f"{r['texts_per_s_no_spin']:.0f}",
                ]
            )
    spinning = md_table(
        ["variant", "cores", "p50 ms spin", "p50 ms no spin", "no spin / spin", "texts/s spin", "texts/s no spin"],
        spin_rows,
    )

    served_rows = [
        [
            b,
            f"{r['bare_p50_ms']:.2f}",
            f"{r['served_p50_ms']:.2f}",
            f"{r['ratio']:.3f}x",
            f"{r['overhead_us']:.0f}",
            f"{r['threads']}, {'on' if r['spinning'] else 'off'}",
        ]
        for b, r in res["served"].items()
    ]
    served = md_table(
        ["back-end", "bare tokenizer + session.run p50 ms", "served /predict p50 ms", "ratio", "overhead us",
         "ORT threads, spinning"],
        served_rows,
    )  # fmt: skip

    t = res["targets"]
    m, cpu, load = res["machine"], res["machine"]["cpu_facts"], res["load_average_1m"]
    s = res["settings"]
    d, sp, c = t["dashboard_over_alone"], t["best_speedup_alone"], t["cli_over_alone"]
    preset = res["exports"].get("int8_preset") or "?"
    weights = PRESET_WEIGHTS.get(preset, "?")
    per_texts = ", ".join(f"{v['backend']} {v['measured']:.2f}x at {k}" for k, v in sp["per_texts"].items())
    bias = (
        ", ".join(
            f"{b} {p['timed_over_tail']:.2f}x ({p['timed_ms']:.2f} / {p['tail_ms']:.2f} ms)"
            for b, p in (res.get("block_profile") or {}).items()
        )
        or "not measured"
    )
    report = res["dashboard"]
    paired = "dashboard_over_alone_rounds" in honest[full]["pytorch"]
    rounds = f"{s['rounds']} round{'s' if s['rounds'] != 1 else ''}"
    pairing = (
        f"{rounds}, each surface measured next to an alone measurement of every back-end (seconds apart, their "
        f"order rotated from round to round); a ratio is the median of its {s['rounds']} per-round ratios, [its "
        f"quartiles] beside it (the machine drifts by tens of percent within minutes; a pair taken seconds apart "
        f"shares the drift), a p50 the median of its rounds."
        if paired
        else f"Median of {rounds} side by side."
    )
    steady = (report.get("measurement") or {}).get("steady") or {}
    text = (
        f"{main}\n\n"
        f"*Alone*: each back-end in its own process, the plain way (a default-options ORT session, or the PyTorch "
        f"model; the tokenizer call included), started for the benchmark and idle while the others are measured: "
        f"{s['alone_warmup']} warm-up calls, then {s['alone_calls']} timed calls back to back cycling over the "
        f"texts, median. *Dashboard*: `compare_backends`, as the Compare tab "
        f"times it ({s['dashboard_repeats']} rounds; in each, every back-end's own block after a "
        f"{steady.get('rest_ms', '?')} ms rest: {steady.get('wake_calls', '?')} untimed wake-up call, then at least "
        f"{config.COMPARE_BLOCK_CALLS} timed calls back to back, whole passes over the texts; order rotated; ORT "
        f"spinning as the owner of the cores). *CLI*: `python -m bertdemo compare RUN --text ... --json` in its own "
        f"process, as a user runs it ({config.CLI_COMPARE_REPEATS} rounds, the command's default; one typed text). "
        f"*App /compare*: the live `python app.py`'s /compare endpoint through `gradio_client`, the function the "
        f"Compare tab calls, in the app's process ({config.UI_COMPARE_REPEATS} rounds; one typed text; the whole "
        f"call took {res['served_compare_wall_s']:.1f} s, median, against the tab's first estimate of "
        f"{res['compare_first_estimate_s']:.1f} s; idle for {IDLE_APP_S:g} s before the rounds, the app used "
        f"{res['idle_app_cpu']:.1%} of a core). "
        f"*Before*: the dashboard's method before issue 24 (each text timed once "
        f"per block, right after the rest: with one typed text every sample was a cold first call), against an alone "
        f"round next to it. *First call after idle*: one call after {s['idle_s']:g} s without calls (alone: "
        f"{s['idle_rounds']} per round in its process, on the one-text set; dashboard: as the tab takes it, "
        f"{config.COMPARE_IDLE_ROUNDS} times per back-end); it is not part of any p50. {pairing} "
        f"*The block's own bias*: in blocks of 30 calls of the one text after a "
        f"{config.COMPARE_REST_S * 1e3:.0f} ms rest, the median of calls 2 to {config.COMPARE_BLOCK_CALLS + 1} (what "
        f"Compare times) over that of calls 16 to 30: {bias}.\n\n"
        f"{facts}\n\n"
        f"Throughput from the dashboard; accuracy on the scoring set; the floor against the {full}-text p50 alone.\n\n"
        f"{variants}\n\n"
        f"ORT variants against each other (one process, blocks, order rotated, spinning on). onnx-int8 is built "
        f"from the O2 graph (`export.quantize_fused_graph`) with the weight type of the CPU's preset "
        f"({preset}: {weights} weights); {candidate} is Optimum's quantizer with the same preset on the plain "
        f"export, and {other} the O2 graph quantized with the other preset's weight type: alternatives measured "
        f"beside it, not back-ends.\n\n"
        f"{spinning}\n\n"
        f"Spinning on vs off for the same session type, in blocks; the busy core is a `while True` process, standing "
        f"in for a training job next to the app.\n\n"
        f"{served}\n\n"
        f"Served /predict = `service.predict` (run lookup, cached predictor, tokenization as trained, softmax, labels) "
        f"against the bare tokenizer call + `session.run` on the same session, taking turns call by call.\n\n"
        f"Targets: dashboard within {d['target']}x of alone for every back-end and text count (worst "
        f"{d['worst_backend']} at {d['worst_texts']} text{'s' if d['worst_texts'] != 1 else ''} {d['measured']:.2f}x: "
        f"{_met(d)}); the CLI's `compare --json` and the app's /compare within {c['target']}x of alone for one "
        f"typed text (worst {c['worst_backend']} {c['measured']:.2f}x: {_met(c)}); best variant >= "
        f"{sp['target']}x PyTorch eager alone at batch 1 for every text count "
        f"({per_texts}: {_met(sp)}); "
        f"served int8 {t['served_over_bare_int8']['measured']:.3f}x bare (target <= "
        f"{t['served_over_bare_int8']['target']}x: {_met(t['served_over_bare_int8'])}); {_int8_batch(t)}int8 accuracy "
        f"{abs(t['int8_accuracy_drop']['measured']) * 100:.2f} points "
        f"{'below' if t['int8_accuracy_drop']['measured'] >= 0 else 'above'} fp32 (at most 1 below: "
        f"{_met(t['int8_accuracy_drop'])}); fp32 agreement {t['fp32_agreement']['measured']:.2%} "
        f"({_met(t['fp32_agreement'])}).\n\n"
        f"Measured by `python bench/infer_bench.py{' --quick' if quick else ''}` on run `{res['run']}` "
        f"({res['base_model']}), accuracy on {res['dev']['texts']} texts of {res['dev']['source']}, on "
        f"{m['cpu']} ({cpu['physical_cores']} cores, {cpu['logical_cpus']} logical; {cpu['simd']}; VNNI: "
        f"{'yes' if cpu['vnni'] else 'no'}, bf16 units: {'yes' if cpu['bf16'] else 'no'}; GPU: {m['gpu'] or 'none'}; "
        f"every flag in infer.json); 1-minute load average {load['before']:.1f} before and {load['after']:.1f} after "
        f"(above ~{cpu['logical_cpus']}, other processes shared the cores). Typed texts: the median-length one, two, "
        f"and {s['latency_texts']} spread over the lengths of the scoring set; {s['thr_texts']} texts at batch 32. "
        f"fp32 floor: {floor['latency_ms']:.3f} ms at {floor['latency_tokens_p50']:.0f} tokens "
        f"({floor['assumption']}; peak {floor['cpu']['peak_gflops']} GFLOP/s)."
    )
    if by_cpu:
        text += (
            f"\n\nThe latest full run on each kind of CPU (`bench/results/infer-by-cpu/`; the targets must hold on "
            f"every one, and a kind missing here has not been measured):\n\n{by_cpu}"
        )
    return text


def cpu_kind(flags: set[str] | frozenset[str]) -> str:
    """The kind of CPU the targets must hold on: 'amx', 'avx512-vnni' or 'avx2'."""
    if {"amx_int8", "amx_bf16"} & set(flags):
        return "amx"
    if "avx512_vnni" in flags:
        return "avx512-vnni"
    return "avx2"


def cpu_summary(res: dict[str, Any], commit: str) -> dict[str, Any]:
    """The headline of one full run, for bench/results/infer-by-cpu/<kind>.json (one file per kind of CPU)."""
    t, m = res["targets"], res["machine"]
    honest = res["honest"]
    one = min(honest, key=int)
    served = [h.get(w) for h in honest[one].values() for w in ("cli_over_alone", "served_over_alone")]
    d, sp = t["dashboard_over_alone"], t["best_speedup_alone"]
    return {
        "kind": cpu_kind(set(m["flags"])),
        "cpu": m["cpu"],
        "simd": m["cpu_facts"]["simd"],
        "commit": commit,
        "run": res["run"],
        "accuracy_fp32": res["dev"]["scores"]["onnx"]["accuracy"],
        "load_average_1m": res["load_average_1m"],
        "dashboard_over_alone_worst": d["measured"],
        "dashboard_worst_cell": f"{d['worst_backend']} at {d['worst_texts']}",
        "cli_and_app_over_alone_worst": max(served) if None not in served else None,
        "speedup_at_1": sp["per_texts"][one],
        "speedup_worst": {"backend": sp["backend"], "texts": sp["texts"], "measured": sp["measured"]},
        "int8_preset": res["exports"].get("int8_preset"),
        "rounds": res["settings"]["rounds"],
        "paired": "dashboard_over_alone_rounds" in honest[one]["pytorch"],
    }


def by_cpu_table(summaries: list[dict[str, Any]], target_dash: float, target_speedup: float) -> str:
    """One row per kind of CPU measured so far: the dashboard's honesty and the best speed-up there."""
    rows = []
    for s in sorted(summaries, key=lambda s: s["kind"]):
        served = s.get("cli_and_app_over_alone_worst")
        rows.append(
            [
                s["kind"],
                f"{s['cpu']} ({s['simd']})",
                f"{s['dashboard_over_alone_worst']:.2f}x ({s['dashboard_worst_cell']})",
                "not measured" if served is None else f"{served:.2f}x",
                f"{s['speedup_at_1']['measured']:.2f}x ({s['speedup_at_1']['backend']})",
                f"{s['speedup_worst']['measured']:.2f}x at {s['speedup_worst']['texts']}",
                s["int8_preset"] or "-",
                f"{s['accuracy_fp32']:.3f}",
                f"{s['load_average_1m']['before']:.1f} / {s['load_average_1m']['after']:.1f}",
                f"{s.get('rounds', '?')}{' paired' if s.get('paired') else ''}",
                s["commit"][:7],
            ]
        )
    return md_table(
        [
            "kind of CPU",
            "CPU",
            f"dashboard / alone, worst (<= {target_dash}x)",
            "CLI --json and app /compare / alone, worst (1 text)",
            f"best variant vs PyTorch, 1 text (>= {target_speedup}x)",
            "... worst text count",
            "int8 preset",
            "fp32 accuracy of the run",
            "load before / after",
            "rounds",
            "commit",
        ],
        rows,
    )
