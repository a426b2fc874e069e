"""bench/fewshot_variants.py (paired differences, the benchmark's seeds refused) and fewshot_bench.py's seeds."""

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


def test_the_benchmark_plans_more_seeds_for_the_smallest_cells():
    from bench.fewshot_bench import plan

    todo = plan(["sst2", "sms_spam"], [64, 8], None, done={("sst2", 8, 0)})
    assert len(todo) == 2 * (10 + 3) - 1
    assert todo[:3] == [("sms_spam", 8, 0), ("sst2", 64, 0), ("sms_spam", 64, 0)]  # seed-major, small sizes first
    assert {seed for _, n, seed in todo if n == 8} == set(range(10))
    assert {seed for _, n, seed in todo if n == 64} == {0, 1, 2}
    assert plan(["sst2"], [8, 64], [3, 4], set()) == [("sst2", 8, 3), ("sst2", 64, 3), ("sst2", 8, 4), ("sst2", 64, 4)]
