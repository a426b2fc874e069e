"""Shared by the bench scripts: write JSON + a markdown table, and splice the table into the README."""

from __future__ import annotations

import json
import os
import platform
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from bertdemo import hardware

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results"
README = BENCH_DIR.parent / "README.md"
# The shared data sets sit beside the checkout; BENCH_SHARED_DATA points elsewhere (a worktree, say).
SHARED_DATA = Path(os.environ.get("BENCH_SHARED_DATA") or BENCH_DIR.parent.parent / "shared" / "data")


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "cpu": hardware.cpu_info().name,
        "torch_threads": torch.get_num_threads(),
        "gpu": hardware.gpu_name(),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }


def head_commit(*measured: str) -> str:
    """The checked-out commit, '+changes' when the measured code (paths from the repository root) differs from it."""
    import subprocess

    git = ["git", "-C", str(Path(__file__).resolve().parents[1])]
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip() or "unknown"
    dirty = subprocess.run([*git, "status", "--porcelain", *measured], capture_output=True, text=True).stdout.strip()
    return f"{head}+changes" if dirty else head


def write(name: str, data: dict[str, Any], table: str) -> None:
    """results/<name>.json, results/<name>.md, and the README section between bench markers."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(table + "\n")
    if README.exists():
        text = README.read_text()
        start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
        if start in text and end in text:
            text = re.sub(re.escape(start) + r".*?" + re.escape(end), f"{start}\n{table}\n{end}", text, flags=re.S)
            README.write_text(text)


def md_table(header: list[str], rows: list[list[Any]]) -> str:
    """A markdown table; floats get 3 significant decimals."""

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3f}" if abs(v) < 100 else f"{v:.1f}"
        return str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def reuse_or_train(name: str, root: Path | None, make_split: Callable[[], Any], epochs: int) -> str:
    """The saved run `name`, reused when it exists, else fine-tuned once from the bundled model on make_split()."""
    from bertdemo.errors import RunNotFound
    from bertdemo.runs import store
    from bertdemo.training.hyperparameters import TrainConfig
    from bertdemo.training.trainer import train_run

    try:
        store.run_dir(name, root)
        print(f"reusing run {name}")
        return name
    except RunNotFound:
        pass
    train_run(make_split(), TrainConfig(epochs=epochs), name, root=root)
    return name
