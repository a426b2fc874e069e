"""The Train tab's setting widgets, built from the settings schema (bertdemo.settings, pipeline.TrainRequest)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from bertdemo.service import TrainRequest
from bertdemo.settings import SettingField, schema


def widget_settings(group: str) -> list[SettingField]:
    """The settings whose widgets sit in a group ("main" row, "advanced" accordion), in schema order."""
    return [s for s in schema(TrainRequest) if s.spec.ui == group and s.spec.api]


def setting_widgets(group: str) -> dict[str, Any]:
    """One widget per setting of the group, named like the setting: value, range and step from its Spec."""
    return {s.name: _widget(s) for s in widget_settings(group)}


def _widget(s: SettingField):
    sp = s.spec
    if sp.choices:
        return gr.Dropdown(label=s.ui_label, choices=list(sp.choices), value=s.default, info=sp.help or None)
    if s.kind is str:
        return gr.Textbox(label=s.ui_label, value=s.default or "", info=sp.help or None)
    minimum = sp.ui_min if sp.ui_min is not None else (0 if sp.zero_means else sp.minimum)
    maximum = sp.ui_max if sp.ui_max is not None else sp.maximum
    return gr.Number(
        label=s.ui_label,
        value=0 if s.default is None else s.default,  # 0 = auto (the API reads it so)
        precision=0 if s.kind is int else None,
        minimum=minimum,
        maximum=maximum,
        step=sp.step or 1,
    )
