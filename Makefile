# The two set-up commands of the README: `make run` and `make test`.
# Each creates .venv itself, so both work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test test-fast lint bench-accuracy bench-ddp bench-train bench-step bench-infer bench-predict bench-load bench-audit bench-ui bench-abuse bench-fewshot bench-coreshare clean

run: $(VENV)/.deps  ## install, then launch the app on the bundled model (http://127.0.0.1:7860)
	$(PY) app.py

test: $(VENV)/.dev-deps $(CHROMIUM)  ## install, then run every test (unit, app client, browser, slow)
	$(PY) -m pytest -ra

test-fast: $(VENV)/.dev-deps  ## unit tests only (tiny models, no browser)
	$(PY) -m pytest -ra -m "not slow and not e2e"

lint: $(VENV)/.dev-deps
	$(VENV)/bin/ruff check bertdemo tests bench app.py

bench-accuracy: $(VENV)/.deps
	$(PY) bench/accuracy_bench.py --truncation-study --only example sentences sst2 imdb ag_news sms_spam

# The setfit package is the few-shot benchmark's reference only: it goes to its own folder, beside the pins.
BENCH_SITE ?= .bench-site
bench-fewshot: $(VENV)/.deps
	$(PY) -m pip install --quiet --no-deps --target $(BENCH_SITE) -r requirements-bench.txt
	PYTHONPATH=$(BENCH_SITE) nice -n 10 $(PY) bench/fewshot_bench.py

bench-coreshare: $(VENV)/.deps  ## what a visitor pays, and training gains, when a job takes every core while nobody predicts
	$(PY) bench/coreshare_bench.py

bench-ddp: $(VENV)/.deps
	$(PY) bench/ddp_bench.py

bench-train: $(VENV)/.deps
	$(PY) bench/train_bench.py
	$(PY) bench/first_epoch.py

bench-step: $(VENV)/.deps
	$(PY) bench/step_bench.py

bench-infer: $(VENV)/.deps
	$(PY) bench/infer_bench.py

bench-predict: $(VENV)/.deps
	$(PY) bench/predict_bench.py

bench-abuse: $(VENV)/.deps
	$(PY) bench/abuse_bench.py

bench-audit: $(VENV)/.deps
	$(PY) bench/audit_bench.py

bench-ui: $(VENV)/.dev-deps $(CHROMIUM)  ## page responsiveness with the CPU slowed 4x (Playwright, Chromium)
	$(PY) bench/ui_bench.py

bench-load: $(VENV)/.dev-deps
	$(PY) bench/load_bench.py

$(VENV)/.deps: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: $(VENV)/.deps requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Browser tests drive Debian's Chromium: Playwright cannot download its own browser here.
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
