"""Unit tests of bertdemo.tempfiles: stale temp folders go, live ones stay."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path

from bertdemo import config, store, tempfiles
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
