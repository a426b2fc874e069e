"""The package's dependency rule (bertdemo/__init__.py), checked on every import statement of every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "bertdemo"
CORE = {"config", "errors", "settings", "hardware", "metrics", "tokenizing", "meanpool"}
DOMAIN = {"data", "runs", "training", "inference", "onnx", "jobs"}

# Which parts of bertdemo each part may import (besides itself and the core).
ALLOWED = {
    "core": set(),
    "data": set(),
    "runs": set(),
    "training": {"data", "runs"},
    "inference": {"data", "runs"},
    "onnx": {"data", "runs", "inference"},
    "jobs": {"training", "runs"},
    "service": DOMAIN,
    "cli": DOMAIN | {"service"},
    "ui": {"service"},
}


def _part(dotted: str) -> str:
    """bertdemo.runs.store -> runs; bertdemo.config -> core; bertdemo -> core."""
    parts = dotted.split(".")
    if len(parts) < 2 or parts[1] in CORE or parts[1] in {"__init__", "__main__"}:
        return "core"
    return parts[1]


def _imports(path: Path) -> list[str]:
    """Every bertdemo module a file imports (top level and inside functions)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "bertdemo":
            if node.module == "bertdemo":
                found += [f"bertdemo.{a.name}" for a in node.names]
            else:
                found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "bertdemo"]
    return found


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__main__.py")


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_dependency_rule(path: Path) -> None:
    here = _part("bertdemo." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts))
    wrong = [m for m in _imports(path) if _part(m) not in ALLOWED[here] | {here, "core"}]
    assert not wrong, f"{here} may import only {sorted(ALLOWED[here])} and the core; found {wrong}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_ui_imports_gradio(path: Path) -> None:
    if path.relative_to(PACKAGE).parts[0] == "ui":
        return
    text = path.read_text(encoding="utf-8")
    assert "import gradio" not in text and "from gradio" not in text


def test_no_module_lies_loose_in_the_package_but_the_core() -> None:
    loose = {p.stem for p in PACKAGE.glob("*.py")} - CORE - {"__init__", "__main__"}
    assert not loose, f"put {sorted(loose)} in a subpackage (see bertdemo/__init__.py)"


def test_the_rule_checker_sees_a_violation(tmp_path: Path) -> None:
    """The checker itself can fail: a ui module importing the store is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from bertdemo.runs import store\nfrom bertdemo import service, config\n")
    parts = {_part(m) for m in _imports(bad)}
    assert parts == {"runs", "service", "core"}
    assert not parts <= ALLOWED["ui"] | {"ui", "core"}
