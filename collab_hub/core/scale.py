"""Scale data for the benchmarks: N referrals with patients, events and reminders, loaded with
INSERT … SELECT over generate_series in the database itself (no per-row Python), deterministic for a
given seed (Postgres' setseed), into a database whose name ends in `_bench` only."""

from django.apps import apps
from django.db import connection

BENCH_SUFFIXES = ("_bench", "_bench_ci")


def assert_bench_database() -> str:
    name = connection.settings_dict["NAME"]
    if not name.endswith(BENCH_SUFFIXES):
        raise RuntimeError(
            f"seed_scale writes only into a benchmark database (name ending in _bench), not {name!r}."
        )
    return name


def insert_select(model_label: str, expressions: dict[str, str], source: str) -> int:
    """INSERT INTO <table> (<columns>) SELECT <expressions> <source>, naming every NOT NULL column
    without a database default (a model change that adds one fails here loudly, not silently)."""
    model = apps.get_model(model_label)
    columns = {f.column: f for f in model._meta.concrete_fields}
    missing = [
        c
        for c, f in columns.items()
        if not f.null and not f.primary_key and c not in expressions and not f.db_default
    ]
    if missing:
        raise RuntimeError(f"{model_label}: no value for {', '.join(missing)}")
    unknown = set(expressions) - set(columns)
    if unknown:
        raise RuntimeError(f"{model_label}: unknown columns {', '.join(sorted(unknown))}")
    names = ", ".join(f'"{c}"' for c in expressions)
    values = ", ".join(expressions.values())
    with connection.cursor() as cursor:
        cursor.execute(f'INSERT INTO "{model._meta.db_table}" ({names}) SELECT {values} {source}')
        return cursor.rowcount
