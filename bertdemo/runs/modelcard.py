"""A Hugging Face model card (README.md) for a saved run: YAML front matter, results, data, settings, usage.

Written at save time (training) and again after an export (with the ONNX variants and their checks), so a
downloaded run or ONNX folder explains itself on the Hub or on disk.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bertdemo import config
from bertdemo.runs import store
from bertdemo.runs.records import settings_of

CARD_FILE = "README.md"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")  # owner/name: a local path never goes in base_model
_EPOCH_COLUMNS = (  # history key, column title
    ("epoch", "epoch"),
    ("train_loss", "train loss"),
    ("train_accuracy", "train acc."),
    ("val_loss", "val. loss"),
    ("val_accuracy", "val. accuracy"),
    ("val_f1_macro", "val. macro-F1"),
)
_SETTINGS = (
    ("epochs", "epochs"),
    ("learning_rate", "learning rate"),
    ("batch_size", "batch size"),
    ("max_length", "max length (tokens)"),
    ("truncation", "truncation of longer texts"),
    ("warmup_ratio", "warm-up ratio"),
    ("weight_decay", "weight decay"),
    ("early_stopping_patience", "early stopping patience"),
    ("seed", "seed"),
)


def write_model_card(run_dir: str | Path, info: dict[str, Any]) -> Path:
    """Write <run_dir>/README.md from a run's run.json contents (and onnx/README.md once exported)."""
    run_dir = Path(run_dir)
    card = model_card(info)
    path = run_dir / CARD_FILE
    store.write_text_atomic(path, card)  # the run may be live: a download zipping it never gets half a card
    onnx_dir = run_dir / config.ONNX_SUBDIR
    if onnx_dir.is_dir():  # the ONNX download is that folder alone: it carries the card too
        store.write_text_atomic(onnx_dir / CARD_FILE, card)
    return path


def model_card(info: dict[str, Any]) -> str:
    """The card's text: front matter, then markdown sections."""
    return front_matter(info) + "\n" + body(info)


def front_matter(info: dict[str, Any]) -> str:
    """YAML between --- lines: base_model, pipeline_tag, metrics, model-index (validation results), labels."""
    from huggingface_hub import EvalResult, ModelCardData

    name = str(info.get("name") or "bertdemo-run")
    metrics = info.get("metrics") or {}
    source = str((info.get("data") or {}).get("source") or "labeled CSV")
    results = [
        EvalResult(
            task_type="text-classification",
            task_name="Text Classification",
            dataset_type="csv",
            dataset_name=source,
            dataset_split="validation",
            metric_type=metric,
            metric_name=title,
            metric_value=round(float(metrics[key]), 4),
            metric_args=args,
        )
        for key, metric, title, args in (
            ("accuracy", "accuracy", "Accuracy", None),
            ("f1_macro", "f1", "Macro F1", {"average": "macro"}),
        )
        if metrics.get(key) is not None
    ]
    base = str(info.get("base_model") or "")
    exported = bool((info.get("exports") or {}).get("variants"))
    data = ModelCardData(
        model_name=name,
        base_model=base if _HUB_ID.match(base) else None,
        library_name="transformers",
        pipeline_tag="text-classification",
        metrics=["accuracy", "f1"],
        tags=["text-classification", "bertdemo", *(["onnx"] if exported else [])],
        eval_results=results or None,
        labels=[str(x) for x in info.get("labels") or []],
    )
    return f"---\n{data.to_yaml()}\n---\n"


def body(info: dict[str, Any]) -> str:
    """The markdown sections under the front matter."""
    name = str(info.get("name") or "bertdemo-run")
    labels = [str(x) for x in info.get("labels") or []]
    parts = [
        f"# {name}\n",
        f"A {len(labels)}-class text classifier fine-tuned from `{info.get('base_model', '?')}` with "
        f"bertdemo on {info.get('created', '?')}. Classes: " + ", ".join(f"`{lab}`" for lab in labels) + ".\n",
        _results(info),
        _baseline(info),
        _data(info),
        _audit(info),
        _settings(info),
        _epochs(info),
        _onnx(info),
        _usage(info),
    ]
    return "\n".join(p for p in parts if p)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, float):
            return f"{v:.4f}" if abs(v) < 1000 else f"{v:,.0f}"
        return str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]) + "\n"


def _results(info: dict[str, Any]) -> str:
    m = info.get("metrics") or {}
    rows = [
        [t, m.get(k)]
        for k, t in (
            ("accuracy", "accuracy"),
            ("f1_macro", "macro-F1"),
            ("precision_macro", "macro precision"),
            ("recall_macro", "macro recall"),
        )
        if m.get(k) is not None
    ]
    text = "## Validation results\n\n" + (_table(["metric", "value"], rows) if rows else "Not recorded.\n")
    per_class = m.get("per_class") or {}
    if per_class:
        text += "\n" + _table(
            ["class", "precision", "recall", "F1", "support"],
            [[lab, v.get("precision"), v.get("recall"), v.get("f1"), v.get("support")] for lab, v in per_class.items()],
        )
    return text


def _baseline(info: dict[str, Any]) -> str:
    base, m = info.get("baseline"), info.get("metrics") or {}
    if not base:
        return "## Baseline\n\nNo baseline was recorded for this run (it was trained before bertdemo added one).\n"
    rows = [
        ["TF-IDF + logistic regression (same split)", base.get("accuracy"), base.get("f1_macro")],
        ["this model", m.get("accuracy"), m.get("f1_macro")],
    ]
    return "## Baseline\n\n" + _table(["model", "accuracy", "macro-F1"], rows)


def _data(info: dict[str, Any]) -> str:
    d = info.get("data") or {}
    rows = [
        [k, d.get(k)]
        for k in ("source", "rows", "text_column", "label_column", "train_rows", "val_rows")
        if d.get(k) is not None
    ]
    text = "## Data\n\n" + (_table(["", ""], rows) if rows else "Not recorded.\n")
    train, val = d.get("train_class_counts") or {}, d.get("val_class_counts") or {}
    if train or val:
        labels = list(dict.fromkeys([*train, *val]))
        text += "\n" + _table(
            ["class", "train rows", "validation rows"], [[x, train.get(x), val.get(x)] for x in labels]
        )
    return text


def _audit(info: dict[str, Any]) -> str:
    """What the data audit found: duplicates, leakage (which inflates the validation scores), suspicious labels."""
    found = info.get("audit") or {}
    if not found.get("available"):
        return "## Data audit\n\nNot recorded (the run was saved before bertdemo audited its data).\n"
    dup, leak, bad = found.get("duplicates") or {}, found.get("leakage") or {}, found.get("mislabeled") or {}
    rows = [
        ["exact duplicate rows", dup.get("exact_rows")],
        ["near-duplicate rows (case, spaces, punctuation)", dup.get("near_rows")],
        ["texts with conflicting labels", dup.get("conflict_groups")],
        ["validation rows also in training (leakage)", leak.get("leaked_rows")],
        ["rows whose label looks wrong (another class likelier)", bad.get("suspicious")],
    ]
    text = "## Data audit\n\n" + _table(["finding", "rows"], [r for r in rows if r[1] is not None])
    if leak.get("leaked_rows"):
        text += (
            f"\nValidation leaks: {leak['leaked_rows']} of {leak['val_rows']} validation rows repeat a training "
            "row's text, so the validation results above are optimistic.\n"
        )
    if bad.get("evidence"):
        text += f"\nLabels ranked from: {', '.join(bad['evidence'])} (`python -m bertdemo audit NAME`).\n"
    return text


def _settings(info: dict[str, Any]) -> str:
    p = info.get("params") or {}
    rows = [[title, p.get(key)] for key, title in _SETTINGS if p.get(key) is not None]
    rows.append(["optimizer", config.TRAIN_OPTIMIZER])
    dropout = (p.get("chosen") or {}).get("attention_dropout")
    if dropout:  # set for fine-tuning (config.TRAIN_ATTENTION_DROPOUT); saved in config.json as trained
        rows.append(["attention dropout", dropout])
    warm = info.get("length_warmup")
    if warm:  # training/lengthwarmup.py: the first epoch(s) read shorter texts; the model reads max_length
        rows.append(["length warm-up", f"first {warm['epochs']} epoch(s) at {warm['max_length']} tokens"])
    dev = info.get("device") or {}
    if dev:
        rows.append(["device", f"{dev.get('device', '?')} ({dev.get('name', '?')}), {dev.get('precision', 'fp32')}"])
    for key, title in (("train_seconds", "training time (s)"), ("samples_per_second", "samples/s")):
        if info.get(key) is not None:
            rows.append([title, info[key]])
    return "## Training settings\n\n" + _table(["setting", "value"], rows)


def _epochs(info: dict[str, Any]) -> str:
    history = info.get("history") or []
    if not history:
        return ""
    rows = [[rec.get(k) for k, _ in _EPOCH_COLUMNS] for rec in history]
    for row in rows:
        row[0] = f"{row[0]:g}" if isinstance(row[0], (int, float)) else row[0]  # 1, not 1.0000
    return "## Per-epoch results\n\n" + _table([t for _, t in _EPOCH_COLUMNS], rows)


def _onnx(info: dict[str, Any]) -> str:
    exports = info.get("exports") or {}
    variants = exports.get("variants") or {}
    if not variants:
        return f"## ONNX\n\nNot exported yet (`python -m bertdemo export {info.get('name', 'NAME')} --quantize`).\n"
    rows = [
        [
            v,
            x.get("file"),
            x.get("size_mb"),
            x.get("max_abs_diff"),
            x.get("agreement"),
            x.get("accuracy"),
            "passed" if x.get("passed") else "FAILED",
        ]
        for v, x in variants.items()
    ]
    return (
        f"## ONNX\n\nExported on {exports.get('created', '?')} with onnxruntime {exports.get('onnxruntime', '?')}; "
        f"each variant checked against PyTorch on {exports.get('checked_texts', '?')} "
        f"{exports.get('check_source', '')} texts.\n\n"
        + _table(["variant", "file", "MB", "max logit diff", "agreement", "accuracy", "check"], rows)
    )


def _usage(info: dict[str, Any]) -> str:
    name = str(info.get("name") or "bertdemo-run")
    settings = settings_of(info)
    max_length, head_tail = settings.max_length, settings.truncation == "head_tail"
    note = _head_tail_usage(name, max_length) if head_tail else ""
    first = (
        _mean_pool_usage(name, max_length, info)
        if info.get("recipe") in _MEAN_POOL_RECIPES or info.get("classifier_pooling") == "mean"
        else f"""```python
from transformers import pipeline

classifier = pipeline("text-classification", model="{name}")
print(classifier("An absolute delight from start to finish.", truncation=True, max_length={max_length}))
```"""
    )
    return f"""## How to use

From the folder that contains `{name}/` (the unzipped download):

{first}

The ONNX export (`{name}/{config.ONNX_SUBDIR}/`, after `python -m bertdemo export {name}`) with Optimum and ONNX Runtime
(`file_name="{config.ONNX_FILES["onnx-int8"]}"` for the int8 variant):

```python
from optimum.onnxruntime import ORTModelForSequenceClassification
from transformers import AutoTokenizer, pipeline

onnx_dir = "{name}/{config.ONNX_SUBDIR}"
model = ORTModelForSequenceClassification.from_pretrained(onnx_dir, file_name="{config.ONNX_FILES["onnx"]}")
tokenizer = AutoTokenizer.from_pretrained(onnx_dir)
classifier = pipeline("text-classification", model=model, tokenizer=tokenizer)
print(classifier("An absolute delight from start to finish.", truncation=True, max_length={max_length}))
```
{note}"""


# runs whose classifier reads mean-pooled vectors (and fine-tuned ones that say so: LP-FT, classifier_pooling)
_MEAN_POOL_RECIPES = ("contrastive", "linear probe")


def _mean_pool_usage(name: str, max_length: int, info: dict[str, Any]) -> str:
    """Plain transformers for a mean-pooling run: the pipeline would read the [CLS] pooler this run never trained."""
    normalize = "\n    vector = torch.nn.functional.normalize(vector, dim=-1)" if _normalized(info) else ""
    return f"""This run's classifier reads the mean of the token vectors (as its sentence encoder was trained), not the
[CLS] pooler that `pipeline("text-classification")` would read; in plain transformers:

```python
import torch
from safetensors.torch import load_file
from transformers import AutoModel, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained("{name}")
encoder = AutoModel.from_pretrained("{name}", add_pooling_layer=False).eval()
head = load_file("{name}/model.safetensors")
batch = tokenizer(["An absolute delight from start to finish."], truncation=True, max_length={max_length},
                  padding=True, return_tensors="pt")
with torch.inference_mode():
    tokens = encoder(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    vector = (tokens * mask).sum(1) / mask.sum(1){normalize}
    probs = (vector @ head["classifier.weight"].T + head["classifier.bias"]).softmax(-1)[0]
print([{{"label": encoder.config.id2label[int(probs.argmax())], "score": float(probs.max())}}])
```"""


def _normalized(info: dict[str, Any]) -> bool:
    """Whether the run's pooled vector is L2-normalized (config.json, written beside run.json)."""
    return bool(info.get("pooling_normalize"))


def _head_tail_usage(name: str, max_length: int) -> str:
    """A snippet that tokenizes long texts as a head+tail run was trained (tokenizing.encode, without bertdemo)."""
    return f"""
This run was trained with head+tail truncation: of a text longer than {max_length} tokens it keeps the first
{config.HEAD_TAIL_HEAD_FRACTION:.0%} and the last tokens (Sun et al. 2019), where the pipeline above keeps the
first ones only. To answer long texts as it was trained (as `python -m bertdemo predict` does):

```python
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained("{name}")
model = AutoModelForSequenceClassification.from_pretrained("{name}").eval()


def head_tail(text, max_length={max_length}, head_fraction={config.HEAD_TAIL_HEAD_FRACTION}):
    \"\"\"The model's inputs for one text: its first and last tokens when it is too long, as in training.\"\"\"
    ids = tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]
    budget = max_length - tokenizer.num_special_tokens_to_add()
    if len(ids) > budget:
        head = max(1, round(budget * head_fraction))
        ids = ids[:head] + ids[len(ids) - (budget - head) :]
    return tokenizer.prepare_for_model(ids, return_tensors="pt", prepend_batch_axis=True)


review = "The first hour drags on and on. " * 60 + "But the ending is an absolute delight."
with torch.inference_mode():
    probs = model(**head_tail(review)).logits.softmax(-1)[0]
print([{{"label": model.config.id2label[int(probs.argmax())], "score": float(probs.max())}}])
```
"""
