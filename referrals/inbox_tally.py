"""Open work per receiver and team and status, kept in step by the database, so an inbox can say how
many referrals it holds without counting a busy receiver's quarter of a million rows per request.

Same approach as referrals/tally.py: statement-level triggers for inserts and deletes (transition
tables), a row-level trigger for updates of the three columns that move a referral between counts.
`differences()` compares the counts with a recount from scratch.
"""

from .rollup_sql import differences as rollup_differences
from .rollup_sql import upsert_deltas

TABLE = "referrals_inboxtally"
KEY = "receiver_id, receiving_team_id, status"


def _upsert(select: str) -> str:
    return upsert_deltas(TABLE, KEY, ("n",), select)


MOVED = (
    "SELECT OLD.receiver_id, OLD.receiving_team_id, OLD.status, -1 AS n "
    "UNION ALL SELECT NEW.receiver_id, NEW.receiving_team_id, NEW.status, 1 AS n"
)
RECOUNT = f"SELECT {KEY}, count(*) AS n FROM referrals_referral GROUP BY {KEY}"

FORWARD = f"""
CREATE OR REPLACE FUNCTION inboxtally_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_upsert(f"SELECT {KEY}, 1 AS n FROM new_rows")}
    ELSIF TG_OP = 'DELETE' THEN
        {_upsert(f"SELECT {KEY}, -1 AS n FROM old_rows")}
    END IF;
    RETURN NULL;
END; $$ LANGUAGE plpgsql;

-- One upsert ordered by key: two opposite moves at once must not lock the two rows in turn.
CREATE OR REPLACE FUNCTION inboxtally_update() RETURNS trigger AS $$
BEGIN
    {_upsert(MOVED)}
    RETURN NULL;
END; $$ LANGUAGE plpgsql;

CREATE TRIGGER inboxtally_after_insert AFTER INSERT ON referrals_referral
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION inboxtally_change();
CREATE TRIGGER inboxtally_after_delete AFTER DELETE ON referrals_referral
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION inboxtally_change();
CREATE TRIGGER inboxtally_after_update
    AFTER UPDATE OF receiver_id, receiving_team_id, status ON referrals_referral
    FOR EACH ROW WHEN (
        OLD.receiver_id IS DISTINCT FROM NEW.receiver_id
        OR OLD.receiving_team_id IS DISTINCT FROM NEW.receiving_team_id
        OR OLD.status IS DISTINCT FROM NEW.status
    ) EXECUTE FUNCTION inboxtally_update();

INSERT INTO {TABLE} ({KEY}, n) {RECOUNT};
"""

BACKWARD = """
DROP TRIGGER IF EXISTS inboxtally_after_insert ON referrals_referral;
DROP TRIGGER IF EXISTS inboxtally_after_delete ON referrals_referral;
DROP TRIGGER IF EXISTS inboxtally_after_update ON referrals_referral;
DROP FUNCTION IF EXISTS inboxtally_change();
DROP FUNCTION IF EXISTS inboxtally_update();
"""


def differences() -> list[tuple]:
    """Keys where the counts and a recount from scratch disagree (empty when they are in step)."""
    return rollup_differences(TABLE, KEY, ("n",), RECOUNT)


FUNCTIONS = FORWARD[: FORWARD.index("CREATE TRIGGER")]
