"""Fixtures shared by the tests: an isolated models folder per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def models_root(tmp_path: Path) -> Path:
    """An empty models folder for one test."""
    root = tmp_path / "models"
    root.mkdir()
    return root
