"""Temporary folders of a long-running server: made under one prefix, swept once nobody uses them.

A Space runs for weeks: every training job (the user's CSV copy, logs) and every run download
(a zip of up to ~270 MB) would otherwise stay in /tmp until the disk fills. Downloads are built once per run
version and reused (cached_download), and all of them share one byte budget (config.TEMP_BUDGET_MB), the oldest
dropped first.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bertdemo import config
from bertdemo.errors import OverQuota

log = logging.getLogger(__name__)

DOWNLOAD_PREFIXES = (config.ZIP_DIR_PREFIX, config.AUDIT_DIR_PREFIX, config.PREDICT_DIR_PREFIX)
# The app's own folders, the only ones the budget counts (another program's bertdemo-* folder is not the app's).
APP_PREFIXES = (config.JOB_DIR_PREFIX, *DOWNLOAD_PREFIXES)
# A download just handed out is copied by gradio into its own cache right after: not dropped for this long.
DOWNLOAD_GRACE_S = 30.0
MB = 1024 * 1024


def new_temp_dir(prefix: str, max_age_s: float = config.TEMP_MAX_AGE_S) -> Path:
    """A fresh private folder in the system temp dir, after sweeping stale ones with the same prefix (and, for a
    download, making room for it within the budget)."""
    sweep_temp_dirs(prefix, max_age_s)
    if prefix in DOWNLOAD_PREFIXES:
        make_room()
    return Path(tempfile.mkdtemp(prefix=prefix))


def temp_folders() -> list[tuple[Path, int, float, bool]]:
    """Every bertdemo folder in the system temp dir: (path, bytes, mtime, a download that may be dropped)."""
    from bertdemo.runs.quota import folder_bytes

    found = []
    for child in Path(tempfile.gettempdir()).glob("bertdemo-*"):
        if not child.name.startswith(APP_PREFIXES):
            continue
        try:
            if child.is_dir() and not child.is_symlink():
                download = child.name.startswith(DOWNLOAD_PREFIXES)
                found.append((child, folder_bytes(child), child.stat().st_mtime, download))
        except OSError:  # removed meanwhile
            continue
    return found


def temp_bytes() -> int:
    """Bytes of every bertdemo folder in the system temp dir (jobs' copies of uploads and downloads)."""
    return sum(size for _, size, _, _ in temp_folders())


def make_room(keep: Path | None = None) -> None:
    """Drop the oldest downloads until the temp folders fit config.TEMP_BUDGET_MB; OverQuota when they cannot."""
    budget = config.TEMP_BUDGET_MB * MB
    if budget <= 0:
        return
    folders = temp_folders()
    total = sum(size for _, size, _, _ in folders)
    now = time.time()
    for path, size, mtime, download in sorted(folders, key=lambda f: f[2]):
        if total <= budget:
            break
        if download and path != keep and now - mtime > DOWNLOAD_GRACE_S:
            shutil.rmtree(path, ignore_errors=True)
            total -= size
    if total > budget:
        raise OverQuota(
            f"The server's room for downloads ({config.TEMP_BUDGET_MB:,.0f} MB) is full right now: "
            "try again in a minute."
        )


def cached_download(prefix: str, version: str, filename: str, build: Callable[[Path], None]) -> Path:
    """The file `filename` built by build(path) once per `version` (a run and its files' state), then reused."""
    folder = Path(tempfile.gettempdir()) / f"{prefix}v-{hashlib.sha256(version.encode()).hexdigest()[:24]}"
    out = folder / filename
    if out.is_file():
        os.utime(folder)  # in use: the newest, the last to be dropped
        return out
    staging = new_temp_dir(prefix, config.ZIP_MAX_AGE_S)
    try:
        build(staging / filename)
        os.rename(staging, folder)  # atomic: a concurrent download sees no half file
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if out.is_file():  # another request built it meanwhile
            return out
        raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        make_room(keep=folder)
    except OverQuota:
        shutil.rmtree(folder, ignore_errors=True)  # no room even with every older download dropped
        raise
    return out


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
