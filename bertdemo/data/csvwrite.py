"""CSV files the app hands out: cells a spreadsheet would run as a formula are neutralised (OWASP CSV injection).

A downloaded CSV is opened in a spreadsheet by the visitor, or by whoever they send it to: a cell such as
`=HYPERLINK("http://…","x")` copied as is from an uploaded file would run there. Cells starting with `=`, `+`,
`-`, `@`, a tab or a carriage return get a leading `'`, which every spreadsheet shows as text; plain numbers
such as `-1` or `+0.5` are no formula and stay as they are.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def formula_safe(cell: Any) -> Any:
    """cell, with a leading ' when a spreadsheet would read it as a formula."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) and not _NUMBER.match(cell):
        return "'" + cell
    return cell


class SafeWriter:
    """csv.writer whose rows go through formula_safe."""

    def __init__(self, fh: IO[str], **kwargs: Any):
        self._writer = csv.writer(fh, **kwargs)

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row, formulas neutralised."""
        self._writer.writerow([formula_safe(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write rows, formulas neutralised."""
        for row in rows:
            self.writerow(row)
