"""Bad input never answers 500 (issue 25): a sweep over every form the hub shows and every POST URL.

The sweep opens every page of the URL conf as each demo role, collects the POST forms on them (so a
new form is covered the day it is shown), and submits each form with one field at a time replaced by a
bad value. It asserts: no 500; a refused submission (a 4xx, the form shown again, or a redirect with
an error message) wrote nothing (the transaction's write counters of every table but the logs and the
session are unchanged). A POST URL that no page offers a form for is posted to with generic fields and
must be listed in NOT_ON_A_PAGE with the reason. The same for GET: every query parameter a page links
to or offers in a GET form, with bad values. The counts tried are printed in the test output.
"""

from datetime import date
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import Resolver404, resolve, reverse

from tests.core.test_sweeps import fill, patterns

pytestmark = pytest.mark.django_db

BAD_VALUES = [
    "",
    "abc",
    "-1",
    "0",
    "99999999999999999999",
    "9 AND 42=52",
    "1,5",
    "31-02-2026",
    "2026-02-31",
    "x" * 10_000,
    "a\x00b",
    "<script>alert(1)</script>",
    "onbekende-keuze",
    "²³",  # digits to str.isdigit(), not to int()
    "40000",  # more than a small integer column takes
    "0001-01-01",
    "9999-12-31",
]
# Bytes a browser would never send: an unpaired surrogate, as UTF-8 (CESU) bytes in the raw body.
SURROGATE = "%ED%A0%80"

ROLES = [
    "huisarts",
    "poh",
    "maatschappelijkwerker",
    "welzijnscoach",
    "teamleider",
    "projectleider",
    "onderzoeker",
]

# POST URLs that no page of the hub offers a form for, with why they are posted to blindly.
NOT_ON_A_PAGE = {
    "logout": "logs the sweep's client out; Django's own view, no input",
    "set_language": "the language menu posts it; covered by the generic fields",
    "teams:service_checked": "shown only to a service's own contact person, none of the demo roles",
    "evaluations:cycle_create": "shown only while a project has no cycle; the demo project has three",
    "evaluations:cycle_plan": "shown only for a cycle in Plan; the demo has none",
    "evaluations:cycle_act": "shown only for a cycle in Act; the demo has none",
}
# Tables whose writes do not count as "saved": the logs (written also when refusing), sessions, axes.
LOG_TABLES = {
    "audit_accesslogentry",
    "audit_securityevent",
    "django_session",
    "axes_accessattempt",
    "axes_accessfailurelog",
    "axes_accesslog",
    "accounts_loginsession",
}


class Forms(HTMLParser):
    """The forms of a page: method, action and their fields with the values a user would send."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.links: list[str] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href", "").count("?"):
            self.links.append(a["href"])
        if tag == "form":
            self._form = {
                "method": (a.get("method") or "get").lower(),
                "action": a.get("action") or "",
                "fields": {},
            }
            self.forms.append(self._form)
            return
        form = self._form
        if form is None or not a.get("name"):
            if tag == "option" and form is not None and self._select:
                self._option(a)
            return
        name, fields = a["name"], form["fields"]
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                if kind == "submit" and a.get("value") is not None:
                    fields.setdefault(name, a["value"])
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in a or name not in fields:
                    fields[name] = a.get("value", "on")
                return
            fields[name] = a.get("value") or _typical(kind, name)
        elif tag == "select":
            self._select = name
            fields.setdefault(name, None)
        elif tag == "textarea":
            self._textarea = name
            fields[name] = "Tekst"
        elif tag == "button" and a.get("value") is not None:
            fields.setdefault(name, a["value"])

    def _option(self, a):
        fields = self._form["fields"]
        value = a.get("value", "")
        if "selected" in a or (fields.get(self._select) in (None, "") and value):
            fields[self._select] = value

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            if self._form is not None and self._form["fields"].get(self._select) is None:
                self._form["fields"][self._select] = ""
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self._form is not None and data.strip():
            self._form["fields"][self._textarea] = data


def _typical(kind: str, name: str) -> str:
    """A value a careful user would type into an empty field, so that the form is otherwise valid."""
    if kind == "date" or name.endswith(("_on", "date")):
        return date.today().isoformat()
    if kind == "time" or name.endswith("_time"):
        return "10:00"
    if kind == "email":
        return "iemand@example.nl"
    if kind == "number":
        return "1"
    if kind in {"password"}:
        return "demo-wachtwoord"
    return "Test"


def _writes() -> dict[str, int]:
    """Rows inserted, updated or deleted so far in this test's transaction, per table (logs and the
    session left out). Cheap, but an insert or update a savepoint rolled back counts too."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables")
        return {table: n for table, n in cursor.fetchall() if n and table not in LOG_TABLES}


def _contents(tables) -> dict[str, str]:
    """A digest of every row of each table: the row count and the changed row both show in it."""
    digests = " UNION ALL ".join(
        f"SELECT '{t}', md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) FROM \"{t}\" r"  # noqa: S608
        for t in sorted(tables)
    )
    with connection.cursor() as cursor:
        cursor.execute(digests)  # table names from the database itself
        return dict(cursor.fetchall())


def _post_and_undo(client, url, data) -> tuple[object, list[str]]:
    """Post inside a savepoint, then roll it back, so every submission meets the same state (one bad
    value that is accepted does not move the referral on for the next). Returns the response and, for a
    refusal, the tables it left changed: the write counters say which were touched (a rolled-back
    insert counts too), and a digest of just those tables before the rollback and after it (the state
    before the post) says whether anything stayed."""
    savepoint = transaction.savepoint()
    before = _writes()
    response = client.post(url, data)
    touched = {t for t, n in _writes().items() if n != before.get(t)} if _refused(response) else set()
    after = _contents(touched) if touched else {}
    transaction.savepoint_rollback(savepoint)
    if not touched:
        return response, []
    return response, sorted(t for t, digest in _contents(touched).items() if digest != after[t])


def _refused(response) -> bool:
    if response.status_code >= 400:
        return True
    if response.status_code == 200:
        return True  # a POST that succeeds redirects; the form shown again is a refusal
    queued = getattr(getattr(response.wsgi_request, "_messages", None), "_queued_messages", [])
    return any(m.level >= 30 for m in queued)  # warning or error


def _url_name(url: str) -> str | None:
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return None
    return match.view_name


def _crawl(world):
    """Every page as every role: the POST forms (by URL name) and the query parameters (by URL)."""
    from collab_hub.accounts.models import User

    posts: dict[str, list[tuple[str, str, dict]]] = {}
    queries: dict[str, set[str]] = {}
    pages = 0
    for username in ROLES:
        client = Client()
        client.force_login(User.objects.get(username=username))
        for name, _route, args in patterns():
            if name in {"logout"}:
                continue
            for kwargs in fill(name, args, world["ids"]):
                url = reverse(name, kwargs=kwargs)
                response = client.get(url)
                if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                    continue
                pages += 1
                parser = Forms()
                parser.feed(response.content.decode())
                for form in parser.forms:
                    target = form["action"] or url
                    if form["method"] == "post":
                        view = _url_name(target)
                        if view and view != "logout":
                            posts.setdefault(view, []).append(
                                (username, urlsplit(target).path, form["fields"])
                            )
                    else:
                        queries.setdefault(urlsplit(target).path or url, set()).update(form["fields"])
                for link in parser.links:
                    parts = urlsplit(link)
                    queries.setdefault(parts.path or url, set()).update(k for k, _ in parse_qsl(parts.query))
    return {"posts": posts, "queries": queries, "pages": pages}


def _distinct(forms):
    """One form per (role, URL, set of fields): the same form on many pages is tried once."""
    seen, kept = set(), []
    for username, url, fields in forms:
        key = (username, url, tuple(sorted(fields)))
        if key not in seen:
            seen.add(key)
            kept.append((username, url, fields))
    return kept


def _forms(crawled) -> tuple[int, int, list]:
    """Each form's fields in turn with every bad value: no 500, and a refusal wrote nothing."""
    from collab_hub.accounts.models import User

    clients = {}

    def client_for(username):
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(User.objects.get(username=username))
        return clients[username]

    tried = urls = 0
    problems = []
    for view in sorted(crawled["posts"]):
        urls += 1
        for username, url, fields in _distinct(crawled["posts"][view])[:3]:
            client = client_for(username)
            for field in [f for f in fields if f != "csrfmiddlewaretoken"]:
                for value in BAD_VALUES:
                    response, wrote = _post_and_undo(client, url, {**fields, field: value})
                    tried += 1
                    if response.status_code >= 500:
                        problems.append((url, field, value[:20], response.status_code))
                    elif wrote:
                        problems.append((url, field, value[:20], f"refused but wrote {wrote}"))
                others = urlencode({k: v for k, v in fields.items() if k != field})
                savepoint = transaction.savepoint()
                response = client.post(
                    url, f"{others}&{field}=a{SURROGATE}b", content_type="application/x-www-form-urlencoded"
                )
                transaction.savepoint_rollback(savepoint)
                tried += 1
                if response.status_code >= 500:
                    problems.append((url, field, "surrogate", response.status_code))
    return urls, tried, problems


def _blind(world, crawled) -> tuple[int, list, list]:
    """A URL that only takes POST (GET answers 405) and that no page offers a form for must be named in
    NOT_ON_A_PAGE with the reason. Every URL without a form on a page is posted to with the fields of
    all forms seen, each with every bad value: no 500."""
    from collab_hub.accounts.models import User

    generic = {f for forms in crawled["posts"].values() for _u, _url, fields in forms for f in fields}
    generic -= {"csrfmiddlewaretoken"}
    clients = {}
    for username in ("huisarts", "projectleider"):
        clients[username] = Client()
        clients[username].force_login(User.objects.get(username=username))
    unlisted, tried, problems = [], 0, []
    for name, _route, args in patterns():
        if name in crawled["posts"] or name == "logout":
            continue
        for kwargs in fill(name, args, world["ids"])[:1]:
            url = reverse(name, kwargs=kwargs)
            client = clients["projectleider" if name.startswith("evaluations:") else "huisarts"]
            if client.get(url).status_code == 405 and name not in NOT_ON_A_PAGE:
                unlisted.append(name)
            for value in BAD_VALUES:
                response = client.post(url, dict.fromkeys(generic, value))
                tried += 1
                if response.status_code >= 500:
                    problems.append((url, value[:20], response.status_code))
    return tried, unlisted, problems


def _queries(crawled) -> tuple[int, list]:
    """Every query parameter a page links to or asks in a GET form, with every bad value: no 500."""
    from collab_hub.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username="huisarts"))
    lead = Client()
    lead.force_login(User.objects.get(username="projectleider"))
    tried = 0
    problems = []
    for url, names in sorted(crawled["queries"].items()):
        view = _url_name(url)
        if view is None or view == "logout":
            continue
        who = lead if view.startswith("evaluations:") else client
        for name in sorted(names - {"csrfmiddlewaretoken"}):
            for value in BAD_VALUES:
                response = who.get(url, {name: value})
                tried += 1
                if response.status_code >= 500:
                    problems.append((url, name, value[:20], response.status_code))
    return tried, problems


def test_bad_input_never_answers_500_nor_half_saves(world, capsys):
    crawled = _crawl(world)
    urls, submissions, form_problems = _forms(crawled)
    blind, unlisted, blind_problems = _blind(world, crawled)
    gets, query_problems = _queries(crawled)
    with capsys.disabled():
        print(
            f"\nbad-input sweep: {crawled['pages']} pages read as {len(ROLES)} roles; {urls} POST URLs with "
            f"forms, {submissions} submissions (URL × field × bad value); {blind} blind POSTs to URLs no "
            f"page offers a form for; {gets} GETs (URL × query parameter × bad value)"
        )
    assert not form_problems, form_problems[:20]
    assert not unlisted, f"POST URLs no page offers a form for: list them in NOT_ON_A_PAGE: {unlisted}"
    assert not blind_problems, blind_problems[:20]
    assert not query_problems, query_problems[:20]
    assert urls > 20 and gets > 100


def test_a_user_name_longer_than_the_model_allows_gets_a_message_not_a_server_error(client):
    from axes.models import AccessAttempt

    response = client.post(reverse("login"), {"username": "a" * 300, "password": "geheim"})
    assert response.status_code == 200
    assert "niet meer dan 150 tekens" in response.content.decode()
    assert not AccessAttempt.objects.exists()  # django-axes never saw it


def test_free_text_has_a_maximum_length_enforced_on_the_server():
    """Text fields made from model TextFields got a maximum only in the browser, if at all."""
    from evaluations.forms import ActForm, MeetingForm, PlanForm
    from evaluations.measurement_forms import CaseForm
    from patients.forms import ConcernForm

    long = "x" * 20_000
    concern = ConcernForm(data={"domain": "finances", "description": long, "status": "active"})
    assert not concern.is_valid() and "description" in concern.errors
    assert "description" not in ConcernForm(data={"domain": "finances", "description": "Huurschuld"}).errors
    case = CaseForm(data={"label": "Casus A", "summary": long})
    assert not case.is_valid() and "summary" in case.errors
    plan = PlanForm(
        data={"objective": long, "change_to_test": "x", "starts_on": "2027-01-01", "ends_on": "2027-03-31"}
    )
    assert "objective" in plan.errors
    assert "rationale" in ActForm(data={"decision": "adopt", "rationale": long}).errors
    assert "minutes" in MeetingForm(data={"minutes": long}, cycles=[]).errors
