#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer before anything else runs. Starts the local ones when they
# are installed but stopped; otherwise stops with a message that says what to install or set.
set -euo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || pg_isready -q 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

uses_local_default() {  # true when the URL names this machine (or nothing, i.e. the local socket)
  case "$1" in
    *@*) case "$1" in *@localhost*|*@127.0.0.1*|*@\[::1\]*) return 0 ;; *) return 1 ;; esac ;;
    postgres:///*|postgresql:///*|redis://127.0.0.1*|redis://localhost*) return 0 ;;
    *) return 1 ;;
  esac
}

DATABASE_URL=${DATABASE_URL:-postgres:///collab_hub}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}

if uses_local_default "$DATABASE_URL"; then
  if ! command -v pg_isready >/dev/null 2>&1; then
    echo "PostgreSQL is not installed. Install it (apt-get install postgresql) or set DATABASE_URL to a reachable server." >&2
    exit 1
  fi
  if ! pg_up; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
      echo "Starting the local PostgreSQL cluster…"
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start || true
      for _ in $(seq 1 30); do pg_up && break; sleep 1; done
    fi
  fi
  pg_up || { echo "PostgreSQL does not answer on the local socket or 127.0.0.1:5432. Start it, or set DATABASE_URL." >&2; exit 1; }
fi

if uses_local_default "$REDIS_URL"; then
  if ! redis_up; then
    if command -v redis-server >/dev/null 2>&1; then
      echo "Starting the local Redis server…"
      redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
      for _ in $(seq 1 20); do redis_up && break; sleep 0.5; done
    else
      echo "Redis is not installed. Install it (apt-get install redis-server) or set REDIS_URL to a reachable server." >&2
      exit 1
    fi
  fi
  redis_up || { echo "Redis does not answer on 127.0.0.1:6379. Start it, or set REDIS_URL." >&2; exit 1; }
fi
echo "PostgreSQL and Redis are up."
