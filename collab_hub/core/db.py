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
