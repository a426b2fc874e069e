"""bench/fewshot_variants.py: paired differences per seed, and the benchmark's own seeds refused."""

from __future__ import annotations

import sys

import pytest

from bench import fewshot_variants


def _cell(now: float, setfit: float, fp32: float | None = None) -> dict:
    cell = {"now": {"accuracy": now, "seconds": 3.0}, "setfit": {"accuracy": setfit, "seconds": 10.0}}
    if fp32 is not None:
        cell["fp32"] = {"accuracy": fp32, "seconds": 6.0}
    return cell


def test_render_gives_paired_means_and_standard_errors():
    data = {
        "machine": {"cpu": "test CPU"},
        "cells": {"sst2/8": {"100": _cell(0.60, 0.62, 0.61), "101": _cell(0.70, 0.66), "102": _cell(0.65, 0.65, 0.69)}},
    }
    text = fewshot_variants.render(data)
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ") for line in text.splitlines() if line.startswith("| ")}
    # now - SetFit per seed: -2, +4, 0 points: mean +0.67, sd 3.06, se 1.76
    assert rows["now"][2:] == ["3", "0.6500", "+0.67 ± 1.76", "+0.00 ± 0.00", "0.30 |"]
    # fp32 on seeds 100 and 102 only: minus SetFit -1, +4; minus now +1, +4
    assert rows["fp32"][2:] == ["2", "0.6500", "+1.50 ± 2.50", "+2.50 ± 1.50", "0.60 |"]
    assert "third-6e-5" not in rows  # never measured: no row
    assert "SetFit 0.6433" in text and "test CPU" in text


def test_the_benchmarks_seeds_are_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(fewshot_variants, "RESULTS", tmp_path)
    monkeypatch.setattr(sys, "argv", ["fewshot_variants.py", "--seeds", "2", "100"])
    with pytest.raises(SystemExit):
        fewshot_variants.main()
    assert not list(tmp_path.iterdir())  # nothing measured, nothing written
