"""The plain functions behind issue 22's fixes: the Done line, refused data, Predict's words and tables, the Compare
estimate (no gradio, no browser)."""

from __future__ import annotations

import pytest

from bertdemo import config, service
from bertdemo.ui import predict_views, run_outcome, views
from bertdemo.ui.compare_clock import CompareClock
from tests.helpers import write_csv


def _info(epochs: int, f1s: list[float], patience: int = 0, **extra) -> dict:
    history = [{"epoch": float(i + 1), "val_f1_macro": f} for i, f in enumerate(f1s)]
    return {"params": {"epochs": epochs, "early_stopping_patience": patience}, "history": history, **extra}


def test_a_run_that_ran_every_epoch_keeps_its_last():
    info = _info(2, [0.5, 0.4])
    assert run_outcome.stop_reason(info) == "finished all 2 epochs"
    assert run_outcome.kept_epoch(info) == 2
    assert run_outcome.done_line(info) == "finished all 2 epochs · kept epoch 2 (validation macro-F1 40.0%)"


def test_early_stopping_says_so_and_keeps_the_best_epoch():
    info = _info(9, [0.6, 0.8, 0.9, 0.9, 0.85, 0.7, 0.8, 0.88], patience=5)
    assert run_outcome.stop_reason(info).startswith("early stopping after epoch 8 of 9")
    assert run_outcome.kept_epoch(info) == 3  # the first of the two best (transformers keeps it on a tie)
    # With patience but every epoch run, the best epoch is still the one loaded at the end.
    assert run_outcome.kept_epoch(_info(3, [0.9, 0.7, 0.8], patience=2)) == 1
    assert run_outcome.stop_reason(_info(3, [0.9, 0.7, 0.8], patience=2)) == "finished all 3 epochs"


def test_stopped_by_the_user_names_the_kept_epoch():
    info = _info(9, [0.6, 0.8, 0.7], stopped_early={"kept_epoch": 2.0, "kept_step": 20, "stopped_at_step": 33})
    assert run_outcome.stop_reason(info) == "stopped by you during epoch 4 of 9"
    assert run_outcome.kept_epoch(info) == 2


def test_a_run_without_history_says_only_how_many_epochs():
    assert run_outcome.done_line({"params": {"epochs": 1}, "history": []}) == "finished all 1 epoch"


def test_predict_summary_scores_in_percent():
    report = {
        "predicted": 10,
        "rows": 10,
        "backend": "onnx-int8",
        "seconds": 1.0,
        "texts_per_second": 10.0,
        "load_seconds": 0.5,
        "text_column": "review",
        "metrics": {"accuracy": 0.51, "f1_macro": 0.3333, "scored_rows": 10, "label_column": "sentiment"},
    }
    text = predict_views.summary_markdown(report)
    assert "**Accuracy 51.0%**, macro-F1 33.3%" in text
    assert "0.5100" not in text


def test_predict_preview_puts_the_prediction_and_its_probability_first():
    p = config.PROBABILITY_PREFIX
    rows = [
        {"id": 1, "review": "great", config.PREDICTED_COLUMN: "pos", f"{p}neg": 0.1, f"{p}pos": 0.9},
        {"id": 2, "review": "", config.PREDICTED_COLUMN: "", f"{p}neg": "", f"{p}pos": ""},  # a row without text
    ]
    frame = predict_views.preview_frame(rows, "review")
    assert list(frame.columns) == [config.PREDICTED_COLUMN, "probability", "review", "id"]
    assert frame["probability"].tolist() == ["90.0%", ""]


def test_backend_cost_from_the_export_checks():
    exports = {
        "checked_texts": 60,
        "pytorch": {"accuracy": 0.933},
        "variants": {"onnx-int8": {"accuracy": 0.9, "agreement": 0.95}, "onnx": {"accuracy": 0.933}},
    }
    text = predict_views.backend_cost_markdown("onnx-int8", "onnx-int8", exports)
    assert "60 validation rows" in text and "95.0%" in text and "-3.3 pts vs PyTorch" in text
    assert "fastest" in text
    assert "your choice" in predict_views.backend_cost_markdown("onnx", "onnx-int8", exports)
    assert predict_views.backend_choice_label("onnx-int8", exports) == "onnx-int8 (90.0%, -3.3 pts)"
    assert predict_views.backend_choice_label("pytorch", exports) == "pytorch (reference, 93.3%)"
    assert "PyTorch" in predict_views.backend_cost_markdown("pytorch", "pytorch", None)


def test_label_check_warns_before_scoring():
    run = ["negative", "neutral", "positive"]
    warning = predict_views.label_check_markdown(["good", "bad", "good"], run, "sentiment")
    assert "do not match" in warning and "`bad`, `good`" in warning
    fine = predict_views.label_check_markdown(["negative", "positive"], run, "sentiment")
    assert "do not match" not in fine and "`neutral`" in fine
    assert predict_views.label_check_markdown(["x"], run, None) == ""


def test_the_done_line_reads_the_saved_run_not_the_live_status():
    info = {"name": "run-1", "train_seconds": 83, **_info(9, [0.6, 0.9, 0.8], patience=1)}
    live = views.progress_html({"state": "done", "epoch": 8, "epochs": 9, "step": 240, "total_steps": 270}, info)
    reloaded = views.progress_html({"state": "done", "epoch": 7, "epochs": 9, "step": 0, "total_steps": 0}, info)
    assert live == reloaded
    assert "early stopping after epoch 3 of 9" in live and "kept epoch 2" in live and "1:23" in live
    assert "step" not in live


def test_refused_data_names_the_columns_it_was_read_with():
    detected = views.refused_data_markdown("Every row has label 'pos'.", "text", "label", picked=False)
    assert "label column `label`, detected" in detected and "Pick the" not in detected
    picked = views.refused_data_markdown("Too few rows.", "a", "b", picked=True)
    assert "label column `b`, as you picked them" in picked
    assert "Pick the **Text column**" in views.refused_data_markdown("Which column?", None, None, picked=False)
    assert "Pick" not in views.refused_data_markdown("Not a table.", None, None, picked=False, can_pick=False)


def test_column_widths_keep_a_short_table_on_screen():
    assert views.column_widths(["text", "label"], "text") == ["72%", "28%"]
    widths = views.column_widths([config.PREDICTED_COLUMN, "probability", "review", "id"], "review")
    assert widths[2] == "52%" and sum(float(w[:-1]) for w in widths) == pytest.approx(100, abs=1)
    assert views.column_widths([f"c{i}" for i in range(9)], "c0") is None  # wide tables scroll


def test_compare_estimate_grows_with_texts_and_learns_this_machine():
    clock = CompareClock(load_s=2.0, text_s=0.5, idle_s=2.0)
    assert clock.estimate(3, 4) == pytest.approx(2.0 + 4 * (2.0 + 1.5))
    assert clock.estimate(10, 4) > clock.estimate(3, 4)
    assert "a first guess" in clock.note(3, 4)
    clock.learn(30.0, 3, 4)  # twice the guess past the fixed idle waits: this machine is slower
    assert clock.estimate(3, 4) == pytest.approx(30.0)
    assert clock.estimate(3, 1) == pytest.approx(2.0 + 2 * (2.0 + 1.5))  # the idle waits did not double
    assert "about 30 s for 3 texts" in clock.note(3, 4) and "this machine" in clock.note(3, 4)


def test_compare_first_estimate_counts_the_idle_waits_of_the_first_call_figure():
    clock = CompareClock()
    idle = config.COMPARE_IDLE_ROUNDS * config.COMPARE_IDLE_S
    assert clock.estimate(1, 4) == pytest.approx(idle + 4 * (config.COMPARE_LOAD_S + config.COMPARE_TEXT_S))


def test_detected_columns_of_a_refused_file(tmp_path):
    one_class = write_csv(tmp_path / "one.csv", [(f"text {i}", "pos") for i in range(4)])
    assert service.detected_columns(one_class) == ("text", "label")
    assert service.detected_columns(one_class, "label", "text") == ("label", "text")  # what the user picked
    assert service.detected_columns(None) == (None, None)


def test_label_values_lists_the_files_classes(tmp_path):
    path = write_csv(tmp_path / "p.csv", [("a", "good"), ("b", "bad"), ("c", ""), ("d", "good")], ("review", "y"))
    assert service.label_values(path, "y") == ["bad", "good"]
    assert service.label_values(path, config.NO_COLUMN) == []
    assert service.label_values(path, "missing") == []


def test_status_figures_agree_epoch_clock_kept_epoch_and_threads():
    """Issue 29 item 15: the live line and the Done line count the same things."""
    # At step 240 of 270 epoch 8 of 9 has just ended (being evaluated): still epoch 8, as the Done line says.
    running = {"state": "running", "phase": "evaluating", "epoch": 8.0, "epochs": 9, "step": 240, "total_steps": 270}
    assert "epoch 8/9" in views.progress_html(running)
    assert "epoch 8/9" in views.progress_html({**running, "epoch": 7.4, "step": 222})
    assert "epoch 1/9" in views.progress_html({**running, "epoch": 0.0, "step": 0})
    # "Stop, keep best epoch" in epoch 2: the status names the epoch the run will be.
    stopping = {**running, "epochs": 3, "epoch": 1.5, "step": 45, "total_steps": 90, "kept_epoch": 1}
    assert "stopped in epoch 2/3, keeping epoch 1" in views.progress_html(stopping)
    # The Done line's clock is the live one (Train pressed -> run saved), the training loop apart.
    info = {"name": "run-1", "train_seconds": 71, **_info(9, [0.6, 0.9, 0.8], patience=1)}
    done = views.progress_html({"state": "done", "started": 1000.0, "ended": 1085.0}, info)
    assert "1:25 in all (training 1:11)" in done
    cpu = {"device": {"device": "cpu", "name": "x86", "threads": 1}}
    assert "(x86, 1 thread)" in views.device_markdown(cpu)
    assert "(x86, 4 threads)" in views.device_markdown({"device": {**cpu["device"], "threads": 4}})
