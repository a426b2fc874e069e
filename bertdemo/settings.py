"""The settings schema: a dataclass field declared with `setting(...)` carries its type, default, range and help.

From that one declaration come the CLI flags (`add_arguments`), the API's parsing of a JSON dict
(`parse_values`), the range checks (`check_ranges`), the UI widgets (bertdemo.ui.settings_widgets) and the
columns of the runs' parameter table (bertdemo.ui.views). Adding a training setting is one `setting(...)`
field in hyperparameters.TrainConfig plus the code that uses it. No torch and no gradio here.
"""

from __future__ import annotations

import argparse
import typing
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any

from bertdemo.errors import BertDemoError


@dataclass(frozen=True)
class Spec:
    """What a settings field means to its users (the field itself holds name, type and default)."""

    label: str  # in messages and (capitalized) on the widget: "learning rate"
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    open_min: bool = False  # (minimum, ...: the minimum itself is refused
    open_max: bool = False
    choices: tuple[str, ...] | None = None
    auto: bool = False  # None = chosen for the data; the UI and API send 0 or blank for it
    zero_means: str | None = None  # the UI label says "(0 = <this>)"; "auto" for auto settings
    unit: str = ""  # "tokens": shown after the range in messages
    hint: str = ""  # added to a range error: "try 2e-5..5e-5"
    flags: tuple[str, ...] = ()  # CLI flags; default --<name-with-dashes>; ("csv",) is a positional
    aliases: tuple[str, ...] = ()  # older API keys still accepted
    metavar: str | None = None
    ui: str = "main"  # the Train tab: "main" row, "advanced" accordion, or "custom" (placed by hand)
    step: float | None = None
    ui_min: float | None = None  # widget limits where the range is checked elsewhere (default: minimum, maximum)
    ui_max: float | None = None
    cli: bool = True  # False: no CLI flag
    api: bool = True  # False: not accepted from an API caller (a server path, e.g.)


def setting(default: Any = None, *, label: str, **spec: Any) -> Any:
    """A dataclass field with its schema (see Spec)."""
    if spec.get("auto") and "zero_means" not in spec:
        spec["zero_means"] = "auto"
    return field(default=default, metadata={"spec": Spec(label=label, **spec)})


@dataclass(frozen=True)
class SettingField:
    """One declared setting: field name, base type (int, float, str), default and Spec."""

    name: str
    kind: type
    default: Any
    spec: Spec

    @property
    def ui_label(self) -> str:
        """The widget's label: 'Learning rate (0 = auto)'."""
        text = self.spec.label[:1].upper() + self.spec.label[1:]
        if self.spec.unit:
            text += f" ({self.spec.unit})"
        if self.spec.zero_means:
            text += f" ({'0' if self.kind is not str else 'blank'} = {self.spec.zero_means})"
        return text

    @property
    def keys(self) -> tuple[str, ...]:
        """The API keys this setting answers to: its name, then its aliases."""
        return (self.name, *self.spec.aliases)


def schema(cls: type) -> list[SettingField]:
    """The settings a dataclass declares with `setting(...)`, in declaration order (base classes first)."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in fields(cls):
        spec = f.metadata.get("spec")
        if spec is not None:
            out.append(SettingField(f.name, _base_type(hints[f.name]), _default(f), spec))
    return out


def _default(f: Field) -> Any:
    return None if f.default is MISSING else f.default


def _base_type(hint: Any) -> type:
    """int | None -> int; str -> str."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    base = args[0] if args else hint
    if base not in (int, float, str):
        raise TypeError(f"a setting must be int, float or str (got {hint!r})")
    return base


# --- the command line --------------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser, cls: type) -> None:
    """One argparse option per CLI setting of cls, with its default and help (None = auto / detected)."""
    for s in schema(cls):
        if not s.spec.cli:
            continue
        flags = s.spec.flags or (f"--{s.name.replace('_', '-')}",)
        kwargs: dict[str, Any] = {"type": s.kind, "help": _cli_help(s)}
        if s.spec.choices:
            kwargs["choices"] = s.spec.choices
        if flags[0].startswith("-"):
            kwargs.update(dest=s.name, default=s.default)
        else:  # a positional; optional here, so that a missing one gets the pipeline's one-line message
            kwargs.update(nargs="?", default=s.default)
        if s.spec.metavar:
            kwargs["metavar"] = s.spec.metavar
        parser.add_argument(*flags, **kwargs)


def _cli_help(s: SettingField) -> str:
    if s.default is not None:
        default = f"{s.default:,}" if isinstance(s.default, int) and s.default >= 10_000 else str(s.default)
    else:
        default = "chosen for the data" if s.spec.auto else ""
    return f"{s.spec.help} (default: {default})" if default else s.spec.help


def from_namespace(cls: type, args: argparse.Namespace, **extra: Any) -> Any:
    """cls built from parsed CLI arguments (settings the CLI has no flag for keep their defaults)."""
    values = {s.name: getattr(args, s.name) for s in schema(cls) if hasattr(args, s.name)}
    return cls(**values, **extra)


# --- JSON dicts (the API, the UI, a job's request file) ----------------------------------------------------------


def is_blank(value: Any) -> bool:
    """None or a string of only whitespace: a form field left empty."""
    """None or a string of only whitespace: a form field left empty."""
    return value is None or (isinstance(value, str) and not value.strip())


def parse_values(cls: type, values: dict[str, Any] | None) -> dict[str, Any]:
    """Read settings from a JSON dict: numbers may come as strings, blank means default, 0 means auto.

    Unknown keys are refused in one line that lists the known ones; aliases map to their setting.
    """
    accepted = [s for s in schema(cls) if s.spec.api]
    by_key = {key: s for s in accepted for key in s.keys}
    values = dict(values or {})
    unknown = sorted(set(values) - set(by_key))
    if unknown:
        known = ", ".join(s.name for s in accepted)
        raise BertDemoError(f"Unknown training setting(s) {', '.join(unknown)}: use {known}.")
    out: dict[str, Any] = {}
    for key, value in values.items():
        s = by_key[key]
        if is_blank(value):
            continue
        if s.kind is str:
            out[s.name] = str(value).strip()
            continue
        number = _number(s, key, value)
        if s.spec.auto and number == 0:
            continue  # 0 = chosen for the data
        out[s.name] = number
    return out


def _number(s: SettingField, key: str, value: Any) -> int | float:
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
        if s.kind is int:
            if number != int(number):
                raise ValueError
            return int(number)
        return number
    except (TypeError, ValueError, OverflowError):
        expected = "a whole number" if s.kind is int else "a number"
        raise BertDemoError(f"Setting {key} must be {expected} (got {value!r}).") from None


def to_json(obj: Any) -> dict[str, Any]:
    """The declared settings of a dataclass instance, as a JSON-able dict."""
    return {s.name: getattr(obj, s.name) for s in schema(type(obj))}


# --- checks -------------------------------------------------------------------------------------------------------


def check_ranges(obj: Any) -> None:
    """Refuse a setting outside its declared range or choices, with a one-line reason."""
    for s in schema(type(obj)):
        value = getattr(obj, s.name)
        if value is None:
            continue
        sp = s.spec
        if sp.choices is not None and value not in sp.choices:
            raise BertDemoError(f"{sp.label} must be one of {', '.join(sp.choices)} (got {value!r}).")
        if s.kind is str:
            continue
        low_ok = sp.minimum is None or (value > sp.minimum if sp.open_min else value >= sp.minimum)
        high_ok = sp.maximum is None or (value < sp.maximum if sp.open_max else value <= sp.maximum)
        if low_ok and high_ok:
            continue
        raise BertDemoError(f"{sp.label} must be {_range_text(s)} (got {value}){'; ' + sp.hint if sp.hint else ''}.")


def _range_text(s: SettingField) -> str:
    sp = s.spec
    unit = f" {sp.unit}" if sp.unit else ""
    if sp.maximum is None:
        return f"{sp.minimum:g}{' (' + sp.zero_means + ')' if sp.zero_means and sp.minimum == 0 else ''} or more"
    if sp.minimum is None:
        return f"at most {sp.maximum:g}{unit}"
    if not (sp.open_min or sp.open_max):
        return f"between {sp.minimum:g} and {sp.maximum:g}{unit}"
    return f"in {'(' if sp.open_min else '['}{sp.minimum:g}, {sp.maximum:g}{')' if sp.open_max else ']'}{unit}"
