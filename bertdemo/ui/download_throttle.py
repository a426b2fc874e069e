"""Each client's file downloads share one byte rate, so one visitor cannot spend the server's CPU on downloads.

A run's zip is 80-270 MB. Over loopback, or any fast link, a script that fetches it in a loop pushes
~230 MB/s through the app's event loop (bench/abuse_bench.py), and every other visitor's /predict waits
behind it. A browser's user downloads a run now and then; at config.DOWNLOAD_MB_PER_S (default 20 MB/s)
even the largest zip takes seconds. Only gradio's file routes (`/file=`) are paced; pages, the API and the
event streams are not. Files up to the bucket's burst go out at once.

Who a client is: the connection's address, or behind a proxy that sets X-Forwarded-For (Hugging Face Spaces,
or BERTDEMO_TRUST_PROXY=1) its last entry, the one the proxy itself added (the first ones are the client's
own say). Without a proxy that header is ignored: a client could otherwise name itself anew on every request.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bertdemo import config

# Extensions that would hand the whole file to the server (past this middleware's pacing).
_BYPASSING_EXTENSIONS = ("http.response.pathsend", "http.response.zerocopysend")


class TokenBucket:
    """Bytes a client may send now: refilled at `rate` bytes/s up to `burst`; a send past it waits its turn."""

    def __init__(self, rate: float, burst: float, clock=time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens = burst
        self.updated = clock()

    def debit(self, size: int) -> float:
        """Take `size` bytes; the seconds to wait before sending them (0 when within the burst)."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= size
        return max(0.0, -self.tokens / self.rate)

    def idle(self) -> bool:
        """Full again: nothing to remember about this client."""
        return self.tokens + (self.clock() - self.updated) * self.rate >= self.burst


def client_key(scope: dict[str, Any], trust_proxy: bool) -> str:
    """Who sent this request, as far as the server can tell (see the module's note)."""
    if trust_proxy:
        for name, value in scope.get("headers") or []:
            if name == b"x-forwarded-for":
                last = value.decode("latin-1").split(",")[-1].strip()
                if last:
                    return last
    client = scope.get("client")
    return str(client[0]) if client else "?"


class DownloadThrottle:
    """ASGI middleware pacing the body of every gradio file response by its client's TokenBucket."""

    def __init__(
        self, app, rate_mb_s: float | None = None, burst_mb: float | None = None, trust_proxy: bool | None = None
    ) -> None:
        self.app = app
        rate = config.DOWNLOAD_MB_PER_S if rate_mb_s is None else rate_mb_s
        self.rate = rate * 2**20
        self.burst = (config.DOWNLOAD_BURST_MB if burst_mb is None else burst_mb) * 2**20
        self.trust_proxy = config.TRUST_PROXY_HEADERS if trust_proxy is None else trust_proxy
        self.buckets: dict[str, TokenBucket] = {}

    async def __call__(self, scope, receive, send) -> None:
        if self.rate <= 0 or scope.get("type") != "http" or "/file=" not in scope.get("path", ""):
            await self.app(scope, receive, send)
            return
        scope = {**scope, "extensions": {k: v for k, v in (scope.get("extensions") or {}).items()
                                         if k not in _BYPASSING_EXTENSIONS}}  # fmt: skip
        bucket = self._bucket(client_key(scope, self.trust_proxy))

        async def paced_send(message) -> None:
            if message.get("type") == "http.response.body":
                wait = bucket.debit(len(message.get("body") or b""))
                if wait > 0:
                    await asyncio.sleep(wait)
            await send(message)

        await self.app(scope, receive, paced_send)

    def _bucket(self, key: str) -> TokenBucket:
        bucket = self.buckets.get(key)
        if bucket is None:
            if len(self.buckets) >= config.DOWNLOAD_CLIENTS_TRACKED:  # forget the clients that are full again
                self.buckets = {k: b for k, b in self.buckets.items() if not b.idle()}
            bucket = self.buckets[key] = TokenBucket(self.rate, self.burst)
        return bucket
