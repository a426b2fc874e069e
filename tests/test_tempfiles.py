"""Unit tests of bertdemo.runs.tempfiles: stale temp folders go, live ones stay."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path

from bertdemo import config
from bertdemo.runs import store, tempfiles
from tests.helpers import make_tiny_run


def test_sweep_removes_only_stale_folders_with_the_prefix():
    prefix = f"bertdemo-test-{uuid.uuid4().hex[:8]}-"
    other = Path(tempfile.mkdtemp(prefix=f"x{prefix}"))  # another prefix: never touched
    stale = tempfiles.new_temp_dir(prefix)
    (stale / "data.csv").write_text("text,label\n")
    fresh = tempfiles.new_temp_dir(prefix)
    day_ago = time.time() - 2 * 86400
    for path in (stale, other):
        os.utime(path, (day_ago, day_ago))
    try:
        assert tempfiles.sweep_temp_dirs(prefix, max_age_s=3600) == [stale.name]
        assert not stale.exists() and fresh.is_dir() and other.is_dir()
        assert tempfiles.sweep_temp_dirs(prefix, max_age_s=3600) == []
    finally:
        for path in (fresh, other):
            path.rmdir()


def test_new_temp_dir_sweeps_first():
    prefix = f"bertdemo-test-{uuid.uuid4().hex[:8]}-"
    old = tempfiles.new_temp_dir(prefix)
    os.utime(old, (0, 0))
    new = tempfiles.new_temp_dir(prefix, max_age_s=60)
    try:
        assert new.is_dir() and not old.exists()
    finally:
        new.rmdir()


def test_run_zip_lands_in_a_swept_download_folder(models_root):
    make_tiny_run(models_root, "zipped")
    path = store.zip_run("zipped", root=models_root)
    try:
        assert path.name == "zipped.zip" and path.parent.name.startswith(config.ZIP_DIR_PREFIX)
        assert path.parent.parent == Path(tempfile.gettempdir())
    finally:
        path.unlink()
        path.parent.rmdir()


def test_onnx_zip_lands_in_a_swept_folder_and_is_made_once(models_root):
    """The Export tab's ONNX zip (~180 MB for MiniLM): swept like the other downloads, not rebuilt per visit."""
    import shutil

    from bertdemo import service

    run = make_tiny_run(models_root, "exported")
    (run / config.ONNX_SUBDIR).mkdir()
    (run / config.ONNX_SUBDIR / "model.onnx").write_bytes(b"\x08\x07" * 1000)
    path = service.zip_onnx("exported", root=models_root)
    try:
        assert path.name == "exported-onnx.zip" and path.parent.name.startswith(config.ZIP_DIR_PREFIX)
        assert path.parent.parent == Path(tempfile.gettempdir())
        made = path.stat().st_mtime_ns
        again = service.zip_onnx("exported", root=models_root)
        assert again == path and again.stat().st_mtime_ns == made  # the same zip, not zipped again
        os.utime(path.parent, (0, 0))  # an hour later nobody downloads it: the next sweep takes it
        tempfiles.sweep_temp_dirs(config.ZIP_DIR_PREFIX, config.ZIP_MAX_AGE_S)
        assert not path.parent.exists()
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


def test_the_budget_counts_only_the_apps_own_folders(monkeypatch, tmp_path):
    # Another program's bertdemo-* folder (a benchmark's work folder) is not the app's: it must not fill the budget
    # and refuse every download ("The server's room for downloads ... is full").
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    foreign = tmp_path / "bertdemo-abuse-x1"
    foreign.mkdir()
    (foreign / "big.bin").write_bytes(b"x" * (3 * tempfiles.MB))
    job = tempfiles.new_temp_dir(config.JOB_DIR_PREFIX)
    (job / "upload.csv").write_bytes(b"y" * 1000)
    assert [path for path, *_ in tempfiles.temp_folders()] == [job]
    monkeypatch.setattr(config, "TEMP_BUDGET_MB", 1)
    tempfiles.make_room()  # 1 kB of the app's against a 1 MB budget: room, whatever else lies there
    assert foreign.is_dir() and job.is_dir()
