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
