"""What the web app does, as plain functions: JSON-able values in and out, no gradio.

The UI tabs and the named API endpoints both call these (`from bertdemo import service`), so tests and scripts
can use them without a browser. Errors are BertDemoError with a one-line message; the UI edge turns them into
gr.Error. Each function checks the caller's right to the run it names (bertdemo.runs.access).
"""

from bertdemo.jobs.runner import JobRunner
from bertdemo.runs.quota import expire_runs
from bertdemo.runs.store import default_run_name, sweep_staging
from bertdemo.service.audit import AUDIT_KINDS, audit, audit_csv
from bertdemo.service.common import is_blank, need_file
from bertdemo.service.exports import compare, export, split_texts
from bertdemo.service.predict import (
    FilePrediction,
    backends,
    csv_columns,
    explain,
    label_values,
    predict,
    predict_file,
    run_exports,
)
from bertdemo.service.runs import (
    delete_model,
    list_models,
    load_run,
    run_contents,
    run_names,
    zip_model,
    zip_onnx,
    zip_run,
)
from bertdemo.service.training import (
    TrainRequest,
    base_model_choices,
    detected_columns,
    file_columns,
    inspect,
    job_status,
    make_request,
    parse_settings,
    setting_keys,
    start_training,
    stop_training,
)
from bertdemo.training.baseline import verdict
from bertdemo.training.basemodels import keep_operator_token_from_visitors
from bertdemo.training.hyperparameters import training_settings

__all__ = [
    "AUDIT_KINDS",
    "FilePrediction",
    "JobRunner",
    "audit",
    "audit_csv",
    "TrainRequest",
    "default_run_name",
    "expire_runs",
    "sweep_staging",
    "backends",
    "base_model_choices",
    "compare",
    "csv_columns",
    "delete_model",
    "detected_columns",
    "explain",
    "export",
    "file_columns",
    "inspect",
    "is_blank",
    "keep_operator_token_from_visitors",
    "label_values",
    "job_status",
    "list_models",
    "load_run",
    "make_request",
    "need_file",
    "parse_settings",
    "predict",
    "predict_file",
    "run_contents",
    "run_exports",
    "run_names",
    "setting_keys",
    "split_texts",
    "start_training",
    "stop_training",
    "training_settings",
    "verdict",
    "zip_model",
    "zip_onnx",
    "zip_run",
]
