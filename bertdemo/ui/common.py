"""What every tab shares: the error edge (BertDemoError -> gr.Error), run pickers, event defaults."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from bertdemo import service
from bertdemo.errors import BertDemoError, one_line  # noqa: F401 - one_line: tabs import it from here

log = logging.getLogger(__name__)

# UI events are not part of the documented API: scripts use the named endpoints in ui/api.py.
UI_EVENT: dict[str, Any] = {"api_visibility": "private"}
HEAVY = "heavy"  # concurrency group of export and compare: one at a time, they saturate the CPU


def ui_errors(fn: Callable) -> Callable:
    """Show a BertDemoError as a one-line gr.Error (the page and the next request keep working).

    Any other exception is a bug: it is logged with its traceback and Gradio shows a generic error.
    """
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except BertDemoError as exc:
                raise gr.Error(one_line(str(exc)), print_exception=False) from exc

        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except BertDemoError as exc:
            raise gr.Error(one_line(str(exc)), print_exception=False) from exc

    return wrapper


NO_RUN = "**No run yet:** train one on the **Train** tab first; this tab works on a saved run."
GONE = "bd-gone"  # CSS class (page_style): out of the layout. Toggled instead of visible=, see hide_file


def no_run_notice(c: dict[str, Any], has_runs: bool) -> None:
    """The 'No run yet' line and a way to the Train tab, for a tab that needs a run (c["no_run"], c["to_train"]).

    build_app shows them, and disables the tab's c["needs_run"] buttons, while this browser sees no run.
    """
    hide = [GONE] if has_runs else []
    with gr.Row(equal_height=True):
        c["no_run"] = gr.Markdown(NO_RUN, elem_classes=["bd-no-run", *hide])
        c["to_train"] = gr.Button("Go to the Train tab", size="sm", scale=0, min_width=180, elem_classes=hide)


def run_gate_updates(has_runs: bool, needs_run: int) -> list[Any]:
    """Updates of no_run_notice's two components and a tab's `needs_run` buttons, for whether a run exists."""
    hide = [GONE] if has_runs else []
    return [
        gr.Markdown(elem_classes=["bd-no-run", *hide]),
        gr.Button(elem_classes=hide),
        *(gr.Button(interactive=has_runs) for _ in range(needs_run)),
    ]


def page_owned(fn: Callable) -> Callable:
    """fn(*args) for a handler of a page's stored state (its upload, its audit rows), called with two more inputs
    at the end: the browser's owner id and the page's owner (set once, at page load).

    gradio keys a page's gr.State by its session hash alone: a caller replaying another page's hash would read
    that page's upload or audit. The owner id is the browser's secret, so a replay without it is refused.
    """

    def wrapper(*args):
        *rest, owner_id, page_owner = args
        if not owner_id or owner_id != page_owner:
            raise gr.Error("This page is not yours, or has not finished loading: reload it.", print_exception=False)
        return fn(*rest)

    # Not functools.wraps: gradio would read fn's signature (two inputs fewer) through __wrapped__ and warn.
    wrapper.__name__, wrapper.__qualname__, wrapper.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
    return wrapper


def hide_file(current: str | None):
    """Empty and hide a gr.File output, if it is on screen.

    A component never shown must not get visible=False: Gradio 6.17's front-end keeps that update and
    applies it right after a later event shows the component, hiding it again.
    """
    return gr.File(None, visible=False) if current else gr.skip()


def run_choices(root: Path | None, owner: str | None = None) -> list[str]:
    """Names of the runs this browser sees (its own and the shared ones), newest first.

    Without an owner (when the page is built, before a browser has said who it is) only shared runs are listed.
    """
    try:
        return service.run_names(root, owner)
    except OSError as exc:  # pragma: no cover - a models folder that vanished under us
        log.warning("cannot list runs: %s", exc)
        return []


# Every run dropdown takes a name that is no longer among its choices. A run deleted in one tab is dropped from
# each list by an event, while another event (a tab opened meanwhile) may already be on its way with the old
# name: gradio refused it before the handler ran ("not in the list of choices") and left an Error badge over
# the dropdown. The handlers check every name anyway (owner, existence) and answer a gone run in one line.
RUN_PICK = {"allow_custom_value": True}


def run_dropdown_update(
    root: Path | None,
    keep: str | list[str] | None = None,
    multiselect: bool = False,
    prefer: str | None = None,
    owner: str | None = None,
):
    """Fresh choices for a run dropdown, keeping the current pick when it still exists."""
    choices = run_choices(root, owner)
    if multiselect:
        kept = [n for n in (keep or []) if n in choices]
        if prefer and prefer in choices and prefer not in kept:
            kept.append(prefer)
        return gr.Dropdown(choices=choices, value=kept or choices[:1])
    value = prefer if prefer in choices else keep if keep in choices else (choices[0] if choices else None)
    return gr.Dropdown(choices=choices, value=value)


def settle_failures(demo: gr.Blocks) -> None:
    """After any UI event fails, its `.then` steps still run and no Error badge is left over its outputs.

    Gradio 6.17's front-end runs a `.then` step only after a success, although it is documented to run either
    way: a button set busy before a step that failed stayed greyed out as "Comparing…" until a reload. And an
    error leaves a badge over the failed event's outputs until some later event writes to them, so one wrong
    click's badge sat over the Try-it box through a whole training (the toast already said what was wrong).
    Call once, inside the Blocks, after every event is wired.
    """
    fns = list(demo.fns.values())
    for step in fns:
        if step.trigger_after is None or step.trigger_only_on_success or step.trigger_only_on_failure:
            continue
        after = demo.fns.get(step.trigger_after)
        if after is None or after.fn is None:  # a front-end-only step cannot fail
            continue
        gr.events.Dependency(None, {}, after._id, None).failure(
            step.fn,
            step.inputs,
            step.outputs,
            js=step.js,
            show_progress=step.show_progress,
            queue=step.queue,
            concurrency_limit=step.concurrency_limit,
            concurrency_id=step.concurrency_id,
            api_visibility="private",
        )
    for event in fns:
        if event.fn is None or not event.outputs or event.api_visibility == "public":
            continue
        # A no-op answer for the same outputs: their status becomes "complete" again, the badge goes.
        gr.events.Dependency(None, {}, event._id, None).failure(
            _unchanged(len(event.outputs)),
            None,
            event.outputs,
            queue=False,
            show_progress="hidden",
            api_visibility="private",
        )


def _unchanged(n: int) -> Callable:
    def keep_outputs():
        return gr.skip() if n == 1 else [gr.skip()] * n

    return keep_outputs
