"""What every service function checks first: a blank field, an uploaded file that is still there."""

from __future__ import annotations

from pathlib import Path

from bertdemo.errors import BertDemoError
from bertdemo.settings import is_blank

__all__ = ["is_blank", "need_file"]


TRAIN_FILE_MISSING = "No CSV file yet: upload one (columns text,label) or click 'Use example data'."


def need_file(csv_path: str | Path | None, missing: str = TRAIN_FILE_MISSING) -> Path:
    """The uploaded file's path; a one-line error when there is none (`missing`) or it is gone.

    `missing` names what the caller's page offers: 'Use example data' is a Train tab button only.
    """
    if is_blank(csv_path):
        raise BertDemoError(missing)
    path = Path(str(csv_path))
    if not path.is_file():
        raise BertDemoError(f"The uploaded file {path.name!r} is gone (the server restarted?): upload it again.")
    return path
