"""Read-only tables as plain HTML: cheap for the browser to draw, scrolling inside their own box on a narrow
screen, long texts cut with the whole text one click away. No gradio here (a gr.HTML shows them).

A gr.Dataframe is a full grid editor: 200 wrapped rows of it froze a browser tab for minutes, and a long text in
one cell pushed every other column off screen. Tables nobody edits are drawn with these instead.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

TEXT_SHOWN = 140  # characters of a long text shown in a cell; the rest on a click

# For gr.HTML(css_template=...): scoped to the component by Gradio.
TABLE_CSS = """
.bd-table-scroll { overflow: auto; max-height: 520px; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; font-size: var(--text-sm); }
th { position: sticky; top: 0; z-index: 1; background: var(--block-background-fill); text-align: left;
     white-space: nowrap; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--border-color-primary); vertical-align: top; }
td.bd-short { white-space: nowrap; }
td.bd-long { min-width: 16em; max-width: 40em; }
tr.bd-flag td { background: #fde2e1; color: #1f2328; }
summary { cursor: pointer; }
.bd-table-empty { color: var(--body-text-color-subdued); }
.bd-table-title { margin: 0 0 6px; font-size: var(--block-label-text-size); color: var(--block-label-text-color); }
"""


# The arguments of a gr.HTML that shows one of these tables: its CSS, and no click handler (nothing to click).
READ_ONLY_TABLE = {"css_template": TABLE_CSS, "js_on_load": None}


def cut_text(text: object, shown: int = TEXT_SHOWN) -> str:
    """A text as HTML, cut to its first `shown` characters with the whole of it one click away."""
    text = "" if text is None else str(text)
    if len(text) <= shown:
        return html.escape(text)
    return f"<details><summary>{html.escape(text[:shown].rstrip())}…</summary>{html.escape(text)}</details>"


def frame_table(frame, long_columns: Sequence[str] = (), empty: str = "Nothing to show.", title: str = "") -> str:
    """html_table of a pandas DataFrame (its columns, its rows as shown)."""
    rows = [["" if v is None or v != v else v for v in row] for row in frame.itertuples(index=False)]
    return html_table([str(c) for c in frame.columns], rows, long_columns, empty=empty, title=title)


def html_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    long_columns: Sequence[str] = (),
    flagged: Sequence[bool] | None = None,
    empty: str = "Nothing to show.",
    title: str = "",
) -> str:
    """A read-only table in a box that scrolls on its own; cells of `long_columns` are cut (cut_text) and may wrap,
    the others are escaped and kept on one line; `flagged` rows are highlighted; `title` goes above it."""
    top = f'<p class="bd-table-title">{html.escape(title)}</p>' if title else ""
    if not rows:
        return f'{top}<p class="bd-table-empty">{html.escape(empty)}</p>'
    long = [c in long_columns for c in columns]
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = []
    for i, row in enumerate(rows):
        cells = "".join(
            f'<td class="bd-long">{cut_text(v)}</td>' if is_long else f'<td class="bd-short">{html.escape(str(v))}</td>'
            for v, is_long in zip(row, long, strict=True)
        )
        mark = ' class="bd-flag"' if flagged and flagged[i] else ""
        body.append(f"<tr{mark}>{cells}</tr>")
    return (
        f'{top}<div class="bd-table-scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )
