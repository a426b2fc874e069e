"""Who sees and deletes which saved run.

A run trained from the app belongs to the browser (its id in local storage) or API caller (the owner token
that /train returns) that trained it: only they see it, use it and delete it. Runs saved from the command line
or shipped with the app have no owner: everyone sees and uses them, nobody deletes them from the app.
run.json keeps a hash of the owner's secret, never the secret itself.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from bertdemo.errors import NotOwner, RunNotFound
from bertdemo.runs import store

OWNER_FIELD = "owner"  # run.json key: sha256 of the owner's secret


def owner_key(secret: str | None) -> str | None:
    """What run.json stores for an owner secret (None for no owner)."""
    if secret is None or not str(secret).strip():
        return None
    return hashlib.sha256(str(secret).strip().encode("utf-8")).hexdigest()


def is_mine(owner_field: str | None, secret: str | None) -> bool:
    """True when a run's owner field was written for this secret."""
    return owner_field is not None and owner_field == owner_key(secret)


def visible(owner_field: str | None, secret: str | None) -> bool:
    """Shared runs are seen by everyone, private ones by their owner only."""
    return owner_field is None or is_mine(owner_field, secret)


def visible_runs(summaries: list[dict[str, Any]], secret: str | None) -> list[dict[str, Any]]:
    """The runs this caller sees, each with access 'yours' or 'shared' (the owner hash left out)."""
    out = []
    for summary in summaries:
        owner = summary.get(OWNER_FIELD)
        if not visible(owner, secret):
            continue
        row = {k: v for k, v in summary.items() if k != OWNER_FIELD}
        row["access"] = "shared" if owner is None else "yours"
        out.append(row)
    return out


def visible_names(secret: str | None, root: Path | None = None) -> list[str]:
    """Names of the runs this caller sees, newest first."""
    return [r["name"] for r in visible_runs(store.list_runs(root), secret)]


# run.json path -> ((inode, mtime_ns, size), owner): every /predict checks the owner, and a stat is ~20x cheaper
# than reading and parsing a run.json with its history (0.15 ms of a 5 ms int8 prediction).
_OWNERS: dict[Path, tuple[tuple[int, int, int], str | None]] = {}
_OWNERS_MAX = 1024


def _owner_of(path: Path) -> str | None:
    file = path / store.RUN_JSON
    st = file.stat()
    key = (st.st_ino, st.st_mtime_ns, st.st_size)  # a rewritten or replaced run.json changes at least one
    hit = _OWNERS.get(file)
    if hit is not None and hit[0] == key:
        return hit[1]
    with open(file, encoding="utf-8") as fh:
        owner = json.load(fh).get(OWNER_FIELD)
    if len(_OWNERS) >= _OWNERS_MAX:
        _OWNERS.clear()
    _OWNERS[file] = (key, owner)
    return owner


def _not_found(name: str, secret: str | None, root: Path | None) -> RunNotFound:
    known = ", ".join(visible_names(secret, root)[:10]) or "none yet"
    return RunNotFound(f"No saved run named {name!r} (saved runs: {known}).")


def check_visible(name: str, secret: str | None, root: Path | None = None) -> Path:
    """The run's folder if this caller may use it; else RunNotFound or NotOwner (one line)."""
    try:
        path = store.run_dir(name, root)
        owner = _owner_of(path)
    except (RunNotFound, FileNotFoundError):  # FileNotFoundError: deleted between the two reads
        raise _not_found(name, secret, root) from None
    if not visible(owner, secret):
        raise NotOwner(
            f"Run {name!r} belongs to another user: only the browser or API caller that trained it can use it."
        )
    return path


def check_deletable(name: str, secret: str | None, root: Path | None = None) -> Path:
    """The run's folder if this caller may delete it: only the owner may; shared runs are read-only here."""
    path = check_visible(name, secret, root)
    if _owner_of(path) is None:
        raise NotOwner(f"Run {name!r} came with the app or was saved from the command line: it is read-only here.")
    return path
