"""Each client's downloads share one byte rate (bertdemo.ui.download_throttle), on a real launched gradio server."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from bertdemo.ui.download_throttle import DownloadThrottle, TokenBucket, client_key
from tests.conftest import free_port

MB = 2**20


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_lets_a_burst_through_then_paces_at_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(rate=10 * MB, burst=4 * MB, clock=clock)
    assert bucket.debit(4 * MB) == 0  # the burst: at once
    assert bucket.debit(5 * MB) == pytest.approx(0.5)  # 5 MB past it at 10 MB/s
    assert not bucket.idle()
    clock.now += 0.9  # 9 MB refilled: the 5 MB owed, then the burst again (never more)
    assert bucket.debit(0) == 0
    assert bucket.tokens == pytest.approx(4 * MB)
    assert bucket.idle()


def test_the_client_is_the_connection_unless_a_proxy_is_trusted():
    scope = {"client": ("10.0.0.9", 5555), "headers": [(b"x-forwarded-for", b"1.2.3.4, 5.6.7.8")]}
    assert client_key(scope, trust_proxy=False) == "10.0.0.9"  # the header is the client's own say
    assert client_key(scope, trust_proxy=True) == "5.6.7.8"  # the entry the proxy added, not the first
    assert client_key({"client": ("10.0.0.9", 1), "headers": []}, trust_proxy=True) == "10.0.0.9"


def test_the_app_paces_its_file_routes():
    from bertdemo.ui import launch_options

    middleware = launch_options()["app_kwargs"]["middleware"]
    assert [m.cls for m in middleware] == [DownloadThrottle]


@pytest.fixture(scope="module")
def paced_server(tmp_path_factory):
    """A gradio server serving a 3 MB file, its downloads paced at 2 MB/s per client with a 0.5 MB burst."""
    import gradio as gr
    from starlette.middleware import Middleware

    folder = tmp_path_factory.mktemp("files")
    big = folder / "big.bin"
    big.write_bytes(b"x" * (3 * MB))
    with gr.Blocks() as demo:
        gr.Markdown("files")
    options = {"rate_mb_s": 2, "burst_mb": 0.5, "trust_proxy": True}
    _, url, _ = demo.launch(
        prevent_thread_lock=True,
        server_port=free_port(),
        quiet=True,
        allowed_paths=[str(folder)],
        app_kwargs={"middleware": [Middleware(DownloadThrottle, **options)]},
    )
    try:
        yield f"{url}gradio_api/file={big}"
    finally:
        demo.close()


def _download_times(url: str, forwarded_for: list[str]) -> list[float]:
    """Download `url` once per entry, all at once; each one's seconds (the header names the client)."""
    times: list[float] = [0.0] * len(forwarded_for)

    def one(i: int) -> None:
        started = time.perf_counter()
        got = httpx.get(url, headers={"x-forwarded-for": forwarded_for[i]}, timeout=60)
        got.raise_for_status()
        assert len(got.content) == 3 * MB
        times[i] = time.perf_counter() - started

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(forwarded_for))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times


def test_one_clients_downloads_share_its_rate_and_other_clients_keep_theirs(paced_server):
    # One client, two downloads at once: 6 MB less the 0.5 MB burst at 2 MB/s is 2.75 s at the least.
    same = _download_times(paced_server, ["203.0.113.1", "203.0.113.1"])
    assert max(same) >= 2.7
    time.sleep(0.3)  # the next clients start with their own (full) allowance anyway
    # Two clients at once: each paces only itself, 2.5 MB past the burst at 2 MB/s, 1.25 s.
    apart = _download_times(paced_server, ["203.0.113.2", "203.0.113.3"])
    assert min(apart) >= 1.2
    assert max(apart) < 2.7, "another client's download waited for this one"
