"""Training from the app: the data report, settings, starting, polling and stopping a job (plain values, no gradio)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bertdemo import config, settings
from bertdemo.errors import BertDemoError
from bertdemo.jobs.runner import JobRunner
from bertdemo.service.common import is_blank, need_file
from bertdemo.training.pipeline import TrainRequest


def inspect(
    csv_path: str | Path | None,
    text_column: str | None = None,
    label_column: str | None = None,
    max_rows: int | None = config.DEFAULT_MAX_ROWS,
) -> dict[str, Any]:
    """The data report of a CSV (columns, classes, dropped rows, warnings, preview, token lengths)."""
    from bertdemo.tokenizing import bundled_tokenizer
    from bertdemo.training.inspection import inspect_csv

    path = need_file(csv_path)
    return inspect_csv(
        path,
        None if is_blank(text_column) else text_column,
        None if is_blank(label_column) else label_column,
        max_rows,
        tokenizer=bundled_tokenizer,  # loaded only once the file is read: a bad file is refused at once
    )


def file_columns(csv_path: str | Path | None) -> list[str]:
    """The column names of a CSV, or [] when it cannot be read as a table at all."""
    from bertdemo.data.csvread import read_table

    if is_blank(csv_path) or not Path(str(csv_path)).is_file():
        return []
    try:
        return list(read_table(csv_path).columns)
    except BertDemoError:
        return []


def detected_columns(
    csv_path: str | Path | None, text_column: str | None = None, label_column: str | None = None
) -> tuple[str | None, str | None]:
    """The text and label columns training would use (the picked ones, else detected); None where none is found.

    For a file the data report refuses: its column boxes still show what was used, so the message reads right.
    """
    from bertdemo.data.columns import pick_columns
    from bertdemo.data.csvread import read_table

    if is_blank(csv_path) or not Path(str(csv_path)).is_file():
        return None, None
    try:
        table = read_table(csv_path)
        ti, li = pick_columns(table, text_column or None, label_column or None, [])
    except BertDemoError:
        columns = file_columns(csv_path)
        return (text_column if text_column in columns else None, label_column if label_column in columns else None)
    return table.columns[ti], table.columns[li]


def parse_settings(values: dict[str, Any] | None) -> dict[str, Any]:
    """Read /train settings (numbers may come as strings): blank means default, 0 means auto where that exists."""
    return settings.parse_values(TrainRequest, values)


def setting_keys() -> list[str]:
    """The settings /train accepts, in schema order."""
    return [s.name for s in settings.schema(TrainRequest) if s.spec.api]


def make_request(
    csv_path: str | Path | None, values: dict[str, Any] | None, root: Path | None = None, owner: str | None = None
) -> TrainRequest:
    """A checked TrainRequest: bad settings, data or base model fail here, before any process starts."""
    from bertdemo.runs.access import owner_key
    from bertdemo.training.pipeline import prepare

    request = TrainRequest(csv_path=str(need_file(csv_path)), **parse_settings(values))
    request.name = prepare(
        request, root, visitor=True, owner=owner_key(owner)
    ).name  # a visitor's base model: never a server folder
    return request


def base_model_choices(root: Path | None = None) -> list[str]:
    """The base models the Train tab offers: the bundled default, then the folders the operator lists."""
    from bertdemo.training.basemodels import listed_folders

    return [config.DEFAULT_MODEL, *(str(folder) for folder in listed_folders(root))]


def start_training(
    runner: JobRunner,
    csv_path: str | Path | None,
    settings: dict[str, Any] | None,
    owner: str,
    drop_upload: bool = False,
) -> dict[str, Any]:
    """Start a training job (returns at once): {job_id, name, state}; BusyError while another one runs.

    drop_upload: the uploaded file is deleted when the job ends (an API upload serves one job; a page keeps its own
    to train again, and gradio's cache removes it within a day).
    """
    if is_blank(owner):  # a run owned by nobody in particular would be anybody's who names the same owner
        raise BertDemoError(
            "This page has not finished loading (it has no browser id yet): wait a moment or reload it, "
            "then press Train again."
        )
    from bertdemo.runs import access, quota

    quota.check_room(access.owner_key(owner), runner.root)  # one visitor must not fill the disk for everyone
    request = make_request(csv_path, settings, runner.root, owner)
    job_id = runner.start(request, owner, drop_upload=drop_upload)
    return {"job_id": job_id, "name": request.name, "state": "running"}


def job_status(runner: JobRunner, job_id: str, owner: str | None = None) -> dict[str, Any]:
    """Progress and outcome of a job: phase, step/total_steps, epoch, elapsed, eta, history, state, result..."""
    if is_blank(job_id):
        raise BertDemoError("No job id: start a training first (it returns the job id).")
    return runner.status(str(job_id).strip(), owner)


def stop_training(runner: JobRunner, job_id: str, owner: str | None = None, keep_best: bool = False) -> dict[str, Any]:
    """Ask a job to stop at its next step; nothing is saved, or with keep_best the best epoch so far."""
    if is_blank(job_id):
        raise BertDemoError("No job id: nothing to stop.")
    return runner.stop(str(job_id).strip(), owner, keep_best=bool(keep_best))
