"""Which texts a run trained on: a file labeled with the run may hold them, and their scores flatter the model.

The run's audit.json lists every row of its split with its text and its side ("train" or "validation").
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from bertdemo.data.labeled import clip_text
from bertdemo.runs import store

log = logging.getLogger(__name__)


def text_key(text: str) -> str:
    """A text as training kept it (stripped, a long one cut like training cuts it), spaces collapsed."""
    return " ".join(clip_text(text.strip()).split())


def training_texts(run_path: Path) -> frozenset[str] | None:
    """Keys (text_key) of the texts the run trained on; None for a run saved without its audit.json."""
    file = Path(run_path) / store.AUDIT_JSON
    if not file.is_file():
        return None
    try:
        rows = json.loads(file.read_text(encoding="utf-8"))["rows"]
    except (OSError, ValueError, KeyError) as exc:  # a damaged file: say nothing rather than something wrong
        log.warning("cannot read %s: %s", file, exc)
        return None
    return frozenset(text_key(str(r.get("text") or "")) for r in rows if r.get("split") == "train")
