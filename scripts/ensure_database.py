"""Create the database named in DATABASE_URL when it does not exist yet (needs CREATEDB rights)."""

import sys
from pathlib import Path

import environ
import psycopg2
from psycopg2 import sql

root = Path(__file__).resolve().parent.parent
env = environ.Env()
if (root / ".env").is_file():
    env.read_env(str(root / ".env"))

config = env.db_url("DATABASE_URL", default="postgres:///collab_hub")
name = config["NAME"]
params = {
    k: v
    for k, v in {
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
    }.items()
    if v
}

try:
    conn = psycopg2.connect(dbname="postgres", **params)
except psycopg2.OperationalError as exc:
    sys.exit(f"Cannot connect to PostgreSQL to check database {name!r}: {exc}")
conn.autocommit = True
with conn.cursor() as cur:
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
    if cur.fetchone() is None:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"Created database {name}.")
    else:
        print(f"Database {name} exists.")
conn.close()
