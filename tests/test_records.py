"""The declared JSON records: older run.json files still load, and what we write has the declared keys."""

from __future__ import annotations

import json
import typing

from bertdemo import config
from bertdemo.runs import records, store
from bertdemo.training.monitor import TrainingMonitor
from tests.helpers import make_tiny_run


def test_a_version_1_run_json_loads_with_what_it_lacks_filled_in(models_root) -> None:
    path = make_tiny_run(models_root, "old")
    info = json.loads((path / store.RUN_JSON).read_text())
    assert "schema_version" not in info and "truncation" not in info["params"]  # as runs before the schema
    loaded = store.load_run("old", models_root)
    assert loaded["schema_version"] == config.RUN_SCHEMA_VERSION
    assert loaded["params"]["truncation"] == "head" and loaded["params"]["early_stopping_patience"] == 0
    assert loaded["params"]["max_length"] == 128 and loaded["params"]["epochs"] == 1  # recorded values are kept
    assert loaded["params"]["precision"] == loaded["device"]["precision"] == "fp32"  # a CPU run before precision
    (summary,) = store.list_runs(models_root)
    assert set(summary) == set(typing.get_type_hints(records.RunSummary))


def test_a_newer_run_json_is_read_as_it_is() -> None:
    future = {"schema_version": config.RUN_SCHEMA_VERSION + 1, "name": "x", "params": {}, "new_key": 1}
    assert records.upgrade_run(future) == future


def test_progress_snapshot_has_the_declared_keys() -> None:
    assert set(TrainingMonitor().snapshot()) == set(typing.get_type_hints(records.Progress))
