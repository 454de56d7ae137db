#!/usr/bin/env bash
# Demo: install (first run only), build or reuse the tiny base model, train a TRL and a GRPO senior for a
# few steps from the same base and seed, evaluate both and the base, print the claims (one seed: a smoke run;
# the full experiment is evidence/run_experiment.py with its defaults).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
if [ ! -x .venv/bin/tandem ]; then
  echo "== installing the trainer into workers/trainer/.venv (torch 2.13.0 CPU + tandem)"
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q torch==2.13.0
  .venv/bin/pip install -q -e ".[test]"
fi
echo "== tiny base model (first build takes several minutes on 2 cores; then it is reused)"
.venv/bin/tandem build-base
.venv/bin/python evidence/run_experiment.py --out runs/demo --results runs/demo/RESULTS.md --seeds 0 --ablations "" \
  --steps "${DEMO_STEPS:-20}" --eval-problems "${DEMO_PROBLEMS:-40}" --k 2
echo "== done: runs/demo holds both runs (metrics.jsonl, checkpoints), the reports and RESULTS.md"
