#!/usr/bin/env bash
# The demo on a fresh machine: install what is missing, use or start Postgres, migrate, seed (a researcher
# login, the tiny base model, the arithmetic datasets), start the web app, a worker and the live model service
# (workers/live, for live study conditions), print the URL.
# Ctrl-C stops everything it started.
# The web app listens on 127.0.0.1 only. The researcher's password is TANDEM_DEMO_PASSWORD when given (at least 12
# characters), else a fresh random one, printed at the end; re-running the demo sets the password again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
port="${PORT:-3000}"
pids=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "== stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${PG_EMBEDDED_PID:-}" ] && kill "$PG_EMBEDDED_PID" 2>/dev/null && wait "$PG_EMBEDDED_PID" 2>/dev/null
  echo "== stopped"
}
trap cleanup INT TERM EXIT

scripts/setup.sh
source scripts/pg.sh tandem
trap cleanup INT TERM EXIT  # pg.sh may have started a server: make sure Ctrl-C stops it too

echo "== migrating"
npm run -s db:migrate
echo "== seeding (the first build of the tiny base model takes several minutes on 2 cores, then it is reused)"
workers/trainer/.venv/bin/tandem seed --database-url "$DATABASE_URL"
email="researcher@tandem.local"  # the demo account: a production server refuses it unless TANDEM_DEMO=1 (below)
password="${TANDEM_DEMO_PASSWORD:-$(node -e 'console.log(require("crypto").randomBytes(12).toString("base64url"))')}"
npm run -s seed:user -w apps/web -- --email "$email" --password "$password" --role ADMIN

export AUTH_SECRET="${AUTH_SECRET:-$(node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))')}"
export AUTH_TRUST_HOST=true
export TANDEM_DEMO=1  # lets the demo account sign in to this production build (it listens on 127.0.0.1 only)
export TANDEM_RUNS_DIR="${TANDEM_RUNS_DIR:-$root/.cache/runs}"
if [ ! -f apps/web/.next/BUILD_ID ] || [ -n "$(find apps/web/src -newer apps/web/.next/BUILD_ID -print -quit)" ]; then
  echo "== building the web app"
  npm run -s build -w apps/web
fi
workers/trainer/.venv/bin/tandem worker --database-url "$DATABASE_URL" --runs-dir "$TANDEM_RUNS_DIR" &
pids+=($!)
export LIVE_PORT="${LIVE_PORT:-8790}" LIVE_URL="http://127.0.0.1:${LIVE_PORT:-8790}"
# web and the live service share a secret (a new one per demo run); the service loads exports only from the runs folder
export LIVE_SECRET="$(node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))')" LIVE_ONNX_ROOT="$TANDEM_RUNS_DIR/onnx"
# node itself (not npm run), so that Ctrl-C's kill reaches the server
(cd workers/live && exec node --import tsx src/server.ts) &
pids+=($!)
npm run -s start -w apps/web -- -H 127.0.0.1 -p "$port" &
pids+=($!)
node scripts/wait-http.mjs "http://127.0.0.1:$port/login" 120
cat <<MSG

  Tandem Lab is running:  http://127.0.0.1:$port
  sign in as              $email / $password
  Postgres                ${DATABASE_URL%%@*}@...  (a worker is serving jobs)
  live model service      $LIVE_URL  (live study conditions stream from here)
  Ctrl-C stops everything.

MSG
wait -n "${pids[@]}"
