# The two front-door commands. Each sets up .venv on first use (pip + venv; torch==2.13.0
# first, then the project), then does its job. Where pip's configuration finds no CPU build of
# torch (PyPI's Linux wheel is the multi-GB CUDA one), name an index that has it:
#   make repro TORCH_INDEX=https://download.pytorch.org/whl/cpu
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
# Stage commands in dvc.yaml call `python`: put the venv first on PATH.
RUN     := PATH="$(CURDIR)/$(VENV)/bin:$$PATH"
REAL    ?= ../shared/data/jigsaw-train-15k.csv.gz
TORCH_INDEX ?=
# The real-data recipe: params.yaml's defaults suit the small synthetic sample; these
# overrides suit ~15k real comments within 30 minutes on 2 CPU cores (README, Real data).
REAL_PARAMS ?= -S fetch.source=$(REAL) \
	-S balance_split.val_fraction=0.2 -S balance_split.test_fraction=0.2 -S balance_split.clean_rows=null \
	-S model.max_length=256 -S model.hidden_dropout=0.2 \
	-S train.epochs=2 -S train.lr=3e-5 -S train.head_lr=8e-2 -S train.pos_weight_power=1.0 -S baseline.C=4 -S train.blend_space=logit \
	-S train.refit_on_val=true

.PHONY: setup repro test test-fast repro-real bench bench-peers bench-params bench-attention bench-scaling clean-venv

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PY) -m pip install --quiet -e ".[all]" -c constraints.txt
	touch $(STAMP)

# dvc.yaml's first stage, check_params, applies every rule on params.yaml before DVC deletes
# any stage's outputs, so plain `dvc repro` is as safe as this.
repro: $(STAMP)
	$(RUN) dvc repro

# All stages on the real comments as a DVC experiment; leaves the model in models/ and, unless
# EXP_ARGS queues it, copies its metrics to metrics/real/ (the README's real-data table).
REAL_METRICS := split token_stats baseline train eval
repro-real: $(STAMP)
	$(RUN) dvc exp run $(REAL_PARAMS) $(EXP_ARGS)
	$(if $(EXP_ARGS),,mkdir -p metrics/real && cp $(REAL_METRICS:%=metrics/%.json) metrics/real/)

test: $(STAMP)
	$(RUN) pytest

test-fast: $(STAMP)
	$(RUN) pytest -m "not slow"

# Tutorial recipe vs toxic-tagger, side by side (~30 min at full size on 2 quiet cores), then the
# peers bench below; options: make bench BENCH_ARGS="--train-steps-limit 5 --tutorial-predict-comments 256"
bench: $(STAMP)
	$(RUN) python bench/bench.py --data $(REAL) $(BENCH_ARGS)
	$(RUN) python bench/bench_peers.py --data $(REAL) $(REAL_PARAMS) $(BENCH_PEERS_ARGS)

# Against what users would pick instead: the Hugging Face Trainer and transformers.pipeline, on the
# real recipe's split and params (REAL_PARAMS); ~40 min at full size on 2 quiet cores, fp32 and bf16.
# Options: BENCH_PEERS_ARGS="--quick" (a ~2 min smoke run), "--precisions fp32", "--train-comments 2048"
bench-peers: $(STAMP)
	$(RUN) python bench/bench_peers.py --data $(REAL) $(REAL_PARAMS) $(BENCH_PEERS_ARGS)

# Interleaved A/B of the train stage's speed params, precision bf16 / fp32 included (~3-5 min); options: BENCH_PARAMS_ARGS="--steps 20"
bench-params: $(STAMP)
	$(RUN) python bench/bench_params.py --data $(REAL) $(BENCH_PARAMS_ARGS)

# Attention kernel FLOP/s against the matmul peak, per batch length, fp32 and bf16 (~30 s)
bench-attention: $(STAMP)
	$(RUN) python bench/bench_attention.py $(BENCH_ATTENTION_ARGS)

# Seconds and peak MiB of every stage at 10k, 40k and 160k rows shaped like the real comments
# (~20-25 min on 2 cores); options: BENCH_SCALING_ARGS="--quick" or "--rows 10000 40000"
bench-scaling: $(STAMP)
	$(RUN) python bench/bench_scaling.py --source $(REAL) $(BENCH_SCALING_ARGS)

clean-venv:
	rm -rf $(VENV)
