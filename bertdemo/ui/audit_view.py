"""The Train tab's "Audit" section: the finished run's rows whose label looks wrong (filter by class and reason,
accept suggestions), its duplicates and leakage, and the uploaded file back with audit columns or corrected.

Built inside the Train tab by `create_audit_section`, and shown whenever that tab shows a run's results
(`wire_audit_section` listens to its results_shown state), so the tab's own code stays as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from bertdemo import config, service
from bertdemo.errors import BertDemoError, RunNotFound
from bertdemo.ui.common import UI_EVENT, page_owned, ui_errors

ALL = "(all)"
COLUMNS = ["accept", "row", "score", "given label", "suggested", "reason", "text"]


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
        "Rows are the data rows of your file (1 = the first row under the header). Tick *accept* to take a "
        "suggestion, then download the corrected file."
    )
    return "\n\n".join(lines)


def filtered(rows: list[dict[str, Any]], label: str | None, kind: str | None) -> list[dict[str, Any]]:
    """The rows of one given label and one reason kind (ALL or blank: any), most suspicious first, capped."""
    keep = [
        r
        for r in rows
        if (not label or label == ALL or r["given_label"] == label) and (not kind or kind == ALL or r["kind"] == kind)
    ]
    return keep[: config.AUDIT_UI_ROWS]


def table_frame(rows: list[dict[str, Any]], accepted: list[int]) -> pd.DataFrame:
    """The table shown: an accept tick per row, then what the audit says about it."""
    taken = set(accepted)
    return pd.DataFrame(
        [
            [r["row"] in taken, r["row"], r["score"], r["given_label"], r["suggested_label"], r["reason"], r["text"]]
            for r in rows
        ],
        columns=COLUMNS,
    )


def accepted_after_edit(frame: pd.DataFrame, accepted: list[int]) -> list[int]:
    """The accepted rows once the user ticked or unticked rows in the (filtered) table."""
    taken = set(accepted)
    if frame is None or len(frame) == 0:
        return sorted(taken)
    for tick, row in zip(frame["accept"], frame["row"], strict=True):
        number = int(row)
        if str(tick).lower() in ("true", "1"):
            taken.add(number)
        else:
            taken.discard(number)
    return sorted(taken)


# --- the section ---------------------------------------------------------------------------------------------


def create_audit_section() -> dict[str, Any]:
    """The (hidden) Audit section's components; place it where a run's results go."""
    c: dict[str, Any] = {}
    c["audit_name"] = gr.State(None)  # the run whose audit is shown
    c["audit_rows"] = gr.State([])  # its ranked rows
    c["audit_accepted"] = gr.State([])  # row numbers whose suggestion the user accepted
    with gr.Column(visible=False, elem_id="bd-audit") as c["audit_box"]:
        gr.Markdown("#### Audit: rows whose label looks wrong")
        c["audit_md"] = gr.Markdown(elem_id="bd-audit-summary")
        with gr.Row():
            c["audit_class"] = gr.Dropdown(label="Given label", choices=[ALL], value=ALL, interactive=True)
            c["audit_kind"] = gr.Dropdown(
                label="Reason", choices=[ALL, *service.AUDIT_KINDS], value=ALL, interactive=True
            )
            c["audit_accept_all"] = gr.Button("Accept every suggestion shown")
        c["audit_table"] = gr.Dataframe(
            headers=COLUMNS,
            datatype=["bool", "number", "number", "str", "str", "str", "str"],
            interactive=True,
            static_columns=list(range(1, len(COLUMNS))),  # only the accept ticks can change
            wrap=True,
            max_height=420,
            column_widths=["9%", "6%", "7%", "10%", "10%", "24%", "34%"],
            elem_id="bd-audit-table",
        )
        with gr.Row():
            c["audit_file_btn"] = gr.Button("Download my file with audit columns")
            c["audit_fixed_btn"] = gr.Button("Download the corrected file", variant="primary")
        c["audit_file"] = gr.File(label="Audited file", visible=False, elem_id="bd-audit-file")
    return c


def wire_audit_section(
    c: dict[str, Any],
    results_shown: gr.State,
    job_id: gr.State,
    runner: service.JobRunner,
    owner: gr.BrowserState,
    root: Path | None,
) -> None:
    """Fill the section when the tab shows a finished run's results, and hide it when they go."""
    shown_out = [c["audit_box"], c["audit_md"], c["audit_class"], c["audit_table"], c["audit_file"]]
    state_out = [c["audit_name"], c["audit_rows"], c["audit_accepted"]]

    @ui_errors
    def show(shown: bool, job: str | None, owner_id: str | None, current: str | None):
        if not shown or not job:
            if current is None:  # never shown: no visible=False (see ui.common.hide_file)
                return (gr.skip(),) * (len(shown_out) + len(state_out))
            return gr.Column(visible=False), *(gr.skip(),) * (len(shown_out) - 1), None, [], []
        try:
            name = service.job_status(runner, job, owner_id).get("name")
            report = service.audit(name, 0, root, owner=owner_id)
        except (RunNotFound, BertDemoError):  # the job or its run is gone: nothing to audit
            return (gr.skip(),) * (len(shown_out) + len(state_out))
        rows = report["rows"]
        return (
            gr.Column(visible=True),
            summary_markdown(report),
            gr.Dropdown(choices=[ALL, *report["classes"]], value=ALL),
            table_frame(filtered(rows, ALL, ALL), []),
            gr.File(None, visible=False) if current else gr.skip(),
            name,
            rows,
            [],
        )

    results_shown.change(show, [results_shown, job_id, owner, c["audit_name"]], shown_out + state_out, **UI_EVENT)

    def refilter(rows, label, kind, accepted):
        return table_frame(filtered(rows or [], label, kind), accepted or [])

    # The page's audit rows are its state: only its own browser reads them (ui.common.page_owned).
    filters = [c["audit_rows"], c["audit_class"], c["audit_kind"], c["audit_accepted"], owner, c["page_owner"]]
    c["audit_class"].input(page_owned(refilter), filters, c["audit_table"], **UI_EVENT)
    c["audit_kind"].input(page_owned(refilter), filters, c["audit_table"], **UI_EVENT)
    edited = [c["audit_table"], c["audit_accepted"], owner, c["page_owner"]]
    c["audit_table"].input(page_owned(accepted_after_edit), edited, c["audit_accepted"], **UI_EVENT)

    def accept_all(rows, label, kind, accepted):
        taken = sorted(set(accepted or []) | {r["row"] for r in filtered(rows or [], label, kind)})
        return taken, table_frame(filtered(rows or [], label, kind), taken)

    c["audit_accept_all"].click(page_owned(accept_all), filters, [c["audit_accepted"], c["audit_table"]], **UI_EVENT)

    @ui_errors
    def download(name, owner_id):
        return gr.File(str(service.audit_csv(name, None, root, owner=owner_id)), visible=True)

    @ui_errors
    def corrected(name, accepted, owner_id):
        if not accepted:
            raise BertDemoError("No suggestion accepted yet: tick 'accept' on the rows to fix, then download.")
        return gr.File(str(service.audit_csv(name, list(accepted), root, owner=owner_id)), visible=True)

    c["audit_file_btn"].click(download, [c["audit_name"], owner], c["audit_file"], **UI_EVENT)
    c["audit_fixed_btn"].click(corrected, [c["audit_name"], c["audit_accepted"], owner], c["audit_file"], **UI_EVENT)
