"""The Models tab's words: what a run's zip holds, and what the model-alone zip leaves out. No gradio."""

from __future__ import annotations

import html


def _mb(size: int) -> str:
    mb = size / 1e6
    return f"{mb:.1f} MB" if mb < 10 else f"{mb:.0f} MB"


def contents_markdown(parts: list[tuple[str, int, bool]]) -> str:
    """'The whole-run zip (257 MB) holds: ...; the model alone (91 MB): ...' ('' without a run).

    parts: (what, bytes, in the model-alone zip), as service.run_contents lists them.
    """
    if not parts:
        return ""
    total = sum(size for _, size, _ in parts)
    model = sum(size for _, size, alone in parts if alone)
    listed = "; ".join(f"{html.escape(what)} {_mb(size)}" for what, size, _ in parts)
    extra = [html.escape(what) for what, _, alone in parts if not alone]
    left_out = f" It leaves out {', '.join(extra)}." if extra else ""
    onnx = any(what.startswith("ONNX") for what, _, _ in parts)
    one_variant = " One ONNX variant alone (with its config and tokenizer) is on the **Export** tab." if onnx else ""
    return (
        f"**Download as zip** gives the whole run folder ({_mb(total)}): {listed}.\n\n"
        f"**Download the model alone** ({_mb(model)}) holds what loads it with transformers' `from_pretrained`: "
        f"the weights, config, tokenizer, run.json and the model card.{left_out}{one_variant}"
    )
