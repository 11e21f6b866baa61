#!/usr/bin/env bash
# `make bench`: prepare the benchmark database once (reused when it already holds the asked N),
# then run every benchmark and write bench/results.json. Never touches the demo or test database.
set -euo pipefail
N="${1:-1000000}"
DB="${BENCH_DB:-collab_hub_bench}"
# Its own Redis database: the benchmarks clear the cache, which must not touch a running hub's broker.
export REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379/8}"
PY=.venv/bin/python
# B8 loads gunicorn with Debian's wrk (`make bench` and `make test` install it).
command -v wrk >/dev/null || { echo "wrk is missing: run make bench-deps" >&2; exit 1; }

# B3 also compares the query counts with those at a hundredth of N (10,000 for 1,000,000).
SMALL_N=$(( N / 100 < 100 ? 100 : (N / 100 > 10000 ? 10000 : N / 100) ))
SMALL_DB="${BENCH_SMALL_DB:-${DB}_small_bench}"

prepare() {  # database, referrals: the data set, reused when the database already holds it
  export DATABASE_URL="postgres:///$1"
  $PY scripts/ensure_database.py
  $PY manage.py migrate --no-input -v 0
  if ! $PY manage.py seed_scale --referrals "$2"; then
    echo "Recreating $1 for $2 referrals."
    dropdb --if-exists "$1"
    $PY scripts/ensure_database.py
    $PY manage.py migrate --no-input -v 0
    $PY manage.py seed_scale --referrals "$2"
  fi
}

SMALL_COUNTS=$(mktemp --suffix=.json)
trap 'rm -f "$SMALL_COUNTS"' EXIT
prepare "$SMALL_DB" "$SMALL_N"
$PY manage.py bench --query-counts-only --out "$SMALL_COUNTS"
prepare "$DB" "$N"
$PY manage.py bench --compare-counts "$SMALL_COUNTS" "${@:2}"
