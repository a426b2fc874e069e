"""bertdemo: fine-tune a BERT-family text classifier, export it to ONNX, compare back-ends.

Where things live (each folder has one subject):

    config errors settings hardware metrics tokenizing   the core: constants, user errors, the settings schema,
                                                          CPU/GPU facts, scores, tokenizers
    data/        a user's CSV: the one reader, column picking, labeled data, splits, the data report
    training/    the training pipeline, settings chosen for the data, Trainer + callbacks, progress, baseline
    inference/   a saved run's back-ends, the predictor cache, batch prediction, explanations
    onnx/        Optimum export and its checks, the back-ends compared, timing
    runs/        saved runs in models/: the store, who sees which run, run.json records, model card, temp folders
    jobs/        background training jobs of the app (subprocess or thread)
    service/     what the UI and the API share: plain functions, plain values, the owner checks
    cli/         `python -m bertdemo` (the only place that prints)
    ui/          the Gradio app: one create_*_tab() per tab, the API endpoints, pure views and charts

The dependency rule (imports go one way; tests/test_layout.py keeps it true):

    app.py -> ui -> service -> {jobs, training, inference, onnx, runs, data} -> core
    cli -> service and the domain packages

- the core imports nothing else of bertdemo;
- data imports the core only; runs imports the core only;
- training and inference import data, runs and the core; onnx imports those and inference (the back-ends it
  times); jobs imports training, runs and the core;
- service imports any of those; ui imports service and the core only; no module outside ui/ and app.py
  imports gradio.
"""

__version__ = "0.1.0"
