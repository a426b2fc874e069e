"""The quick model: a linear probe on the frozen encoder, saved as its own run before fine-tuning starts.

It takes seconds for a few hundred rows on a CPU (one forward pass per text, then logistic regression), so a
visitor can try it (Try it, Predict, Export, Compare) while fine-tuning runs, and keeps it if fine-tuning is
stopped or fails. It is saved as models/<name>-quick, a complete run like any other, and removed once the
final run is saved (run.json's `quick_model` keeps its scores).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from bertdemo import config
from bertdemo.errors import BertDemoError, RunNameError, TrainingStopped, one_line
from bertdemo.runs import store
from bertdemo.tokenizing import load_classifier
from bertdemo.training import probe
from bertdemo.training.monitor import TrainingMonitor
from bertdemo.training.runsave import report_and_audit, run_info, save_run

log = logging.getLogger(__name__)

RECIPE = "linear probe"


def quick_name(name: str) -> str:
    """The quick model's run name for a run called `name`."""
    return store.sanitize_name(name + config.QUICK_MODEL_SUFFIX)


def supports(base_path: str) -> bool:
    """True when the base model is BERT (the mean-pooling classifier's encoder)."""
    from transformers import AutoConfig

    return AutoConfig.from_pretrained(base_path).model_type == "bert"


def train_quick_model(
    base, tokenizer, split, cfg, name: str, monitor: TrainingMonitor, pooling: dict[str, bool], **save: Any
) -> dict[str, Any] | None:
    """Fit and save the quick model; tell the monitor. None (and a logged reason) when it cannot be made.

    `save`: root, owner, data_summary, baseline, dev, data_file (as train_run has them).
    A failure here never stops fine-tuning: the quick model is a bonus, not the run.
    """
    started = time.perf_counter()
    quick = quick_name(name)
    try:
        store.check_new_name(quick, save.get("root"), save.get("owner"))
        if not supports(base.path):
            return None
        label2id = {lab: i for i, lab in enumerate(split.labels)}
        model = load_classifier(
            base.path,
            pooling=pooling,
            num_labels=len(split.labels),
            id2label=dict(enumerate(split.labels)),
            label2id=label2id,
            ignore_mismatched_sizes=True,  # a base that is already a classifier gets a fresh head
        )
        train_ids = [label2id[y] for y in split.train_labels]
        # A sample of a large file: the probe's time then stays a small share of fine-tuning's (accuracy_bench).
        rows = probe.sample_rows(train_ids, config.QUICK_MODEL_MAX_ROWS, cfg.seed)
        length = probe_length(cfg.max_length)
        val_logits = probe.fit_probe(
            model,
            tokenizer,
            [split.train_texts[i] for i in rows],
            [train_ids[i] for i in rows],
            split.val_texts,
            len(split.labels),
            length,
            cfg.truncation,
            cfg.seed,
            precision=cfg.precision,  # bf16 only where training itself runs in bf16 (a CPU with bf16 units)
        )
        seconds = time.perf_counter() - started
        info = _quick_info(quick, base, cfg, split, val_logits, seconds, save, len(rows), length)
        info["pooling_normalize"] = model.normalize  # the model card's plain-transformers snippet needs it
        path = save_run(
            store.staging_dir(save.get("root")), quick, save.get("root"), model, tokenizer, split, info,
            info.pop("_audited"), save.get("data_file"),
        )  # fmt: skip
    except (RunNameError, BertDemoError, OSError, ValueError) as exc:
        # Info, not a warning: the status (and the final error, if fine-tuning fails the same way) tells the user.
        log.info("quick model of run %s not made: %s", name, one_line(str(exc)))
        monitor.set_quick({"run": None, "error": one_line(str(exc))})
        return None
    metrics = info["metrics"]
    result = {
        "run": quick,
        "path": str(path),
        "seconds": round(seconds, 2),
        "accuracy": metrics["accuracy"],
        "f1_macro": metrics["f1_macro"],
        "accuracy_interval": metrics.get("accuracy_interval"),
        "fitted_rows": len(rows),
        "max_length": length,
    }
    monitor.set_quick(result)
    # the probe's head, for fine-tuning that starts from it (LP-FT); not shown nor recorded (public_info)
    head = (model.classifier.weight.detach().cpu().numpy(), model.classifier.bias.detach().cpu().numpy())
    return {**result, HEAD: head}


HEAD = "head"


def probe_length(max_length: int) -> int:
    """The tokens the quick model reads: the run's max length, at most config.QUICK_MODEL_MAX_LENGTH."""
    return min(max_length, config.QUICK_MODEL_MAX_LENGTH)


def start_from_probe(model, quick: dict[str, Any]) -> None:
    """LP-FT: write the quick model's fitted head into the classifier that fine-tuning starts from."""
    probe.set_head(model, *quick[HEAD])


def public_info(quick: dict[str, Any]) -> dict[str, Any]:
    """What a run records of its quick model (run.json's `quick_model`): not its folder, not its weights."""
    return {k: v for k, v in quick.items() if k not in ("path", HEAD)}


def _quick_info(
    quick: str, base, cfg, split, val_logits, seconds: float, save: dict[str, Any], fitted: int, length: int
) -> dict[str, Any]:
    report, findings, audited = report_and_audit(split, val_logits, cfg.seed, save.get("data_file"))
    m = report["metrics"]
    history = [{"epoch": 1.0, "step": 1, "val_accuracy": m["accuracy"], "val_f1_macro": m["f1_macro"]}]
    total = len(split.train_texts)
    rows = "" if fitted == total else f", fitted on a stratified sample of {fitted:,} of the {total:,} training rows"
    chosen = {
        **cfg.chosen,
        "recipe": f"{RECIPE}: logistic regression on the frozen encoder's mean-pooled vectors (the quick model)" + rows,
    }
    if length < cfg.max_length:  # the quick run predicts as it was fitted: at its own, shorter length
        chosen["max_length"] = (
            f"{length} (the quick model reads at most {config.QUICK_MODEL_MAX_LENGTH} tokens, to be ready in seconds; "
            f"fine-tuning reads {cfg.max_length})"
        )
    info = run_info(
        quick, base, replace(cfg, chosen=chosen, max_length=length), split, save.get("data_summary"), history, report,
        save.get("dev") or {}, seconds, 0.0,
    )  # fmt: skip
    info.update(recipe=RECIPE, quick_model_of=Path(quick).name[: -len(config.QUICK_MODEL_SUFFIX)])
    info["baseline"] = save.get("baseline")
    info["audit"] = findings
    if save.get("owner"):
        info["owner"] = save["owner"]
    info["_audited"] = audited
    return info


@contextmanager
def kept_if_needed(quick: dict[str, Any], monitor: TrainingMonitor, root: Path | None) -> Iterator[None]:
    """Around fine-tuning: the quick run goes once the final run is saved, or on "Stop and discard"; it stays
    (and the error says so) when fine-tuning fails, or when "Stop, keep best" came before any epoch to keep.

    `quick` is filled in by training once the quick model is saved (empty until then, or when there is none).
    """
    try:
        yield
    except KeyboardInterrupt:  # SIGTERM: the app escalating a stop the step in flight did not heed in time
        if quick and monitor.stop_requested and not monitor.stop_keeps_best:
            _remove(quick, root, monitor)  # "Stop and discard" means the quick run too
        raise
    except TrainingStopped as exc:
        if not quick:
            raise
        if not monitor.stop_keeps_best:
            _remove(quick, root, monitor)
            raise
        if monitor.history:  # pragma: no cover - a kept epoch returns normally
            raise
        raise TrainingStopped(f"Training was stopped before the first epoch ended: {_kept(quick)}") from exc
    except BertDemoError as exc:
        if not quick:
            raise
        raise type(exc)(f"{exc} {_kept(quick)}") from exc
    if quick:
        _remove(quick, root, monitor)


def _kept(quick: dict[str, Any]) -> str:
    return f"the quick model (validation accuracy {quick['accuracy']:.3f}) is kept as run {quick['run']!r}."


def _remove(quick: dict[str, Any], root: Path | None, monitor: TrainingMonitor) -> None:
    try:
        store.delete_run(Path(quick["path"]).name, root)  # its folder: name--<owner tag> when the name was taken
    except BertDemoError:  # already deleted by its owner
        pass
    shown = {k: v for k, v in quick.items() if k != HEAD}
    monitor.set_quick({**shown, "removed": True})  # the status stops offering it
