"""What every service function checks first: a blank field, an uploaded file that is still there."""

from __future__ import annotations

from pathlib import Path

from bertdemo.errors import BertDemoError
from bertdemo.settings import is_blank

__all__ = ["is_blank", "need_file"]


def need_file(csv_path: str | Path | None) -> Path:
    """The uploaded file's path, or a one-line error when there is none or it is gone."""
    if is_blank(csv_path):
        raise BertDemoError("No CSV file yet: upload one (columns text,label) or click 'Use example data'.")
    path = Path(str(csv_path))
    if not path.is_file():
        raise BertDemoError(f"The uploaded file {path.name!r} is gone (the server restarted?): upload it again.")
    return path
