"""Base model resolution: whether the Hub answers is checked again after a while, not once per process."""

from __future__ import annotations

import socket

from bertdemo import config
from bertdemo.training import basemodels


def test_hub_reachable_is_checked_again_after_its_ttl(monkeypatch) -> None:
    """A Space that boots before its network is up must take Hub ids once the network is there, without a restart."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there yet: "offline"
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setattr(config, "HUB_CHECK_TTL_S", 0.0, raising=False)
    assert basemodels.hub_reachable(timeout=1) is False
    hub = socket.socket()
    hub.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hub.bind(("127.0.0.1", port))
    hub.listen()
    try:
        assert basemodels.hub_reachable(timeout=1) is True  # the network came up
    finally:
        hub.close()


def test_hub_offline_env_wins(monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert basemodels.hub_reachable() is False
