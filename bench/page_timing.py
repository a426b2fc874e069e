"""How responsive a page stays, measured in Chromium: long tasks and total blocking time between two moments.

Shared by bench/ui_bench.py and the browser test of the Train tab's results (tests/e2e/test_results_responsive.py).
The CPU can be slowed through the DevTools protocol (Emulation.setCPUThrottlingRate), as for a phone or an old
laptop. No pytest here.
"""

from __future__ import annotations

from typing import Any

LONG_TASK_MS = 50.0  # the browser's own threshold: the part of a task past it blocks input (TBT)

# Before the page's own scripts: every long task from the start, with when it began and how long it ran.
OBSERVE_JS = """(() => { window.__longTasks = [];
  new PerformanceObserver(list => { for (const e of list.getEntries())
    window.__longTasks.push({start: e.startTime, duration: e.duration}); })
    .observe({type: 'longtask', buffered: true}); })();"""

# The moment a selector first matches a visible element (performance.now(), stored under window.__marks[name]).
MARK_WHEN_SHOWN_JS = """([name, sel]) => { window.__marks = window.__marks || {};
  const seen = () => { const e = document.querySelector(sel);
    return e && e.getBoundingClientRect().height > 0; };
  if (seen()) { window.__marks[name] = performance.now(); return; }
  const o = new MutationObserver(() => { if (seen()) { window.__marks[name] = performance.now(); o.disconnect(); } });
  o.observe(document.body, {childList: true, subtree: true, attributes: true, characterData: true}); }"""

# The moment an element's content next changes.
MARK_NEXT_CHANGE_JS = """([name, sel]) => { window.__marks = window.__marks || {};
  const e = document.querySelector(sel);
  const o = new MutationObserver(() => { window.__marks[name] = performance.now(); o.disconnect(); });
  o.observe(e, {childList: true, subtree: true, characterData: true}); return performance.now(); }"""

# Resolves once the main thread has run a task and drawn a frame: the page answers again.
RESPONSIVE_JS = """() => new Promise(done => requestAnimationFrame(() => setTimeout(() =>
  done(performance.now()), 0)))"""


def throttle(page, rate: float) -> Any:
    """Slow this page's CPU `rate` times (1: no slowdown); returns the CDP session (keep it alive)."""
    session = page.context.new_cdp_session(page)
    session.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    return session


def observe(page) -> None:
    """Record long tasks from the next navigation on (call before page.goto)."""
    page.add_init_script(OBSERVE_JS)


def mark_when_shown(page, name: str, selector: str) -> None:
    page.evaluate(MARK_WHEN_SHOWN_JS, [name, selector])


def mark_next_change(page, name: str, selector: str) -> float:
    """Watch `selector` for its next change; returns now (performance.now()) as the window's start."""
    return page.evaluate(MARK_NEXT_CHANGE_JS, [name, selector])


def marks(page) -> dict[str, float]:
    return page.evaluate("() => window.__marks || {}")


def blocking(page, start_ms: float, end_ms: float) -> dict[str, Any]:
    """Long tasks that began in [start_ms, end_ms]: total blocking time, the longest, how many."""
    tasks = [t for t in page.evaluate("() => window.__longTasks || []") if start_ms <= t["start"] <= end_ms]
    durations = [t["duration"] for t in tasks]
    return {
        "total_blocking_ms": round(sum(max(0.0, d - LONG_TASK_MS) for d in durations), 1),
        "longest_task_ms": round(max(durations, default=0.0), 1),
        "long_tasks": len(durations),
    }


def settle(page, quiet_ms: float = 1000.0, timeout_ms: float = 120_000.0) -> float:
    """Wait until no long task has begun for quiet_ms (the page is done drawing); returns that moment."""
    deadline = page.evaluate("performance.now()") + timeout_ms
    while True:
        now = page.evaluate(RESPONSIVE_JS)
        last = page.evaluate("() => (window.__longTasks || []).reduce((m, t) => Math.max(m, t.start + t.duration), 0)")
        if now - last >= quiet_ms or now > deadline:
            return now
        page.wait_for_timeout(250)
