#!/usr/bin/env bash
# `make bench`: prepare the benchmark database once (reused when it already holds the asked N),
# then run every benchmark and write bench/results.json. Never touches the demo or test database.
set -euo pipefail
N="${1:-1000000}"
DB="${BENCH_DB:-collab_hub_bench}"
export DATABASE_URL="${BENCH_DATABASE_URL:-postgres:///$DB}"
PY=.venv/bin/python

$PY scripts/ensure_database.py
$PY manage.py migrate --no-input -v 0
if ! $PY manage.py seed_scale --referrals "$N"; then
  echo "Recreating $DB for $N referrals."
  dropdb --if-exists "$DB"
  $PY scripts/ensure_database.py
  $PY manage.py migrate --no-input -v 0
  $PY manage.py seed_scale --referrals "$N"
fi
$PY manage.py bench "${@:2}"
