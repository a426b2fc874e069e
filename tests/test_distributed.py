"""Training in two processes on a CPU (gloo), through the standard launchers: one run, every process exits 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, tiny_rows
from tests.helpers import write_csv

BIN = Path(sys.executable).parent
SETTINGS = ["--epochs", "3", "--max-length", "64", "--seed", "3"]


def _train(launcher: list[str], root: Path, csv: Path, model: Path, name: str, batch: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TRANSFORMERS_VERBOSITY": "error"}
    cmd = [*launcher, "-m", "bertdemo", "--models-dir", str(root), "train", str(csv), "--model", str(model)]
    cmd += ["--name", name, "--batch-size", str(batch), *SETTINGS, "--json"]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    outputs = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(outputs) == 1, f"only the main process prints: {done.stdout[-2000:]}"
    return json.loads(outputs[0])


@pytest.fixture(scope="module")
def setup(tmp_path_factory, tiny_model_dir):
    base = tmp_path_factory.mktemp("ddp")
    csv = write_csv(base / "small.csv", tiny_rows(40))
    single_root = base / "single"
    single_root.mkdir()
    single = _train([sys.executable], single_root, csv, tiny_model_dir, "single", batch=8)
    return base, csv, single


def _check_one_run(root: Path, name: str, result: dict, single: dict) -> None:
    assert sorted(p.name for p in root.iterdir()) == [name], "exactly one run, no staging folder left"
    info = json.loads((root / name / "run.json").read_text())
    assert info["distributed"] == {"processes": 2, "effective_batch_size": 8}
    assert result["distributed"] == info["distributed"]
    # Same effective batch (2 x 4 vs 1 x 8), same epochs: the same number of optimizer steps and close scores.
    assert info["history"][-1]["step"] == single["history"][-1]["step"]
    assert abs(info["metrics"]["accuracy"] - single["metrics"]["accuracy"]) <= 0.15
    assert info["history"][-1]["val_loss"] == pytest.approx(single["history"][-1]["val_loss"], rel=0.1)


def test_torchrun_two_processes_save_one_run(setup, tiny_model_dir) -> None:
    base, csv, single = setup
    root = base / "torchrun"
    root.mkdir()
    result = _train([str(BIN / "torchrun"), "--nproc_per_node", "2"], root, csv, tiny_model_dir, "ddp", batch=4)
    _check_one_run(root, "ddp", result, single)


def test_accelerate_launch_two_cpu_processes_save_one_run(setup, tiny_model_dir) -> None:
    base, csv, single = setup
    root = base / "accelerate"
    root.mkdir()
    # accelerate's MULTI_CPU type needs MPI on one machine (else it starts one process); MULTI_GPU goes through
    # torchrun's launcher, and on a box without CUDA the Trainer then runs DDP on the CPU (gloo).
    config = base / "accelerate.yaml"
    config.write_text(
        "compute_environment: LOCAL_MACHINE\ndistributed_type: MULTI_GPU\nnum_machines: 1\nnum_processes: 2\n"
        "machine_rank: 0\nmixed_precision: 'no'\nuse_cpu: true\nmain_training_function: main\n"
    )
    launcher = [str(BIN / "accelerate"), "launch", "--config_file", str(config)]
    result = _train(launcher, root, csv, tiny_model_dir, "acc", batch=4)
    _check_one_run(root, "acc", result, single)
