"""Scale data for the benchmarks: N referrals with patients, events and reminders, loaded with
INSERT … SELECT over generate_series in the database itself (no per-row Python), deterministic for a
given seed (Postgres' setseed), into a database whose name ends in `_bench` only."""

from django.apps import apps
from django.db import connection

from collab_hub.core.db import insert_select_sql

BENCH_SUFFIXES = ("_bench", "_bench_ci")


def assert_bench_database() -> str:
    name = connection.settings_dict["NAME"]
    if not name.endswith(BENCH_SUFFIXES):
        raise RuntimeError(
            f"seed_scale writes only into a benchmark database (name ending in _bench), not {name!r}."
        )
    return name


def insert_select(model_label: str, expressions: dict[str, str], source: str) -> int:
    """INSERT INTO <table> (<columns>) SELECT <expressions> <source>; see `insert_select_sql`."""
    with connection.cursor() as cursor:
        cursor.execute(f"{insert_select_sql(apps.get_model(model_label), expressions)} {source}")
        return cursor.rowcount
