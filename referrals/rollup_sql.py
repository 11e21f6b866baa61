"""SQL shared by the tables the database keeps in step with the referrals (referrals/tally.py,
referrals/inbox_tally.py): adding grouped deltas to counts, and comparing counts with a recount."""


def upsert_deltas(table: str, keys: str, columns: tuple[str, ...], select: str) -> str:
    """Add the rows of `select` (keys and deltas), grouped and in key order, to `table`'s counts. The
    order makes concurrent writers lock the count rows in the same sequence (no deadlocks)."""
    sums = ", ".join(f"sum({c})" for c in columns)
    updates = ", ".join(f"{c} = {table}.{c} + EXCLUDED.{c}" for c in columns)
    return f"""
    INSERT INTO {table} ({keys}, {", ".join(columns)})
    SELECT {keys}, {sums} FROM ({select}) AS delta
    GROUP BY {keys}
    ORDER BY {keys}
    ON CONFLICT ({keys}) DO UPDATE SET {updates};"""


def differences(table: str, keys: str, columns: tuple[str, ...], recount: str) -> list[tuple]:
    """Keys where `table`'s counts and `recount` (the same columns from scratch) disagree; rows of
    zeros count as absent. Empty when they are in step."""
    from django.db import connection

    values = ", ".join(columns)
    nonzero = f"({values}) <> ({', '.join('0' for _c in columns)})"
    with connection.cursor() as cursor:
        cursor.execute(f"""
            (SELECT {keys}, {values} FROM {table} WHERE {nonzero} EXCEPT {recount})
            UNION ALL
            ({recount} EXCEPT SELECT {keys}, {values} FROM {table})""")
        return cursor.fetchall()
