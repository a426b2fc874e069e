"""How much of the disk visitors' runs may take: runs and bytes per visitor, all visitors together, and expiry.

A public Space has one disk and no operator watching: without these, one visitor looping train + export fills it
for everyone. Runs without an owner (the command line's, the shipped ones) count for nobody and never expire.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from bertdemo import config
from bertdemo.errors import OverQuota
from bertdemo.runs import store

log = logging.getLogger(__name__)

MB = 1024 * 1024


def folder_bytes(path: Path) -> int:
    """Bytes of the files under path (0 when it vanished meanwhile)."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:  # removed meanwhile
                continue
    return total


def visitor_runs(root: Path | None = None) -> list[dict[str, Any]]:
    """Every visitor's run: key, name, owner (hash), bytes, last_used (the folder's mtime), oldest use first."""
    base = store.models_dir(root)
    runs = []
    for summary in store.list_runs(root):
        if summary.get("owner") is None:
            continue
        path = base / summary["key"]
        try:
            used = path.stat().st_mtime
        except OSError:  # deleted meanwhile
            continue
        runs.append({**summary, "bytes": folder_bytes(path), "last_used": used})
    return sorted(runs, key=lambda r: r["last_used"])


def touch_used(path: Path) -> None:
    """Record that a visitor's run was used now (its folder's mtime), at most once per config.RUN_TOUCH_EVERY_S."""
    try:
        if time.time() - path.stat().st_mtime > config.RUN_TOUCH_EVERY_S:
            os.utime(path)
    except OSError:  # deleted meanwhile, or a read-only models folder
        pass


def expire_runs(root: Path | None = None, max_age_days: float | None = None) -> list[str]:
    """Delete visitors' runs nobody used for max_age_days (config.RUN_EXPIRY_DAYS; 0: never); returns their keys."""
    days = config.RUN_EXPIRY_DAYS if max_age_days is None else max_age_days
    if not days or days <= 0:
        return []
    cutoff = time.time() - days * 86400
    expired = []
    for run in visitor_runs(root):
        if run["last_used"] >= cutoff:
            break  # oldest first: the rest were used more recently
        try:
            store.delete_run(run["key"], root)
        except Exception as exc:  # noqa: BLE001 - one damaged run must not stop the sweep
            log.warning("could not expire run %s: %s", run["key"], exc)
            continue
        expired.append(run["key"])
    if expired:
        log.info("expired %d visitor run(s) unused for %g days", len(expired), days)
    return expired


def check_room(owner: str | None, root: Path | None = None, new_run: bool = True) -> None:
    """Raise OverQuota when this visitor (an owner hash) may not add a run (or, new_run=False, grow one by exporting).

    Expired runs go first, so a visitor over the limit only because of old runs is not refused.
    """
    expire_runs(root)
    runs = visitor_runs(root)
    mine = sorted((r for r in runs if r["owner"] == owner), key=lambda r: r.get("created") or "")
    names = ", ".join(f"{r['name']} ({r['bytes'] / MB:,.0f} MB)" for r in mine[:5])
    used = sum(r["bytes"] for r in mine)
    if new_run and config.VISITOR_MAX_RUNS > 0 and len(mine) >= config.VISITOR_MAX_RUNS:
        raise OverQuota(
            f"You have {len(mine)} saved runs, the most one visitor may keep here ({config.VISITOR_MAX_RUNS}): "
            f"delete one on the Models tab (or /delete) first. Yours, oldest first: {names}."
        )
    if config.VISITOR_MAX_MB > 0 and used > config.VISITOR_MAX_MB * MB:
        raise OverQuota(
            f"Your runs use {used / MB:,.0f} MB, over the {config.VISITOR_MAX_MB:,.0f} MB one visitor may keep "
            f"here: delete a run on the Models tab (or /delete) first. Yours, oldest first: {names}."
        )
    everyone = sum(r["bytes"] for r in runs)
    if config.VISITORS_MAX_MB > 0 and everyone > config.VISITORS_MAX_MB * MB:
        raise OverQuota(
            f"Visitors' runs fill the {config.VISITORS_MAX_MB:,.0f} MB this Space keeps for them: try again later "
            f"(runs unused for {config.RUN_EXPIRY_DAYS:g} days are deleted)"
            + (f", or delete one of yours: {names}." if mine else ".")
        )
