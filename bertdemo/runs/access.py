"""Who sees and deletes which saved run.

A run trained from the app belongs to the browser (its id in local storage) or API caller (the owner token
that /train returns) that trained it: only they see it, use it, export and delete it; to everyone else it does
not exist (the same answer as for a name nobody used). Runs saved from the command line or shipped with the app
have no owner: everyone sees and uses them, nobody deletes or exports them from the app.
run.json keeps a hash of the owner's secret, never the secret itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bertdemo.errors import BertDemoError, NotOwner, RunNameError, RunNotFound
from bertdemo.runs import quota, store

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
        row = {k: v for k, v in summary.items() if k not in (OWNER_FIELD, "key")}
        row["access"] = "shared" if owner is None else "yours"
        out.append(row)
    return out


def visible_names(secret: str | None, root: Path | None = None) -> list[str]:
    """Names of the runs this caller sees, newest first."""
    return [r["name"] for r in visible_runs(store.list_runs(root), secret)]


# run.json path -> ((inode, mtime_ns, size), owner): every /predict checks the owner, and a stat is much cheaper
# than reading and parsing a run.json with its history (bench/infer_bench.py's served overhead).
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
        info = json.load(fh)
    if not isinstance(info, dict):
        raise ValueError(f"{file} holds no JSON object")
    owner = info.get(OWNER_FIELD)
    if len(_OWNERS) >= _OWNERS_MAX:
        _OWNERS.clear()
    _OWNERS[file] = (key, owner)
    return owner


def _not_found(name: str, secret: str | None, root: Path | None) -> RunNotFound:
    known = ", ".join(visible_names(secret, root)[:10]) or "none yet"
    return RunNotFound(f"No saved run named {name!r} (saved runs: {known}).")


def check_visible(name: str, secret: str | None, root: Path | None = None) -> Path:
    """The run's folder if this caller may use it; else RunNotFound, worded as for a run that does not exist.

    The caller's own run of that name first (models/<name>--<owner tag>), then a shared one (models/<name>, which
    may also be the caller's own run saved before names were per visitor). Keys are never taken as names: a
    caller who knows another's folder name still finds nothing.
    """
    if store.display_name(str(name)) != str(name):
        raise _not_found(name, secret, root)
    mine = _own_run(name, owner_key(secret), root)
    if mine is not None:
        quota.touch_used(mine)  # a run in use does not expire
        return mine
    try:
        path = store.run_dir(name, root)
        owner = _owner_of(path)
    except (RunNotFound, FileNotFoundError, ValueError):  # deleted between the two reads; run.json damaged
        raise _not_found(name, secret, root) from None
    if not visible(owner, secret):  # "belongs to another user" would tell that the name is taken
        raise _not_found(name, secret, root)
    if owner is not None:
        quota.touch_used(path)
    return path


def _own_run(name: str, key: str | None, root: Path | None) -> Path | None:
    """models/<name>--<tag> when this owner has a run of exactly that name, else None."""
    if not key:
        return None
    try:
        if store.sanitize_name(name) != str(name).strip():  # exact names only, as store.run_dir
            return None
        path = store.run_dir(store.run_key(name, key), root)
        return path if _owner_of(path) == key else None
    except (RunNameError, RunNotFound, FileNotFoundError, ValueError):  # no such run; run.json damaged
        return None


def check_owned(name: str, secret: str | None, root: Path | None = None) -> Path:
    """The run's folder if this caller may change it (delete, export): only the owner; shared runs are read-only."""
    path = check_visible(name, secret, root)
    try:
        owner = _owner_of(path)
    except (FileNotFoundError, ValueError):  # deleted or damaged since the check
        raise _not_found(name, secret, root) from None
    if owner is None:
        raise NotOwner(f"Run {name!r} came with the app or was saved from the command line: it is read-only here.")
    return path


check_deletable = check_owned  # the older name


@contextmanager
def as_seen_by(name: str, secret: str | None, root: Path | None = None) -> Iterator[None]:
    """A run that vanishes after the check (deleted meanwhile) is answered with the caller's own list of runs,
    not with the store's, which names every run; other messages name the run as the caller does, not its folder."""
    try:
        yield
    except RunNotFound:
        raise _not_found(name, secret, root) from None
    except BertDemoError as exc:
        try:
            key = store.run_key(name, owner_key(secret)) if owner_key(secret) else None
        except RunNameError:
            key = None
        if key:
            exc.args = tuple(a.replace(key, str(name)) if isinstance(a, str) else a for a in exc.args)
        raise
