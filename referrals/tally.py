"""Referral counts per day of sending, receiving team and pathway, kept in step by the database.

Triggers update `referrals_referraltally` in the same transaction as every write to the referral and
reminder tables, so overviews over all projects read a few thousand rows instead of aggregating
millions of referrals, and can never disagree with them: `recount()` computes the same figures from
scratch (the tests and the benchmark compare the two).

A referral counts once it is sent and is not entered in error, in the day it was sent in the hub's time
zone, as `evaluations.indicators.project_referrals` counts it. Inserts and deletes are handled per
statement (transition tables: a bulk load or a sweep of 100,000 reminders is one grouped upsert);
updates per row, and only when a counted column changes.
"""

from .rollup_sql import differences as rollup_differences
from .rollup_sql import upsert_deltas

TABLE = "referrals_referraltally"
KEY = "day, receiving_team_id, pathway_id"
COLUMNS = ("sent", "accepted", "declined", "completed", "reminders")


def _day(alias: str, time_zone: str) -> str:
    return f"(({alias}.sent_at AT TIME ZONE '{time_zone}')::date)"


def _counted(alias: str) -> str:
    return f"({alias}.sent_at IS NOT NULL AND {alias}.status <> 'entered-in-error')"


def _contribution(alias: str, time_zone: str, sign: str = "") -> str:
    """SELECT list of one referral's contribution (without reminders) at its key."""
    return (
        f"{_day(alias, time_zone)} AS day, {alias}.receiving_team_id, {alias}.pathway_id, "
        f"{sign}1 AS sent, {sign}({alias}.accepted_at IS NOT NULL)::int AS accepted, "
        f"{sign}({alias}.status = 'rejected')::int AS declined, "
        f"{sign}({alias}.status = 'completed')::int AS completed"
    )


def _upsert(select: str) -> str:
    """Add grouped deltas (day, team, pathway, sent … reminders) to the tally."""
    return upsert_deltas(TABLE, KEY, COLUMNS, select)


def _reminders(rows: str, sign: str, time_zone: str) -> str:
    """Reminders added or removed, at the key of their referral."""
    return (
        f"SELECT {_day('r', time_zone)} AS day, r.receiving_team_id, r.pathway_id, 0 AS sent, "
        f"0 AS accepted, 0 AS declined, 0 AS completed, {sign} AS reminders "
        f"FROM {rows} x JOIN referrals_referral r ON r.id = x.referral_id WHERE {_counted('r')}"
    )


def recount_sql(time_zone: str) -> str:
    """The tally computed from scratch, in the tally's columns."""
    return f"""
    SELECT {_day("r", time_zone)} AS day, r.receiving_team_id, r.pathway_id, count(*) AS sent,
        count(*) FILTER (WHERE r.accepted_at IS NOT NULL) AS accepted,
        count(*) FILTER (WHERE r.status = 'rejected') AS declined,
        count(*) FILTER (WHERE r.status = 'completed') AS completed,
        coalesce(sum(m.n), 0) AS reminders
    FROM referrals_referral r
    LEFT JOIN (SELECT referral_id, count(*) AS n FROM referrals_reminder GROUP BY referral_id) m
        ON m.referral_id = r.id
    WHERE {_counted("r")}
    GROUP BY 1, 2, 3"""


def trigger_sql(time_zone: str) -> tuple[str, str]:
    """(forward, backward) SQL: the triggers, and the tally filled from the existing rows."""
    inserted = f"SELECT {_contribution('n', time_zone)}, 0 AS reminders FROM new_rows n"
    inserted += f" WHERE {_counted('n')}"
    deleted = f"SELECT {_contribution('o', time_zone, '-')}, 0 AS reminders FROM old_rows o"
    deleted += f" WHERE {_counted('o')}"
    old = f"SELECT {_contribution('OLD', time_zone, '-')}, -n_reminders AS reminders WHERE {_counted('OLD')}"
    new = f"SELECT {_contribution('NEW', time_zone)}, n_reminders AS reminders WHERE {_counted('NEW')}"
    moved = f"{old} UNION ALL {new}"
    forward = f"""
CREATE OR REPLACE FUNCTION referraltally_referral_insert() RETURNS trigger AS $$
BEGIN
    {_upsert(inserted)}
    RETURN NULL;
END; $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION referraltally_referral_delete() RETURNS trigger AS $$
BEGIN
    {_upsert(deleted)}
    RETURN NULL;
END; $$ LANGUAGE plpgsql;

-- An update moves the row's whole contribution, its reminders included, from the old key to the new,
-- in one upsert ordered by key (two opposite moves at once must not lock the two rows in turn).
CREATE OR REPLACE FUNCTION referraltally_referral_update() RETURNS trigger AS $$
DECLARE n_reminders int;
BEGIN
    SELECT count(*) INTO n_reminders FROM referrals_reminder x WHERE x.referral_id = NEW.id;
    {_upsert(moved)}
    RETURN NULL;
END; $$ LANGUAGE plpgsql;

-- Reminders count at their referral's key. The referrals are locked first: an update that moves one
-- to another key (a forward to another team) either committed before, and its new key is read here,
-- or waits, and then counts these reminders when it moves the referral.
CREATE OR REPLACE FUNCTION referraltally_reminder_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM 1 FROM referrals_referral r WHERE r.id IN (SELECT referral_id FROM new_rows)
            ORDER BY r.id FOR NO KEY UPDATE;
        {_upsert(_reminders("new_rows", "1", time_zone))}
    ELSE
        PERFORM 1 FROM referrals_referral r WHERE r.id IN (SELECT referral_id FROM old_rows)
            ORDER BY r.id FOR NO KEY UPDATE;
        {_upsert(_reminders("old_rows", "-1", time_zone))}
    END IF;
    RETURN NULL;
END; $$ LANGUAGE plpgsql;

CREATE TRIGGER referraltally_after_insert AFTER INSERT ON referrals_referral
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION referraltally_referral_insert();
CREATE TRIGGER referraltally_after_delete AFTER DELETE ON referrals_referral
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION referraltally_referral_delete();
CREATE TRIGGER referraltally_after_update
    AFTER UPDATE OF status, sent_at, accepted_at, receiving_team_id, pathway_id ON referrals_referral
    FOR EACH ROW WHEN (
        OLD.status IS DISTINCT FROM NEW.status OR OLD.sent_at IS DISTINCT FROM NEW.sent_at
        OR OLD.accepted_at IS DISTINCT FROM NEW.accepted_at
        OR OLD.receiving_team_id IS DISTINCT FROM NEW.receiving_team_id
        OR OLD.pathway_id IS DISTINCT FROM NEW.pathway_id
    ) EXECUTE FUNCTION referraltally_referral_update();
CREATE TRIGGER referraltally_after_reminder_insert AFTER INSERT ON referrals_reminder
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION referraltally_reminder_change();
CREATE TRIGGER referraltally_after_reminder_delete AFTER DELETE ON referrals_reminder
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION referraltally_reminder_change();

INSERT INTO {TABLE} ({KEY}, {", ".join(COLUMNS)}) {recount_sql(time_zone)};
"""
    backward = """
DROP TRIGGER IF EXISTS referraltally_after_insert ON referrals_referral;
DROP TRIGGER IF EXISTS referraltally_after_delete ON referrals_referral;
DROP TRIGGER IF EXISTS referraltally_after_update ON referrals_referral;
DROP TRIGGER IF EXISTS referraltally_after_reminder_insert ON referrals_reminder;
DROP TRIGGER IF EXISTS referraltally_after_reminder_delete ON referrals_reminder;
DROP FUNCTION IF EXISTS referraltally_referral_insert();
DROP FUNCTION IF EXISTS referraltally_referral_delete();
DROP FUNCTION IF EXISTS referraltally_referral_update();
DROP FUNCTION IF EXISTS referraltally_reminder_change();
"""
    return forward, backward


def differences() -> list[tuple]:
    """Keys where the tally and a recount from scratch disagree (empty when they are in step)."""
    from django.conf import settings

    return rollup_differences(TABLE, KEY, COLUMNS, recount_sql(settings.TIME_ZONE))


def functions_sql(time_zone: str) -> str:
    """Only the trigger functions (CREATE OR REPLACE), for a migration that changes what they do."""
    forward, _backward = trigger_sql(time_zone)
    return forward[: forward.index("CREATE TRIGGER")]
