# Two commands do all set-up on a fresh machine: `make train` and `make test`.
PYTHON ?= python3
VENV := .venv
# Sample Factory's own environment (the peers benchmark; its tests): benchmarks/requirements-sf.txt
SF_VENV := .venv-sf
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# The CPU wheel of torch is pinned here: an unpinned torch pulls several GB of CUDA.
TORCH := torch==2.13.0
TRAIN_ARGS ?=
TEST_ARGS ?=
TEST_WORKERS ?= 2
# The exact versions the test suite passed with (Python 3.11, Linux x86-64); `make lock` refreshes
# them. `make test CONSTRAINTS=` installs without them (setup.py keeps ranges).
CONSTRAINTS ?= constraints.txt
PIN := $(if $(CONSTRAINTS),-c $(CONSTRAINTS))

.PHONY: train test bench bench-transfer-minatar bench-transfer-minatar-variants bench-transfer-minatar-stem bench-transfer-minatar-fc bench-transfer-ale bench-transfer-ale-variants bench-transfer-ale-games bench-continual-minatar bench-gumbel-minatar \
	bench-penalty bench-ray bench-network-minatar bench-learning-minatar bench-learning-pong bench-learning-atari5 \
	bench-throughput-pong bench-peers .venv-sf chromium install install-test lock clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.installed: $(PY) setup.py $(CONSTRAINTS)
	$(PIP) install $(PIN) $(TORCH)
	$(PIP) install $(PIN) -e .
	touch $@

# The bench extra too: tests of benchmarks/ (run from this checkout) need scikit-learn's digits.
$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install $(PIN) -e '.[test,ray,bench]' $(TORCH)
	touch $@

# Benchmarks (benchmarks/, not installed) run from this checkout as `$(PY) -m benchmarks`; the bench extra
# brings stable-baselines3 (the throughput baseline) and scikit-learn (the digits experiment).
$(VENV)/.installed-bench: $(VENV)/.installed
	$(PIP) install $(PIN) -e '.[bench]' $(TORCH)
	touch $@

# Resolves the newest versions setup.py allows in a fresh venv and writes them to constraints.txt
# (torch's local build label, e.g. +cpu, is dropped: torch==X matches any build of X).
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install --quiet $(TORCH)
	.venv-lock/bin/python -m pip install --quiet -e '.[test,bench,ray]'
	.venv-lock/bin/python -m pip freeze --all --exclude-editable | sed -E 's/\+[A-Za-z0-9.]+$$//' \
		| grep -v -E '^(pip|wheel)==' > constraints.txt
	rm -rf .venv-lock

install: $(VENV)/.installed

train: $(VENV)/.installed
	$(VENV)/bin/pathzero train $(TRAIN_ARGS)

# The suite runs on TEST_WORKERS pytest-xdist processes (`make test TEST_WORKERS=0`: one process); the tests
# that start Ray share one of them (xdist_group "ray"), since a second Ray on the machine could be joined.
test: $(VENV)/.installed-test $(SF_VENV)/.installed chromium
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup $(TEST_ARGS)

# The report's tests drive a real browser: Debian's chromium, installed with apt when it is missing (as root, or
# through sudo). Playwright (the test extra) drives it; its own browser downloads are not used.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
		echo "installing Debian's chromium (the report's browser tests need it)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

bench: $(VENV)/.installed-bench
	$(PY) -m benchmarks $(BENCH_ARGS)

# The issue-5 transfer matrices (docs/BENCHMARKS.md): resumable, finished runs are skipped; the cells
# and outputs live in docs/matrices/<name>/ (run folders are not kept in git: a missing source run is retrained).
# docs/matrices/minatar holds the runs made before issue 15 (stems copied on the diagonal); the rerun with fresh
# task heads goes into docs/matrices/minatar-fresh.
MINATAR_MATRIX := pathzero transfer --games MinAtar/Breakout MinAtar/SpaceInvaders MinAtar/Seaquest \
	--frames 300000 --seeds 5 --workers 2 --hidden 128 --logdir docs/matrices/minatar-fresh \
	--methods independent pathnet_scratch finetune pathnet
bench-transfer-minatar: $(VENV)/.installed
	$(VENV)/bin/$(MINATAR_MATRIX)
	$(PY) -m benchmarks transfer docs/matrices/minatar-fresh --name minatar-fresh --flags "--workers 2 --hidden 128"

# The copied stem's share of the diagonal: fine-tuning and PathNet with and without the source's stem and fc
# layer, game -> itself only. The committed folder reuses bench-transfer-minatar's runs for everything but the
# _stem arms (30 runs); from scratch it runs all 93.
MINATAR_STEM := pathzero transfer --games MinAtar/Breakout MinAtar/SpaceInvaders MinAtar/Seaquest \
	--pair MinAtar/Breakout MinAtar/Breakout --pair MinAtar/SpaceInvaders MinAtar/SpaceInvaders \
	--pair MinAtar/Seaquest MinAtar/Seaquest --frames 300000 --seeds 5 --workers 2 --hidden 128 \
	--logdir docs/matrices/minatar-stem --methods independent pathnet_scratch finetune pathnet finetune_stem pathnet_stem
bench-transfer-minatar-stem: $(VENV)/.installed
	$(VENV)/bin/$(MINATAR_STEM)
	$(PY) -m benchmarks transfer docs/matrices/minatar-stem --name minatar-stem --flags "--workers 2 --hidden 128"

# The paper's fully connected layer in the grid (--fc-in-grid): Breakout -> itself and -> its noisy variant,
# PathNet with a fresh stem and with the source's stem copied (pathnet_stem), 3 seeds (a probe: 30 runs).
MINATAR_FC := pathzero transfer --games MinAtar/Breakout MinAtar/Breakout+noise=0.02 \
	--pair MinAtar/Breakout MinAtar/Breakout --pair MinAtar/Breakout MinAtar/Breakout+noise=0.02 \
	--frames 300000 --seeds 3 --workers 2 --hidden 128 --fc-in-grid \
	--logdir docs/matrices/minatar-fc-probe --methods independent pathnet_scratch finetune pathnet pathnet_stem
bench-transfer-minatar-fc: $(VENV)/.installed
	$(VENV)/bin/$(MINATAR_FC)
	$(PY) -m benchmarks transfer docs/matrices/minatar-fc-probe --name minatar-fc-probe \
		--flags "--workers 2 --hidden 128 --fc-in-grid"

# Issue 15's variant matrix: MinAtar Breakout and three variants of it (mirror, noisy input, no sticky actions),
# the off-diagonal pairs (the diagonal is the cross-game matrix's sanity check), 5 seeds, resumable.
MINATAR_VARIANTS := pathzero transfer --games MinAtar/Breakout MinAtar/Breakout+hflip MinAtar/Breakout+noise=0.02 \
	MinAtar/Breakout+sticky=0 --no-diagonal --frames 300000 --seeds 5 --workers 2 --hidden 128 \
	--logdir docs/matrices/minatar-variants --methods independent pathnet_scratch finetune pathnet
bench-transfer-minatar-variants: $(VENV)/.installed
	$(VENV)/bin/$(MINATAR_VARIANTS)
	$(PY) -m benchmarks transfer docs/matrices/minatar-variants --name minatar-variants --flags "--workers 2 --hidden 128" \
		--goal pathnet 1.3 --goal finetune 1.2

ALE_MATRIX := pathzero transfer --games Pong Breakout --frames 250000 --seeds 2 --workers 2 \
	--score-episodes 3 --random-episodes 20 --logdir docs/matrices/ale \
	--methods independent pathnet_scratch finetune pathnet
bench-transfer-ale: $(VENV)/.installed
	$(VENV)/bin/$(ALE_MATRIX)
	$(PY) -m benchmarks transfer docs/matrices/ale --name ale --flags "--workers 2 --score-episodes 3 --random-episodes 20"

# Issue 15's ALE matrices (each about 3.5 h on 2 cores, resumable): two modes of SpaceInvaders, the game this grid
# learns by 3M frames (probes: Breakout did not move by 1M), and SpaceInvaders against Phoenix, a shooter
# A3C learns early (Atari-5 run). 3 seeds: with 2, Student's t (12.7) leaves no cell defined.
ALE_FLAGS := --workers 2 --score-episodes 3 --random-episodes 20
ALE_3M := --no-diagonal --frames 3000000 --seeds 3 $(ALE_FLAGS) --methods independent pathnet_scratch finetune pathnet
bench-transfer-ale-variants: $(VENV)/.installed
	$(VENV)/bin/pathzero transfer --games SpaceInvaders SpaceInvaders+mode=1 $(ALE_3M) --logdir docs/matrices/ale-variants
	$(PY) -m benchmarks transfer docs/matrices/ale-variants --name ale-variants --flags "$(ALE_FLAGS)" \
		--goal finetune 1.2 --goal pathnet 1.2
bench-transfer-ale-games: $(VENV)/.installed
	$(VENV)/bin/pathzero transfer --games SpaceInvaders Phoenix $(ALE_3M) --logdir docs/matrices/ale-games
	$(PY) -m benchmarks transfer docs/matrices/ale-games --name ale-games --flags "$(ALE_FLAGS)"

# Issue 12's measurements (docs/BENCHMARKS.md), each resumable: a 3-game MinAtar sequence with every
# forgetting-aware method, Gumbel search added to the MinAtar matrix above, and the penalties' speed.
CONTINUAL := pathzero continual --games MinAtar/Breakout MinAtar/SpaceInvaders MinAtar/Seaquest --frames 300000 \
	--seeds 5 --workers 2 --hidden 128 --eval-every 50000 --evaluation-episodes 10 --logdir docs/continual/minatar
bench-continual-minatar: $(VENV)/.installed
	$(VENV)/bin/$(CONTINUAL)
	$(PY) -m benchmarks continual docs/continual/minatar --name minatar --flags "--workers 2 --hidden 128 --eval-every 50000"
bench-gumbel-minatar: $(VENV)/.installed
	$(VENV)/bin/$(subst pathnet_scratch finetune pathnet,pathnet_scratch finetune pathnet gumbel,$(MINATAR_MATRIX))
	$(PY) -m benchmarks transfer docs/matrices/minatar-fresh --name minatar-fresh --flags "--workers 2 --hidden 128"
	$(PY) -m benchmarks search-cost docs/matrices/minatar-fresh --workers 2 --repeats 2 --name minatar-fresh
bench-penalty: $(VENV)/.installed
	$(PY) -m benchmarks penalty --game MinAtar/Breakout --frames 300000 --workers 2

# Issue 13's measurements: the Ray backend against the local one (a matrix, A3C), resumable.
bench-ray: $(VENV)/.installed-test
	$(PY) -m benchmarks ray --logdir docs/bench-runs/ray

# Issue 10's MinAtar network candidates: frames/s over the environment alone against learning per frame.
bench-network-minatar: $(VENV)/.installed
	$(PY) -m benchmarks network --game MinAtar/Breakout --frames 800000 --seeds 3 --logdir docs/bench-runs/network-minatar \
		--candidate preset: --candidate c16:channels=16 --candidate c16e32:channels=16,envs_per_worker=32 \
		--candidate paper:channels=16,blocks=0 --candidate paper-lr6e-3:channels=16,blocks=0,lr=0.006 \
		--candidate paper-lr1e-2:channels=16,blocks=0,lr=0.01

# Issue 14's learning measurements: each suite resumable (finished runs skipped, interrupted ones resumed);
# about 5.2 h (MinAtar, measured), 3.2 h (Pong, measured) and 3.2 h (Atari-5, measured) on 2 cores. Results in docs/bench-runs/learning/.
bench-learning-minatar bench-learning-pong bench-learning-atari5: bench-learning-%: $(VENV)/.installed
	$(PY) -m benchmarks learning --suite $* --workers 2

# Sample Factory (a peer) in an environment of its own: it needs numpy < 2 and gymnasium < 1. Its ale-py has no
# ROMs of its own: it imports those of pathzero's ale-py.
$(SF_VENV)/.installed: benchmarks/requirements-sf.txt $(VENV)/.installed
	$(PYTHON) -m venv $(SF_VENV)
	$(SF_VENV)/bin/python -m pip install --upgrade pip
	$(SF_VENV)/bin/python -m pip install -r benchmarks/requirements-sf.txt
	$(SF_VENV)/bin/ale-import-roms "$$($(PY) -c 'import ale_py, pathlib; print(pathlib.Path(ale_py.__file__).parent / "roms")')"
	touch $@

.venv-sf: $(SF_VENV)/.installed

# Issue 18's peers: pathzero A3C (its defaults) against SB3 PPO and A2C (the RL Zoo's Atari settings) and Sample
# Factory APPO (its Atari example's settings), one at a time on this machine; Pong 20M and Breakout 10M frames,
# 3 seeds. Resumable, finished runs skipped; results in docs/bench-runs/peers/. Wall-clock columns need the
# machine to itself: run nothing else beside it.
bench-peers: $(VENV)/.installed-bench $(SF_VENV)/.installed
	$(PY) -m benchmarks peers --games Pong Breakout --seeds 3

# Issue 14's throughput on Pong: A3C over the environment alone and over SB3's A2C, with what each speed
# option buys (same run), and the fastest options' own section (their environment ceiling is the vector env's).
bench-throughput-pong: $(VENV)/.installed-bench
	$(PY) -m benchmarks throughput --game Pong --workers 2 --frames 400000 --speed-options
	$(PY) -m benchmarks throughput --game Pong --workers 2 --frames 400000 --vector-env --precision bf16

clean:
	rm -rf $(VENV) $(SF_VENV) runs
