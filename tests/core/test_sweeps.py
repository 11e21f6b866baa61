"""Sweeps over the whole URL conf, so a new URL is covered the day it is added:

- IDOR: every URL that takes an object id, with ids of objects of other practices and teams, as an
  outsider, answers 404 (403 for non-patient objects), for GET and POST — never 200;
- CSRF: every POST without a token is refused;
- GET never changes state: no INSERT, UPDATE or DELETE beyond the access log, sessions and the like.
"""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db

# Directory pages every professional may read: who's who, organisations, teams, the social map.
# They hold no patient data, so an outsider gets 200 on GET there (and nothing on POST).
DIRECTORY = {"teams:person", "teams:organisation", "teams:team", "teams:service_detail"}
# Tables a GET may write to: logging that a page was seen, and the session.
WRITES_ALLOWED_ON_GET = {"audit_accesslogentry", "django_session", "audit_securityevent"}


def patterns(resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""):
    """(view name, route, converters) of every URL of the hub, the admin's own excepted."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # Django's admin: staff with a verified second factor only (see test_security)
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from patterns(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern) and entry.name:
            route = prefix + str(entry.pattern)
            args = {arg: converter for converter, arg in re.findall(r"<(\w+):(\w+)>", route)}
            yield f"{namespace}{entry.name}", route, args


def fill(name: str, args: dict, ids: dict) -> list[dict]:
    """Arguments for a URL from the objects in `ids`; a URL with an unknown argument fails loudly so
    whoever adds it tells this sweep which object it points at."""
    namespace = name.split(":")[0]
    choices = []
    for arg, converter in args.items():
        key = (namespace, arg)
        if converter == "slug" and key == ("referrals", "action"):
            choices.append([(arg, a) for a in ("accept", "decline", "message", "complete")])
        elif key in ids:
            choices.append([(arg, v) for v in ids[key]])
        else:
            pytest.fail(f"The sweep does not know which object <{arg}> of {name} points at: add it to `ids`.")
    combos = [{}]
    for options in choices:
        combos = [{**c, k: v} for c in combos for k, v in options]
    return combos


def test_idor_sweep_outsider_gets_nothing_for_any_object_id(world):
    client = Client()
    client.force_login(world["outsider"])
    checked = 0
    for name, _route, args in patterns():
        if not args:
            continue
        for kwargs in fill(name, args, world["ids"]):
            url = reverse(name, kwargs=kwargs)
            got = client.get(url).status_code
            posted = client.post(url, {"status": "done", "text": "x", "token": "1"}).status_code
            if name in DIRECTORY:
                # Only directory pages of the right kind answer; the rest are 404 for this id.
                assert got in {200, 404} and posted in {403, 404, 405}, (url, got, posted)
            else:
                assert got in {403, 404, 405}, (url, "GET", got)
                assert posted in {403, 404, 405}, (url, "POST", posted)
                if name.startswith(("patients:", "referrals:")):
                    assert 403 not in {got, posted}, (url, "a patient object must not even be confirmed")
            checked += 1
    assert checked > 40  # the sweep really walked the URL conf


def test_every_post_without_a_csrf_token_is_refused(world):
    from collab_hub.accounts.models import User

    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username="huisarts"))
    anonymous = Client(enforce_csrf_checks=True)
    for name, _route, args in patterns():
        for kwargs in fill(name, args, world["ids"])[:1]:
            url = reverse(name, kwargs=kwargs)
            assert client.post(url, {"x": "1"}).status_code == 403, url
    assert anonymous.post(reverse("login"), {"username": "huisarts", "password": "x"}).status_code == 403


def test_no_get_changes_state(world):
    """GET every page as someone who may see it: only the access log and the session are written."""
    from collab_hub.accounts.models import User
    from collab_hub.notifications.models import Notification

    as_user = {
        "evaluations": User.objects.get(username="projectleider"),
        "notifications": Notification.objects.order_by("pk").first().recipient,
    }
    default = User.objects.get(username="huisarts")
    writes = re.compile(r'^\s*(INSERT INTO|UPDATE|DELETE FROM)\s+"?(\w+)"?', re.IGNORECASE)
    for name, _route, args in patterns():
        if name in {"logout"}:
            continue
        client = Client()
        client.force_login(as_user.get(name.split(":")[0], default))
        for kwargs in fill(name, args, world["ids"]):
            url = reverse(name, kwargs=kwargs)
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            for query in queries.captured_queries:
                match = writes.match(query["sql"])
                if match:
                    assert match.group(2) in WRITES_ALLOWED_ON_GET, (url, query["sql"][:120])
