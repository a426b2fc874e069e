"""The Train tab's "Audit" section: the finished run's rows whose label looks wrong (filter by class and reason,
accept suggestions), its duplicates and leakage, and the uploaded file back with audit columns or corrected.

Built inside the Train tab by `create_audit_section`, and shown whenever that tab shows a run's results
(`wire_audit_section` listens to its results_shown state), so the tab's own code stays as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from bertdemo import config, service
from bertdemo.errors import BertDemoError, RunNotFound
from bertdemo.ui.common import UI_EVENT, page_owned, ui_errors
from bertdemo.ui.html_tables import READ_ONLY_TABLE, html_table

ALL = "(all)"
COLUMNS = ["accepted", "row", "score", "given → suggested", "reason", "text"]


# --- pure views ---------------------------------------------------------------------------------------------


def summary_markdown(report: dict[str, Any]) -> str:
    """What the audit found, in a few plain lines: leakage first (it makes the scores look better than they are)."""
    lines = [f"**Data audit of {report['name']}.**"]
    leak = report.get("leakage") or {}
    if leak.get("leaked_rows"):
        lines.append(
            f"⚠️ **Validation leaks:** {leak['leaked_rows']:,} of {leak['val_rows']:,} validation rows "
            f"({leak['fraction']:.1%}) have the same text as a training row, so the validation scores above look "
            "better than the model is."
        )
    elif leak:
        lines.append(f"No leakage: none of the {leak['val_rows']:,} validation rows repeats a training row's text.")
    dup = report.get("duplicates") or {}
    if dup:
        example = (dup.get("conflict_examples") or [{}])[0].get("rows")
        lines.append(
            f"Duplicates: {dup['exact_rows']:,} row(s) repeat another exactly, {dup['near_rows']:,} once case, "
            f"spaces and punctuation are ignored; {dup['conflict_groups']:,} text(s) carry conflicting labels"
            + (f" (e.g. rows {', '.join(map(str, example))})." if example else ".")
        )
    summary = report.get("summary") or {}
    if summary.get("rows"):
        kinds = ", ".join(f"{n:,} {k}" for k, n in (summary.get("by_kind") or {}).items())
        lines.append(
            f"{summary.get('suspicious', 0):,} of {summary['rows']:,} rows look mislabeled (another class is likelier"
            + (f": {kinds}" if kinds else "")
            + "). Evidence: "
            + (", ".join(summary.get("evidence") or []) or "none")
            + "."
        )
        if summary.get("train_seconds"):
            share = 100 * summary["seconds"] / summary["train_seconds"]
            lines.append(f"The audit took {summary['seconds']:.1f} s ({share:.1f}% of the training time).")
    lines += [f"Note: {note}" for note in report.get("notes") or [] if "leaks" not in note]
    lines.append(
        "Rows are the data rows of your file (1 = the first row under the header). Tick a row under *Accept* to "
        "take its suggestion, then download the corrected file."
    )
    return "\n\n".join(lines)


def flagged(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows the summary counts as mislabeled (service.audit's `flagged`), most suspicious first."""
    return [r for r in rows if r.get("flagged")]


def filtered(rows: list[dict[str, Any]], label: str | None, kind: str | None) -> list[dict[str, Any]]:
    """The flagged rows of one given label and one reason kind (ALL or blank: any), most suspicious first."""
    return [
        r
        for r in flagged(rows)
        if (not label or label == ALL or r["given_label"] == label) and (not kind or kind == ALL or r["kind"] == kind)
    ]


def page_count(n_rows: int) -> int:
    """Pages of config.AUDIT_PAGE_ROWS rows (at least one, even when empty)."""
    return max(1, -(-n_rows // config.AUDIT_PAGE_ROWS))


def page_rows(rows: list[dict[str, Any]], page: int) -> list[dict[str, Any]]:
    """The rows of one page (0-based; clamped to the pages there are)."""
    page = min(max(0, page), page_count(len(rows)) - 1)
    return rows[page * config.AUDIT_PAGE_ROWS : (page + 1) * config.AUDIT_PAGE_ROWS]


def table_html(rows: list[dict[str, Any]], accepted: list[int]) -> str:
    """One page of flagged rows as a read-only HTML table (a Dataframe of 200 editable wrapped rows froze the
    browser for minutes when the results arrived); accepting is the checkbox list under it."""
    taken = set(accepted)
    cells = [
        [
            "✓" if r["row"] in taken else "",
            r["row"],
            "" if r.get("score") is None else f"{r['score']:.2f}",
            f"{r['given_label']} → {r['suggested_label']}",
            r["reason"],
            r.get("text") or "",
        ]
        for r in rows
    ]
    return html_table(COLUMNS, cells, ("reason", "text"), empty="No row of this label and reason looks mislabeled.")


def pager_text(n_rows: int, page: int) -> str:
    """Where this page is: "Rows 26-50 of 110 flagged"."""
    if not n_rows:
        return "No flagged row."
    page = min(max(0, page), page_count(n_rows) - 1)
    first = page * config.AUDIT_PAGE_ROWS + 1
    last = min(n_rows, first + config.AUDIT_PAGE_ROWS - 1)
    return f"Rows {first}–{last} of {n_rows:,} flagged (page {page + 1} of {page_count(n_rows)})."


def pick_choices(rows: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """The accept checkboxes of one page: "row 12: positive → negative"."""
    return [(f"row {r['row']}: {r['given_label']} → {r['suggested_label']}", int(r["row"])) for r in rows]


def accepted_after_pick(picked: list[int] | None, shown: list[int], accepted: list[int] | None) -> list[int]:
    """The accepted rows once the user ticked or unticked rows of the page shown."""
    taken = set(accepted or []) - set(shown)
    return sorted(taken | {int(p) for p in picked or []})


# --- the section ---------------------------------------------------------------------------------------------


def create_audit_section() -> dict[str, Any]:
    """The (hidden) Audit section's components; place it where a run's results go."""
    c: dict[str, Any] = {}
    c["audit_name"] = gr.State(None)  # the run whose audit is shown
    c["audit_rows"] = gr.State([])  # its flagged rows, most suspicious first
    c["audit_accepted"] = gr.State([])  # row numbers whose suggestion the user accepted
    c["audit_page"] = gr.State(0)  # the page of the filtered rows shown (0-based)
    with gr.Column(visible=False, elem_id="bd-audit") as c["audit_box"]:
        gr.Markdown("#### Audit: rows whose label looks wrong")
        c["audit_md"] = gr.Markdown(elem_id="bd-audit-summary")
        with gr.Row():
            c["audit_class"] = gr.Dropdown(label="Given label", choices=[ALL], value=ALL, interactive=True)
            c["audit_kind"] = gr.Dropdown(
                label="Reason", choices=[ALL, *service.AUDIT_KINDS], value=ALL, interactive=True
            )
            c["audit_accept_all"] = gr.Button("Accept every suggestion shown")
        # Read-only HTML, one page at a time: an editable gr.Dataframe of 200 wrapped rows froze the tab.
        c["audit_table"] = gr.HTML(elem_id="bd-audit-table", **READ_ONLY_TABLE)
        with gr.Row(equal_height=True):
            c["audit_prev"] = gr.Button("◀ Previous page", size="sm", interactive=False, scale=1)
            c["audit_pager"] = gr.Markdown(elem_id="bd-audit-pager")
            c["audit_next"] = gr.Button("Next page ▶", size="sm", interactive=False, scale=1)
        c["audit_pick"] = gr.CheckboxGroup(
            label="Accept the suggestion for (rows of this page)", choices=[], elem_id="bd-audit-accept"
        )
        with gr.Row():
            c["audit_file_btn"] = gr.Button("Download my file with audit columns")
            c["audit_fixed_btn"] = gr.Button("Download the corrected file", variant="primary")
        c["audit_file"] = gr.File(label="Audited file", visible=False, elem_id="bd-audit-file")
    return c


def _page_view(rows: list[dict[str, Any]], label: str | None, kind: str | None, page: int, accepted: list[int]):
    """Table, pager line, previous/next buttons, accept boxes and page number of one filtered page."""
    shown = filtered(rows or [], label, kind)
    page = min(max(0, int(page or 0)), page_count(len(shown)) - 1)
    rows_here = page_rows(shown, page)
    numbers = {int(r["row"]) for r in rows_here}
    return (
        table_html(rows_here, accepted or []),
        pager_text(len(shown), page),
        gr.Button(interactive=page > 0),
        gr.Button(interactive=page < page_count(len(shown)) - 1),
        gr.CheckboxGroup(choices=pick_choices(rows_here), value=sorted(numbers & set(accepted or []))),
        page,
    )


def wire_audit_section(
    c: dict[str, Any],
    results_shown: gr.State,
    job_id: gr.State,
    runner: service.JobRunner,
    owner: gr.BrowserState,
    root: Path | None,
) -> None:
    """Fill the section when the tab shows a finished run's results, and hide it when they go."""
    view_out = [c["audit_table"], c["audit_pager"], c["audit_prev"], c["audit_next"], c["audit_pick"], c["audit_page"]]
    shown_out = [c["audit_box"], c["audit_md"], c["audit_class"], c["audit_file"], *view_out]
    state_out = [c["audit_name"], c["audit_rows"], c["audit_accepted"]]
    nothing = (gr.skip(),) * (len(shown_out) + len(state_out))

    @ui_errors
    def show(shown: bool, job: str | None, owner_id: str | None, current: str | None):
        if not shown or not job:
            if current is None:  # never shown: no visible=False (see ui.common.hide_file)
                return nothing
            return gr.Column(visible=False), *(gr.skip(),) * (len(shown_out) - 1), None, [], []
        try:
            name = service.job_status(runner, job, owner_id).get("name")
            report = service.audit(name, 0, root, owner=owner_id)
        except (RunNotFound, BertDemoError):  # the job or its run is gone: nothing to audit
            return nothing
        rows = flagged(report["rows"])
        return (
            gr.Column(visible=True),
            summary_markdown(report),
            gr.Dropdown(choices=[ALL, *report["classes"]], value=ALL),
            gr.File(None, visible=False) if current else gr.skip(),
            *_page_view(rows, ALL, ALL, 0, []),
            name,
            rows,
            [],
        )

    results_shown.change(show, [results_shown, job_id, owner, c["audit_name"]], shown_out + state_out, **UI_EVENT)

    filters = [c["audit_rows"], c["audit_class"], c["audit_kind"]]

    def refilter(rows, label, kind, accepted):
        return _page_view(rows, label, kind, 0, accepted)

    def turn(step: int):
        def to_page(rows, label, kind, accepted, page):
            return _page_view(rows, label, kind, int(page or 0) + step, accepted)

        return to_page

    # The page's audit rows are its state: only its own browser reads them (ui.common.page_owned).
    mine = [owner, c["page_owner"]]
    c["audit_class"].input(page_owned(refilter), [*filters, c["audit_accepted"], *mine], view_out, **UI_EVENT)
    c["audit_kind"].input(page_owned(refilter), [*filters, c["audit_accepted"], *mine], view_out, **UI_EVENT)
    paged_in = [*filters, c["audit_accepted"], c["audit_page"]]
    c["audit_prev"].click(page_owned(turn(-1)), [*paged_in, *mine], view_out, **UI_EVENT)
    c["audit_next"].click(page_owned(turn(+1)), [*paged_in, *mine], view_out, **UI_EVENT)

    def pick(picked, rows, label, kind, accepted, page):
        """Ticks on this page: the accepted rows, and the table's marks, follow."""
        here = [int(r["row"]) for r in page_rows(filtered(rows or [], label, kind), int(page or 0))]
        taken = accepted_after_pick(picked, here, accepted)
        return taken, table_html(page_rows(filtered(rows or [], label, kind), int(page or 0)), taken)

    picked_in = [c["audit_pick"], *paged_in, *mine]
    c["audit_pick"].input(page_owned(pick), picked_in, [c["audit_accepted"], c["audit_table"]], **UI_EVENT)

    def accept_all(rows, label, kind, accepted, page):
        taken = sorted(set(accepted or []) | {int(r["row"]) for r in filtered(rows or [], label, kind)})
        return taken, *_page_view(rows, label, kind, page, taken)

    accept_out = [c["audit_accepted"], *view_out]
    c["audit_accept_all"].click(page_owned(accept_all), [*paged_in, *mine], accept_out, **UI_EVENT)

    @ui_errors
    def download(name, owner_id):
        return gr.File(str(service.audit_csv(name, None, root, owner=owner_id)), visible=True)

    @ui_errors
    def corrected(name, accepted, owner_id):
        if not accepted:
            raise BertDemoError("No suggestion accepted yet: tick the rows to fix under Accept, then download.")
        return gr.File(str(service.audit_csv(name, list(accepted), root, owner=owner_id)), visible=True)

    c["audit_file_btn"].click(download, [c["audit_name"], owner], c["audit_file"], **UI_EVENT)
    c["audit_fixed_btn"].click(corrected, [c["audit_name"], c["audit_accepted"], owner], c["audit_file"], **UI_EVENT)
