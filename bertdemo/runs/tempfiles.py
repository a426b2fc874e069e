"""Temporary folders of a long-running server: made under one prefix, swept once nobody uses them.

A Space runs for weeks: every training job (the user's CSV copy, logs) and every run download
(a zip of up to ~100 MB) would otherwise stay in /tmp until the disk fills.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path

from bertdemo import config

log = logging.getLogger(__name__)


def new_temp_dir(prefix: str, max_age_s: float = config.TEMP_MAX_AGE_S) -> Path:
    """A fresh private folder in the system temp dir, after sweeping stale ones with the same prefix."""
    sweep_temp_dirs(prefix, max_age_s)
    return Path(tempfile.mkdtemp(prefix=prefix))


def sweep_temp_dirs(prefix: str, max_age_s: float = config.TEMP_MAX_AGE_S) -> list[str]:
    """Remove `<tmp>/<prefix>*` folders not modified for max_age_s; returns their names.

    A running job rewrites its status file on every step, which touches its folder, so only
    folders nobody has written to for that long go: a job of a server that was killed, or an old download.
    """
    removed = []
    now = time.time()
    for child in Path(tempfile.gettempdir()).glob(f"{prefix}*"):
        try:
            if child.is_dir() and not child.is_symlink() and now - child.stat().st_mtime > max_age_s:
                shutil.rmtree(child, ignore_errors=True)
                removed.append(child.name)
        except OSError:  # removed meanwhile by another process
            continue
    if removed:
        log.info("swept %d stale temporary folder(s) %s*", len(removed), prefix)
    return removed
