"""The JSON records bertdemo writes and reads, declared once: a job's status, run.json, the compare report.

TypedDicts, so the values stay plain JSON (files, API answers) while readers know the keys. run.json
carries a schema_version; `upgrade_run` fills what older runs lack, so every saved run still loads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from bertdemo import config


class EpochRecord(TypedDict, total=False):
    """One epoch of the training history."""

    epoch: float
    train_loss: float | None
    train_accuracy: float | None
    val_loss: float | None
    val_accuracy: float | None
    val_f1_macro: float | None


class Baseline(TypedDict, total=False):
    """The bag-of-words baseline on a run's split (bertdemo.training.baseline)."""

    method: str  # tfidf+logreg
    accuracy: float | None  # None when the texts hold no words to count (then `note` says why)
    f1_macro: float | None
    seconds: float
    note: str


class TrainingProgress(TypedDict):
    """A training monitor's snapshot (also a job's status file)."""

    phase: str  # starting | loading | training | evaluating | saving | done | failed | stopped
    step: int
    total_steps: int
    epoch: float
    epochs: int
    elapsed: float
    eta: float | None
    history: list[EpochRecord]
    chosen: dict[str, str]  # auto-chosen setting -> why
    baseline: Baseline | None  # known before the first epoch
    loss_trace: list[dict[str, float]]  # {step, epoch, loss} every few steps, for the live curve
    device: dict[str, Any]
    message: str
    run: str | None
    kept_epoch: int | None  # after "Stop, keep best epoch": the epoch the run will be
    quick: dict[str, Any] | None  # the quick model's run and validation scores (training.quickmodel)


class JobStatus(TrainingProgress):
    """What /status answers: the progress plus the job's identity and outcome."""

    job_id: str
    state: str  # running | done | failed | stopped
    name: str | None
    result: dict[str, Any] | None
    error: str | None
    started: float
    ended: float | None  # None while it runs


class DataAudit(TypedDict, total=False):
    """What a run found in its data (bertdemo.training.auditing); the ranked rows are in the run's audit.json."""

    available: bool  # False for runs saved before audits (schema < 4)
    duplicates: dict[str, Any]  # exact / near / conflicting-label groups, counts and examples
    leakage: dict[str, Any]  # validation rows whose text is also a training row's
    mislabeled: dict[str, Any]  # rows, suspicious, by_kind, evidence, method, seconds, train_seconds
    data_file: str | None  # the uploaded file's copy in the run folder


class RunInfo(TypedDict, total=False):
    """A saved run's run.json."""

    schema_version: int
    name: str
    created: str
    base_model: str
    base_model_source: str
    labels: list[str]
    params: dict[str, Any]  # the TrainConfig settings, as trained (auto ones filled in)
    data: dict[str, Any]
    history: list[EpochRecord]
    metrics: dict[str, Any]
    confusion_matrix: list[list[int]]
    mistakes: list[dict[str, Any]]
    train_seconds: float
    samples_per_second: float | None
    train_loss: float
    device: dict[str, Any]
    versions: dict[str, str]
    exports: dict[str, Any]
    baseline: Baseline  # from schema version 2
    owner: str  # hash of the app user who trained it (bertdemo.runs.access); absent: shared
    distributed: dict[str, int]  # processes, effective_batch_size
    stopped_early: dict[str, Any]  # stopped by the user, best epoch kept: stopped_at_step, kept_step, kept_epoch
    audit: DataAudit  # from schema version 4; older runs: {"available": False}


class RunSummary(TypedDict):
    """One row of the saved-runs table (/models)."""

    name: str
    key: str  # its folder in models/: the name, or name--<owner tag> for a visitor's run (bertdemo.runs.store)
    base_model: str | None
    labels: list[str]
    train_rows: int | None
    val_rows: int | None
    accuracy: float | None
    f1_macro: float | None
    baseline_accuracy: float | None
    owner: str | None  # hash of the app user who trained it; None: shared (CLI, shipped)
    epochs: int
    created: str | None
    exports: list[str]


class BackendResult(TypedDict, total=False):
    """One back-end's figures in a compare report."""

    p50_ms: float
    p95_ms: float
    first_call_ms: float  # the first call after COMPARE_IDLE_S without calls (median), not part of p50/p95
    throughput: float
    device: str
    speedup_p50: float
    speedup_throughput: float
    size_mb: float
    accuracy: float
    f1_macro: float
    agreement: float
    x_floor: float


class CompareReport(TypedDict):
    """What `compare` returns: answers side by side and per-back-end timings."""

    name: str
    texts: list[str]
    truncated_from: int | None
    rows: list[dict[str, Any]]
    backends: dict[str, BackendResult]
    reference: str
    settings: dict[str, Any]
    threads: dict[str, Any]
    device: str
    cpu: dict[str, Any]
    warnings: list[str]  # what may make a back-end's answers or figures wrong here (hardware.int8_fit)
    floor: dict[str, Any]


# Settings a version-1 run.json (before schema_version) was trained with but did not record.
_V1_PARAMS = {"truncation": "head", "early_stopping_patience": 0, "max_length": config.DEFAULT_MAX_LENGTH}


def upgrade_run(info: dict[str, Any]) -> RunInfo:
    """A run.json of any version as the current RunInfo (missing keys filled in; the file is not rewritten)."""
    version = int(info.get("schema_version") or 1)
    if version > config.RUN_SCHEMA_VERSION:
        return info  # type: ignore[return-value] - written by a newer bertdemo: read what we know
    out = dict(info)
    if version < 2:
        params = dict(out.get("params") or {})
        for key, value in _V1_PARAMS.items():
            if params.get(key) is None:
                params[key] = value
        out["params"] = params
    if version < 3:
        # Before the precision setting: GPUs trained in bf16/fp16 as device_info said, CPUs in fp32.
        device = dict(out.get("device") or {})
        precision = "bf16" if device.get("bf16") else "fp16" if device.get("fp16") else "fp32"
        device.setdefault("precision", precision)
        out["device"] = device
        params = dict(out.get("params") or {})
        params.setdefault("precision", precision)
        out["params"] = params
    if version < 4:
        out.setdefault("audit", {"available": False})
    out.setdefault("history", [])
    out.setdefault("labels", [])
    out.setdefault("metrics", {})
    out.setdefault("data", {})
    out["schema_version"] = config.RUN_SCHEMA_VERSION
    return out  # type: ignore[return-value]


@dataclass(frozen=True)
class RunSettings:
    """How a saved run reads a text and names its classes: predictors, explanations, export checks and the
    model card all take these from here, so a run is always used as it was trained."""

    max_length: int
    truncation: str  # head | head_tail
    labels: tuple[str, ...]  # class names in the model's output order
    text_column: str | None  # the columns it was trained on (batch prediction prefers them)
    label_column: str | None


def settings_of(info: dict[str, Any]) -> RunSettings:
    """The RunSettings of a run.json's contents, of any schema version."""
    info = upgrade_run(info)
    params, data = info["params"], info["data"]
    return RunSettings(
        max_length=int(params.get("max_length") or config.DEFAULT_MAX_LENGTH),
        truncation=str(params.get("truncation") or config.DEFAULT_TRUNCATION),
        labels=tuple(str(x) for x in info.get("labels") or []),
        text_column=data.get("text_column"),
        label_column=data.get("label_column"),
    )


def read_settings(run_path: str | Path) -> RunSettings:
    """The RunSettings of a saved run's folder; labels from config.json's id2label when run.json has none."""
    from bertdemo.runs.store import RUN_JSON

    run_path = Path(run_path)
    settings = settings_of(json.loads((run_path / RUN_JSON).read_text(encoding="utf-8")))
    if settings.labels:
        return settings
    id2label = json.loads((run_path / "config.json").read_text(encoding="utf-8")).get("id2label") or {}
    labels = tuple(str(id2label[k]) for k in sorted(id2label, key=int))
    return RunSettings(settings.max_length, settings.truncation, labels, settings.text_column, settings.label_column)
