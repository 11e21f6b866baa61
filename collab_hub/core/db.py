"""Database-level guarantees that migrations of several apps share."""


def append_only_sql(table: str, name: str) -> tuple[str, str]:
    """(forward, backward) SQL that makes `table` append-only: UPDATE and DELETE raise, INSERT works.

    TRUNCATE stays possible for the table owner (test database teardown); production should run the app
    as a role that does not own the table.
    """
    function, trigger = f"{name}_append_only", f"{name}_no_update_delete"
    forward = f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{table} is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER {trigger}
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {function}();
"""
    backward = f"""
DROP TRIGGER IF EXISTS {trigger} ON {table};
DROP FUNCTION IF EXISTS {function}();
"""
    return forward, backward


def insert_select_sql(model, expressions: dict[str, str]) -> str:
    """`INSERT INTO <table> (<columns>) SELECT <expressions>` for set-based writes, naming every NOT NULL
    column without a database default: a model change that adds one fails here loudly, not silently."""
    columns = {f.column: f for f in model._meta.concrete_fields}
    missing = [
        c
        for c, f in columns.items()
        if not f.null and not f.primary_key and c not in expressions and not f.db_default
    ]
    if missing:
        raise RuntimeError(f"{model._meta.label}: no value for {', '.join(missing)}")
    unknown = set(expressions) - set(columns)
    if unknown:
        raise RuntimeError(f"{model._meta.label}: unknown columns {', '.join(sorted(unknown))}")
    names = ", ".join(f'"{c}"' for c in expressions)
    return f'INSERT INTO "{model._meta.db_table}" ({names}) SELECT {", ".join(expressions.values())}'
