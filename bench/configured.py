"""bertdemo.config's settings changed for one run of a benchmark, and put back after it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bertdemo import config


@contextmanager
def config_set(**values: Any) -> Iterator[None]:
    """Inside the block each named bertdemo.config setting has the value given; after it, its own again."""
    before = {name: getattr(config, name) for name in values}  # AttributeError on a misspelt setting
    try:
        for name, value in values.items():
            setattr(config, name, value)
        yield
    finally:
        for name, value in before.items():
            setattr(config, name, value)
