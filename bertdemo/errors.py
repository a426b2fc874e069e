"""User-facing errors: each carries a one-line message that says what to do."""


def one_line(message: str) -> str:
    """Collapse whitespace so a message fits one line (a toast, an AppError, `error:` on stderr)."""
    return " ".join(str(message).split())


def first_line(exc: BaseException) -> str:
    """The first line of a library's error message (its type name when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class BertDemoError(Exception):
    """A problem the user can fix; shown as one line (UI: gr.Error, CLI: exit 2).

    `cli_hint` names the command-line flag that fixes it: the CLI appends it, the UI and API never show it.
    """

    def __init__(self, message: str = "", *, cli_hint: str = "") -> None:
        super().__init__(message)
        self.cli_hint = cli_hint


class DataError(BertDemoError):
    """The CSV cannot be used as it is (format, columns, labels, size)."""


class ColumnError(DataError):
    """The text or label column cannot be found or was named wrongly; `columns` lists the file's columns."""

    def __init__(self, message: str = "", columns: list[str] = (), *, cli_hint: str = "") -> None:
        super().__init__(message, cli_hint=cli_hint)
        self.columns = list(columns)


class NotOwner(BertDemoError):
    """A shared run (shipped with the app, or saved by the command line) cannot be changed from the app."""


class ModelLoadError(BertDemoError):
    """A base model id or path cannot be loaded."""


class RunNotFound(BertDemoError):
    """No saved run with that name in models/."""


class RunNameError(BertDemoError):
    """A run name is unsafe or already taken."""


class TrainingError(BertDemoError):
    """Training failed for a reason the user can act on (NaN loss, disk full...)."""


class TrainingStopped(BertDemoError):
    """Training was stopped on request; nothing was saved."""


class BusyError(BertDemoError):
    """Another training is running on this machine."""


class ExportError(BertDemoError):
    """ONNX export, optimization or quantization failed."""


class UnknownBackend(BertDemoError):
    """A back-end name that bertdemo does not know (see config.BACKENDS)."""


class NotExported(ExportError):
    """The run has no ONNX export yet, or not the variant asked for."""


class Cancelled(BertDemoError):
    """The work was dropped because whoever asked for it went away (the page was closed or reloaded)."""


class OverQuota(BertDemoError):
    """A visitor's runs (or all visitors' runs, or the temporary downloads) use all the room the operator allows."""
