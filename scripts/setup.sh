#!/usr/bin/env bash
# Install what the project needs, skipping what is already there: npm workspaces, the generated Prisma
# client, and the trainer's Python venv (torch pinned first: the CPU wheel, not GBs of CUDA packages).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm install (workspaces)"
  npm install --no-audit --no-fund
fi
npm run -s db:generate >/dev/null

venv=workers/trainer/.venv
if [ ! -x "$venv/bin/tandem" ] || [ workers/trainer/pyproject.toml -nt "$venv/bin/tandem" ]; then
  echo "== Python venv for the trainer (workers/trainer/.venv)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q torch==2.13.0
  "$venv/bin/pip" install -q -e "workers/trainer[test]"
  touch "$venv/bin/tandem"
fi
