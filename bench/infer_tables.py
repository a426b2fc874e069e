"""bench/infer_bench.py's results -> the markdown written to bench/results/infer.md and the README."""

from __future__ import annotations

from typing import Any

from bench.report import md_table


def _met(t: dict[str, Any]) -> str:
    return "met" if t["met"] else "NOT met"


def render(res: dict[str, Any], backends: list[str], candidate: str, quick: bool) -> str:
    """Four tables (back-ends, variants, spinning, served path), the targets, and what it was measured on."""
    honest, dev, floor = res["honest"], res["dev"]["scores"], res["floor"]
    dash = res["dashboard"]["backends"]
    torch_alone = honest["pytorch"]["alone_p50_ms"]
    rows = []
    for b in backends:
        h, d = honest[b], dash[b]
        rows.append(
            [
                b,
                f"{h['alone_p50_ms']:.2f}",
                f"{h['dashboard_p50_ms']:.2f}",
                f"{h['dashboard_over_alone']:.2f}x",
                f"{h['old_dashboard_over_alone']:.2f}x",
                f"{torch_alone / h['alone_p50_ms']:.2f}x",
                f"{d['throughput']:.0f}",
                f"{d['size_mb']:.1f}",
                f"{dev[b]['accuracy']:.4f}",
                f"{dev[b]['agreement']:.4f}",
                f"{h['alone_p50_ms'] / floor['latency_ms']:.1f}x",
            ]
        )
    main = md_table(
        [
            "back-end",
            "p50 ms alone",
            "p50 ms dashboard",
            "dashboard / alone",
            "before: dashboard / alone",
            "speedup (alone)",
            "texts/s (batch 32)",
            "size MB",
            "accuracy",
            "agrees w/ PyTorch",
            "x fp32 floor",
        ],
        rows,
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
    best = t["best_speedup_alone"]["backend"]
    text = (
        f"{main}\n\n"
        f"*Alone*: each back-end in a fresh process, the plain way (a default-options ORT session, or the PyTorch "
        f"model; the tokenizer call included). *Dashboard*: `compare_backends`, as the Compare tab and "
        f"`python -m bertdemo compare` time it (each back-end in its own block, order rotated, ORT spinning as the "
        f"owner of the cores). *Before*: the old dashboard method (back-ends taking turns call by call in one "
        f"process, spinning off), against an alone round next to it. Median of {s['rounds']} side-by-side rounds.\n\n"
        f"{variants}\n\n"
        f"ORT variants against each other (one process, blocks, order rotated, spinning on). onnx-int8 is built "
        f"from the O2 graph (`export.quantize_fused_graph`); {candidate} is Optimum's quantizer on the plain "
        f"export, the alternative measured beside it, not a back-end.\n\n"
        f"{spinning}\n\n"
        f"Spinning on vs off for the same session type, in blocks; the busy core is a `while True` process, standing "
        f"in for a training job next to the app.\n\n"
        f"{served}\n\n"
        f"Served /predict = `service.predict` (run lookup, cached predictor, tokenization as trained, softmax, labels) "
        f"against the bare tokenizer call + `session.run` on the same session, taking turns call by call.\n\n"
        f"Targets: dashboard within {t['dashboard_over_alone']['target']}x of alone for every back-end (worst "
        f"{t['dashboard_over_alone']['worst_backend']} {t['dashboard_over_alone']['measured']:.2f}x: "
        f"{_met(t['dashboard_over_alone'])}); best variant ({best}) {t['best_speedup_alone']['measured']:.2f}x "
        f"PyTorch eager alone (target >= {t['best_speedup_alone']['target']}x: {_met(t['best_speedup_alone'])}); "
        f"served int8 {t['served_over_bare_int8']['measured']:.3f}x bare (target <= "
        f"{t['served_over_bare_int8']['target']}x: {_met(t['served_over_bare_int8'])}); int8 accuracy "
        f"{abs(t['int8_accuracy_drop']['measured']) * 100:.2f} points "
        f"{'below' if t['int8_accuracy_drop']['measured'] >= 0 else 'above'} fp32 (at most 1 below: "
        f"{_met(t['int8_accuracy_drop'])}); fp32 agreement {t['fp32_agreement']['measured']:.2%} "
        f"({_met(t['fp32_agreement'])}). The best variant is "
        f"{honest[best]['alone_p50_ms'] / floor['latency_ms']:.1f}x the fp32 FLOPs floor.\n\n"
        f"Measured by `python bench/infer_bench.py{' --quick' if quick else ''}` on run `{res['run']}` "
        f"({res['base_model']}), accuracy on {res['dev']['texts']} texts of {res['dev']['source']}, on "
        f"{m['cpu']} ({cpu['physical_cores']} cores, {cpu['simd']}, VNNI: {'yes' if cpu['vnni'] else 'no'}; GPU: "
        f"{m['gpu'] or 'none'}); 1-minute load average {load['before']:.1f} before and {load['after']:.1f} after "
        f"(above ~{cpu['logical_cpus']}, other processes shared the cores); {s['latency_texts']} texts x "
        f"{s['repeats']} rounds at batch 1 after {s['warmup']} warm-up calls, {s['thr_texts']} texts at batch 32. "
        f"fp32 floor: {floor['latency_ms']:.3f} ms at {floor['latency_tokens_p50']:.0f} tokens "
        f"({floor['assumption']}; peak {floor['cpu']['peak_gflops']} GFLOP/s)."
    )
    return text
