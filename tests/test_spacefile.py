"""The Deta Space manifest parses and runs app.py with the settings the app reads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DETA_ENGINES = {
    "static",
    "react",
    "svelte",
    "vue",
    "next",
    "nuxt",
    "svelte-kit",
    "python3.9",
    "python3.8",
    "nodejs16",
    "custom",
}


@pytest.fixture(scope="module")
def spacefile() -> dict:
    return yaml.safe_load((REPO / "Spacefile").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def micro(spacefile) -> dict:
    (only,) = spacefile["micros"]
    return only


def test_version_and_micro(spacefile, micro):
    assert spacefile["v"] == 0
    assert micro["name"] == "bertdemo" and micro["primary"] is True
    assert micro["engine"] in DETA_ENGINES and micro["engine"].startswith("python")
    assert (REPO / micro["src"]).resolve() == REPO


def test_runs_the_app(micro):
    assert micro["run"] == "python app.py"
    assert (REPO / micro["src"] / "app.py").is_file()


def test_presets_env(micro):
    env = {item["name"]: item for item in micro["presets"]["env"]}
    assert {"BERTDEMO_MODELS_DIR", "GRADIO_SERVER_NAME", "GRADIO_ANALYTICS_ENABLED"} <= set(env)
    for item in env.values():
        assert item.get("description") and "default" in item
    assert env["BERTDEMO_MODELS_DIR"]["default"].startswith("/tmp/")  # the only writable place on a micro
    assert env["GRADIO_SERVER_NAME"]["default"] == "0.0.0.0"
    assert env["GRADIO_ANALYTICS_ENABLED"]["default"] == "False"


def test_app_listens_where_the_platform_says(monkeypatch):
    from bertdemo.ui import server_address

    for var in ("GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT", "PORT", "SPACE_ID"):
        monkeypatch.delenv(var, raising=False)
    assert server_address() == ("127.0.0.1", 7860)
    monkeypatch.setenv("PORT", "8080")  # Deta
    monkeypatch.setenv("SPACE_ID", "user/bertdemo")  # Hugging Face Spaces
    assert server_address() == ("0.0.0.0", 8080)
    monkeypatch.setenv("GRADIO_SERVER_NAME", "10.0.0.5")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "9000")
    assert server_address() == ("10.0.0.5", 9000)


def test_it_says_plainly_whether_it_installs(micro):
    """Deta's engines stop at python3.9, the pins need 3.11: a manifest naming an older engine must say it."""
    import re

    text = (REPO / "Spacefile").read_text(encoding="utf-8")
    engine = tuple(int(n) for n in re.findall(r"\d+", micro["engine"])[:2])
    pinned = (REPO / "requirements.txt").read_text(encoding="utf-8")
    needed = (3, 11) if "numpy==2.4" in pinned else (3, 10)  # numpy 2.4 says Requires-Python >=3.11
    if engine < needed:
        assert "does not install" in text and "3.11" in text
