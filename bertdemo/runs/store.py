"""Saved runs in models/: safe names, atomic writes, list, load, delete, zip."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from bertdemo import config
from bertdemo.errors import RunNameError, RunNotFound, TrainingError, first_line
from bertdemo.runs import tempfiles
from bertdemo.runs.records import RunInfo, RunSummary, upgrade_run

log = logging.getLogger(__name__)

try:  # POSIX: run.json updates from other processes (a CLI export beside the app) wait their turn too
    import fcntl
except ImportError:  # pragma: no cover - Windows: this process's threads only
    fcntl = None

RUN_JSON = "run.json"
VALIDATION_CSV = "validation.csv"
AUDIT_JSON = "audit.json"  # every row ranked by how wrong its label looks (bertdemo.training.auditing)
UPLOADED_CSV = "uploaded.csv"  # the training file as uploaded (+ ".gz" when it was compressed)
MAX_NAME_LEN = 64
_NAME_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def models_dir(root: Path | None = None) -> Path:
    """The models folder (created on first use)."""
    path = Path(root) if root is not None else config.MODELS_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def sanitize_name(name: str) -> str:
    """Turn a user's run name into a safe folder name, or raise RunNameError.

    Look-alike unicode is folded to ASCII (NFKD), separators and dots that could
    climb out of models/ become '-', so '../x' and '/etc/passwd' stay inside.
    """
    if name is None or not str(name).strip():
        raise RunNameError("Run name is empty: type a name such as 'my-reviews'.")
    raw = str(name)
    if "\x00" in raw:
        raise RunNameError("Run name contains a NUL character: use letters, digits, '-', '_' or '.'.")
    folded = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", folded.strip())
    cleaned = re.sub(r"\.{2,}", "-", cleaned)
    cleaned = re.sub(r"-{2,}", "-", cleaned).strip("-._")
    if not cleaned:
        raise RunNameError(f"Run name {raw[:40]!r} has no usable characters: use letters, digits, '-', '_' or '.'.")
    if len(cleaned) > MAX_NAME_LEN:
        raise RunNameError(f"Run name is {len(cleaned)} characters long: keep it to {MAX_NAME_LEN} or fewer.")
    if not _NAME_OK.match(cleaned):  # pragma: no cover - the substitutions above guarantee it
        raise RunNameError(f"Run name {raw[:40]!r} is not allowed.")
    return cleaned


def default_run_name(base_model: str) -> str:
    """A readable unique default such as 'all-MiniLM-L6-v2-20261122-143005'."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(str(base_model).rstrip("/\\")).name or "run").strip("-._")
    return sanitize_name(f"{stem[:40] or 'run'}-{time.strftime('%Y%m%d-%H%M%S')}")


@lru_cache(maxsize=64)
def _resolved(folder: str) -> Path:
    """A models folder's real path (cached: run_dir is on every served request's path, and realpath costs a stat
    per path component)."""
    return Path(folder).resolve()


# Run names are per visitor: two visitors may both own "my-run", and a name tells nothing about anyone else's runs.
# A visitor's run lives in models/<name>, or in models/<name>--<owner tag> when that folder is taken (commit_run).
# sanitize_name folds "--" to "-", so no name typed by anyone (or saved from the command line) spells such a key.
OWNER_TAG_SEP = "--"
OWNER_TAG_LEN = 16
_KEY = re.compile(rf"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*){OWNER_TAG_SEP}(?P<tag>[0-9a-f]{{{OWNER_TAG_LEN}}})$")


def run_key(name: str, owner: str | None = None) -> str:
    """The folder of run `name`: the name itself for a shared run, name--<tag> for a run of owner (a hash)."""
    clean = sanitize_name(name)
    return f"{clean}{OWNER_TAG_SEP}{owner[:OWNER_TAG_LEN]}" if owner else clean


def display_name(key: str) -> str:
    """The name a run folder shows to its owner (its key without the owner tag)."""
    found = _KEY.match(key)
    return found["name"] if found else key


def run_dir(name: str, root: Path | None = None) -> Path:
    """Path of an existing run (by name, or by key: name--<owner tag>), guaranteed to lie inside models/."""
    base = _resolved(str(root if root is not None else config.MODELS_DIR))
    key = _KEY.match(str(name))
    clean = sanitize_name(key["name"]) + name[key.end("name") :] if key else sanitize_name(name)
    path = base / clean  # clean has no separators and no '..': only a symlink could lead elsewhere
    if path.is_symlink():
        path = path.resolve()
        if path.parent != base:
            raise RunNameError(f"Run name {name!r} points outside {base}.")
    # Exact names only: folding is for new names, a lookup of '../x' or 'ẗiny' must not reach 'x' or 'tiny'
    # (deleting a look-alike would remove someone else's run).
    if clean != str(name).strip() or not (path / RUN_JSON).is_file():
        raise _not_found(name, root)
    return path


def _not_found(name: str, root: Path | None) -> RunNotFound:
    known = ", ".join(r["name"] for r in list_runs(root)[:10]) or "none yet"
    return RunNotFound(f"No saved run named {name!r} (saved runs: {known}).")


def check_new_name(name: str, root: Path | None = None, owner: str | None = None) -> str:
    """Sanitize a name for a new run and refuse one that is taken (no silent overwrite); returns the clean name.

    With an owner (a hash): taken means among that owner's runs or the shared ones; another visitor's runs
    never count, so the answer tells nothing about them.
    """
    clean = sanitize_name(name)
    base = models_dir(root)
    if owner and (base / run_key(clean, owner)).exists():
        raise RunNameError(
            f"A run named {clean!r} already exists among your runs: choose another name or delete it first."
        )
    if (base / clean).exists() and (not owner or _owner_field(base / clean) in (None, owner)):
        raise RunNameError(f"A run named {clean!r} already exists: choose another name or delete it first.")
    return clean


def _owner_field(path: Path) -> str | None:
    """The owner hash in a run folder's run.json (None: shared; a folder without a readable one counts as shared)."""
    try:
        with open(path / RUN_JSON, encoding="utf-8") as fh:
            info = json.load(fh)
    except (OSError, ValueError):
        return None
    return info.get("owner") if isinstance(info, dict) else None


def staging_dir(root: Path | None = None) -> Path:
    """A fresh temporary folder inside models/ (same filesystem, so the final rename is atomic)."""
    return Path(tempfile.mkdtemp(prefix=f"{config.TMP_PREFIX}{os.getpid()}-", dir=models_dir(root)))


def commit_run(staging: Path, name: str, root: Path | None = None, owner: str | None = None) -> Path:
    """Move a complete staging folder into place as models/<name>.

    An owner's run (owner: a hash) takes models/<name> when that folder is free, else models/<name>--<tag>: another
    visitor's run of the same name changes where it is saved, never what its owner is told.
    os.rename on a directory fails if the target exists, so two runs racing for one
    name never mix files: the loser gets a RunNameError and its staging is removed.
    """
    base = models_dir(root)
    targets = [base / sanitize_name(name)] + ([base / run_key(name, owner)] if owner else [])
    for target in targets:
        try:
            os.rename(staging, target)
        except OSError as exc:
            if target.exists() and target != targets[-1]:
                continue  # another visitor's run has that folder: this owner's goes to its own
            shutil.rmtree(staging, ignore_errors=True)
            if target.exists():
                raise RunNameError(
                    f"A run named {display_name(target.name)!r} already exists: choose another name."
                ) from exc
            raise
        _fsync_dir(target.parent)
        return target
    raise AssertionError("unreachable")  # pragma: no cover


def write_failure(exc: BaseException) -> str | None:
    """The OS reason when exc is a failed write of model weights, else None.

    safetensors reports a full disk or a file-size limit as its own SafetensorError
    ("Error while serializing: I/O error: No space left on device (os error 28)"), not as OSError.
    """
    text = str(exc)
    if type(exc).__name__ != "SafetensorError" or "serializ" not in text:
        return None
    return text.split("I/O error:", 1)[-1].strip() or text


def write_error(folder: Path, reason: str) -> TrainingError:
    """The one-line error for a model that could not be written to folder (the models folder)."""
    return TrainingError(
        f"Could not write the model to {folder} ({reason}): "
        "check free disk space and that the models folder is writable."
    )


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON through a temp file + os.replace: readers never see half a file."""
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, default=_json_default))


def write_text_atomic(path: Path, text: str) -> None:
    """Write a file of a live run through a temp file + os.replace: a reader (a download zipping the run)
    gets the old file or the new one, whole, never a truncated one."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def load_run(name: str, root: Path | None = None) -> RunInfo:
    """The run.json of a saved run, upgraded to the current schema (older runs still load)."""
    path = run_dir(name, root) / RUN_JSON
    try:
        with open(path, encoding="utf-8") as fh:
            info = json.load(fh)
    except FileNotFoundError:  # deleted since run_dir looked
        raise _not_found(name, root) from None
    except ValueError as exc:
        raise RunNotFound(
            f"Run {name!r} has a damaged {RUN_JSON} ({first_line(exc)}): restore the file or delete the run."
        ) from None
    if not isinstance(info, dict):
        raise RunNotFound(f"Run {name!r} has a damaged {RUN_JSON} (not a JSON object): restore it or delete the run.")
    return upgrade_run(info)


_update_lock = threading.Lock()


@contextmanager
def run_lock(path: Path) -> Iterator[None]:
    """Hold one run folder for a read-modify-write of its files (threads here, and other processes on POSIX)."""
    with _update_lock:
        fd = os.open(path, os.O_RDONLY)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd closes
            yield
        finally:
            os.close(fd)


def update_run(name: str, patch: dict[str, Any], root: Path | None = None) -> RunInfo:
    """Merge top-level keys into a run's run.json, atomically, under the run's lock (no update is lost)."""
    path = run_dir(name, root)
    try:
        with run_lock(path):
            info = load_run(name, root)
            info.update(patch)
            write_json_atomic(path / RUN_JSON, info)
    except FileNotFoundError:  # deleted meanwhile
        raise _not_found(name, root) from None
    return info


def list_runs(root: Path | None = None) -> list[RunSummary]:
    """Summaries of complete runs, newest first; unreadable folders are skipped with a log line."""
    runs = []
    base = models_dir(root)
    for child in base.iterdir():
        if child.name.startswith(".") or not (child / RUN_JSON).is_file():
            continue
        try:
            with open(child / RUN_JSON, encoding="utf-8") as fh:
                info = json.load(fh)
        except (OSError, ValueError) as exc:
            log.warning("skipping %s: unreadable run.json (%s)", child, exc)
            continue
        runs.append(summarize_run(child.name, upgrade_run(info)))
    runs.sort(key=lambda r: r.get("created") or "", reverse=True)
    return runs


def summarize_run(key: str, info: RunInfo) -> RunSummary:
    """One row of the models table: name as its owner sees it, key its folder."""
    metrics = info.get("metrics") or {}
    data = info.get("data") or {}
    return {
        "name": display_name(key),
        "key": key,
        "base_model": info.get("base_model"),
        "labels": info.get("labels", []),
        "train_rows": data.get("train_rows"),
        "val_rows": data.get("val_rows"),
        "accuracy": metrics.get("accuracy"),
        "f1_macro": metrics.get("f1_macro"),
        "baseline_accuracy": (info.get("baseline") or {}).get("accuracy"),  # older runs have none
        "epochs": len(info.get("history") or []),
        "created": info.get("created"),
        "exports": sorted((info.get("exports") or {}).get("variants", {}).keys()),
        "owner": info.get("owner"),  # hash of the owner's secret; None: shared (bertdemo.runs.access)
    }


def delete_run(name: str, root: Path | None = None) -> None:
    """Remove a run: renamed away first, so it vanishes from lists at once, then deleted."""
    path = run_dir(name, root)
    trash = path.with_name(f"{config.TMP_PREFIX}deleted-{path.name}-{os.getpid()}-{time.time_ns()}")
    try:
        os.rename(path, trash)
    except FileNotFoundError:  # another delete of the same run won the race
        raise _not_found(name, root) from None
    shutil.rmtree(trash, ignore_errors=True)


def zip_run(name: str, dest_dir: Path | None = None, root: Path | None = None) -> Path:
    """A zip of the whole run folder, for download: built once per state of the run's files, then reused."""
    path = run_dir(name, root)
    stem = display_name(path.name)

    def build(out: Path) -> Path:
        return Path(shutil.make_archive(str(out.with_suffix("")), "zip", root_dir=path.parent, base_dir=path.name))

    if dest_dir:
        return build(Path(dest_dir) / f"{stem}.zip")
    files = sorted(p for p in path.rglob("*") if p.is_file())
    stamps = [(str(p.relative_to(path)), p.stat().st_mtime_ns, p.stat().st_size) for p in files]
    return tempfiles.cached_download(config.ZIP_DIR_PREFIX, f"run:{path}:{stamps}", f"{stem}.zip", build)


def sweep_staging(root: Path | None = None) -> list[str]:
    """Remove staging folders left by a crashed or killed process; returns their names.

    A folder is swept only if the pid in its name is not alive: a live training in
    another process keeps its staging folder.
    """
    removed = []
    for child in models_dir(root).iterdir():
        if not (child.is_dir() and child.name.startswith(config.TMP_PREFIX)):
            continue
        pid = _pid_of(child.name)
        if pid is not None and pid != os.getpid() and _alive(pid):
            continue
        if pid == os.getpid():
            continue
        shutil.rmtree(child, ignore_errors=True)
        removed.append(child.name)
    if removed:
        log.info("swept %d stale staging folder(s): %s", len(removed), ", ".join(removed))
    return removed


def _pid_of(folder: str) -> int | None:
    rest = folder[len(config.TMP_PREFIX) :]
    head = rest.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process
        return True
    # A killed job that nobody reaped yet (its parent died too; a container's pid 1 may never reap)
    # is a zombie: os.kill still finds it, but it will never write to its staging folder again.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except (OSError, IndexError):  # no /proc (macOS, Windows): trust os.kill
        return True
