"""The model card (README.md) of a run: Hugging Face front matter, sections, and load snippets that work."""

from __future__ import annotations

import json
import os
import re
import zipfile

import pytest
import yaml

from bertdemo import config
from bertdemo.data.splits import split_data
from bertdemo.onnx.export import export_run
from bertdemo.runs import store
from bertdemo.runs.modelcard import model_card, write_model_card
from bertdemo.training.hyperparameters import TrainConfig
from bertdemo.training.trainer import train_run
from tests.conftest import tiny_rows
from tests.helpers import labeled, make_tiny_run


def front_matter(card: str) -> dict:
    match = re.match(r"^---\n(.*?)\n---\n", card, re.S)
    assert match, card[:200]
    return yaml.safe_load(match.group(1))


def code_blocks(card: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", card, re.S)


def run_snippet(code: str, cwd) -> list:
    """Run one of the card's snippets from the folder holding the run, as a user would; returns what it printed."""
    printed: list = []
    old = os.getcwd()
    os.chdir(cwd)
    try:
        exec(compile(code, "<model card>", "exec"), {"print": printed.append})  # noqa: S102 - our own card
    finally:
        os.chdir(old)
    return printed


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_model_dir):
    """A tiny run trained for real (so the card is written at save time), then exported with int8."""
    root = tmp_path_factory.mktemp("models")
    split = split_data(labeled(tiny_rows(12)), 0.25, 0)
    info = train_run(split, TrainConfig(model=str(tiny_model_dir), epochs=2, batch_size=8), "card-run", root=root)
    card_at_save = (store.run_dir("card-run", root) / "README.md").read_text(encoding="utf-8")
    export_run("card-run", quantize=True, root=root)
    return root, info, card_at_save


def test_card_is_written_at_save_time(trained):
    _, info, card = trained
    meta = front_matter(card)
    assert meta["pipeline_tag"] == "text-classification" and meta["library_name"] == "transformers"
    assert meta["labels"] == ["negative", "positive"] and "base_model" not in meta  # a local folder is no Hub id
    results = meta["model-index"][0]["results"][0]
    assert results["dataset"]["split"] == "validation"
    values = {m["type"]: m["value"] for m in results["metrics"]}
    assert values == {
        "accuracy": round(info["metrics"]["accuracy"], 4),
        "f1": round(info["metrics"]["f1_macro"], 4),
    }
    for heading in ("## Validation results", "## Baseline", "## Data", "## Training settings", "## Per-epoch"):
        assert heading in card
    assert "TF-IDF + logistic regression (same split)" in card and trained[1]["baseline"]["method"] == "tfidf+logreg"
    epochs = card.split("## Per-epoch results")[1].split("\n## ")[0].strip().splitlines()[2:]
    assert [row.split(" | ")[0] for row in epochs] == ["| 1", "| 2"]  # one row per epoch
    assert "Not exported yet" in card


def test_export_updates_the_card_and_downloads_carry_it(trained):
    root, _, _ = trained
    run = store.run_dir("card-run", root)
    card = (run / "README.md").read_text(encoding="utf-8")
    exports = store.load_run("card-run", root)["exports"]
    assert "onnx" in front_matter(card)["tags"] and "Not exported yet" not in card
    for variant, v in exports["variants"].items():
        assert re.search(rf"\| {variant} \| {v['file']} \| .* \| {'passed' if v['passed'] else 'FAILED'} \|", card)
    assert (run / config.ONNX_SUBDIR / "README.md").read_text(encoding="utf-8") == card  # the ONNX zip has it too
    with zipfile.ZipFile(store.zip_run("card-run", root.parent, root)) as zf:
        assert "card-run/README.md" in zf.namelist()


def test_both_load_snippets_work(trained):
    """The card's pipeline() and ORTModelForSequenceClassification snippets, run as written."""
    from bertdemo.inference.predictors import load_predictor

    root, _, _ = trained
    card = (store.run_dir("card-run", root) / "README.md").read_text(encoding="utf-8")
    blocks = code_blocks(card)
    assert "pipeline(" in blocks[0] and "ORTModelForSequenceClassification" in blocks[1]
    head_tail = store.load_run("card-run", root)["params"]["truncation"] == "head_tail"  # the default
    assert len(blocks) == (3 if head_tail else 2)  # head+tail: the long-text snippet too (tested below)
    expected = load_predictor("card-run", "pytorch", root).predict(["An absolute delight from start to finish."])
    for code in blocks[:2]:
        (answer,) = run_snippet(code, root)
        assert answer[0]["label"] == expected.labels[0]
        assert answer[0]["score"] == pytest.approx(float(expected.probabilities[0].max()), abs=1e-4)


def test_baseline_and_hub_base_model_when_present(tmp_path):
    run = make_tiny_run(tmp_path, "old")
    info = json.loads((run / store.RUN_JSON).read_text())
    info.update(
        base_model=config.BUNDLED_MODEL,
        baseline={"accuracy": 0.81, "f1_macro": 0.8},
        params={"max_length": 256, "truncation": "head_tail"},
    )
    write_model_card(run, info)
    card = (run / "README.md").read_text(encoding="utf-8")
    assert front_matter(card)["base_model"] == config.BUNDLED_MODEL
    assert "| TF-IDF + logistic regression (same split) | 0.8100 | 0.8000 |" in card
    assert "max_length=256" in card and "head+tail truncation" in card
    assert model_card({}).startswith("---\n")  # a run.json with nothing in it still gives a card


def test_an_older_run_without_baseline_still_gets_a_card(tmp_path):
    from bertdemo.runs import store
    from bertdemo.runs.modelcard import write_model_card
    from tests.helpers import make_tiny_run

    path = make_tiny_run(tmp_path, "old")
    write_model_card(path, store.load_run("old", tmp_path))
    assert "No baseline was recorded" in (path / "README.md").read_text(encoding="utf-8")


def test_a_head_tail_runs_card_answers_long_texts_as_it_was_trained(tmp_path):
    """The head+tail snippet, run as written, gives what bertdemo's predict gives: the same tokens kept."""
    from bertdemo.inference.predictors import load_predictor
    from bertdemo.tokenizing import encode

    run = make_tiny_run(tmp_path, "ht")
    info = json.loads((run / store.RUN_JSON).read_text())
    info["params"] = {**info["params"], "max_length": 32, "truncation": "head_tail"}
    (run / store.RUN_JSON).write_text(json.dumps(info), encoding="utf-8")
    write_model_card(run, info)
    blocks = code_blocks((run / "README.md").read_text(encoding="utf-8"))
    assert len(blocks) == 3 and "def head_tail(" in blocks[2]
    review = "The first hour drags on and on. " * 60 + "But the ending is an absolute delight."
    assert 'review = "The first hour drags on and on. " * 60 + "But the ending is an absolute delight."' in blocks[2]

    predictor = load_predictor("ht", "pytorch", tmp_path)
    head_only = predictor.tokenizer([review], truncation=True, max_length=32)["input_ids"][0]
    as_trained = encode(predictor.tokenizer, [review], 32, "head_tail")["input_ids"][0]
    assert as_trained != head_only  # the review is long enough for head+tail to matter
    expected = predictor.predict([review])
    (answer,) = run_snippet(blocks[2], tmp_path)
    assert answer[0]["label"] == expected.labels[0]
    assert answer[0]["score"] == pytest.approx(float(expected.probabilities[0].max()), abs=1e-5)
