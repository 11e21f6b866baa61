"""Two-step log-in cannot be passed with the password alone; log-in security holds behind a proxy;
/health/ and production mode guard themselves (issue 15). Each test tries to break one rule."""

import os
import re
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex
from freezegun import freeze_time

from collab_hub.accounts.views import REPLACE_UNTIL
from collab_hub.audit.models import AccessLogEntry, SecurityEvent
from collab_hub.audit.services import access_log_write, client_address
from tests.conftest import totp_code
from tests.core.test_security import enrol_through_the_pages, password_login
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_throttle(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def code_for(key_hex: str) -> str:
    return str(TOTP(bytes.fromhex(key_hex)).token()).zfill(6)


def enrolled_user(username="hanna") -> tuple[object, TOTPDevice]:
    user = UserFactory(username=username)
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return user, device


def is_verified(client) -> bool:
    return client.get(reverse("home")).status_code == 200


# --- the attack: password only, then the enrolment page -------------------------------------------


def test_password_only_cannot_enrol_a_new_authenticator_over_the_real_one(client):
    user, device = enrolled_user()
    StaticToken.objects.create(
        device=StaticDevice.objects.create(user=user, name="backup", confirmed=True), token="backup01"
    )
    assert password_login(client).status_code == 302

    response = client.get(reverse("twofactor_setup"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("twofactor_verify"))
    assert not TOTPDevice.objects.filter(user=user, confirmed=False).exists()  # no key was shown
    # A code for a key of the attacker's own choosing, and a planted unconfirmed device: nothing changes.
    planted = TOTPDevice.objects.create(user=user, name="attacker", confirmed=False)
    for token in (code_for(random_hex(20)), code_for(planted.key)):
        response = client.post(reverse("twofactor_setup"), {"token": token})
        assert response.status_code == 302 and response["Location"].startswith(reverse("twofactor_verify"))
    assert list(TOTPDevice.objects.filter(user=user, confirmed=True)) == [device]
    assert TOTPDevice.objects.get(pk=device.pk).key == device.key
    assert list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)) == ["backup01"]
    assert not is_verified(client)
    assert client.get(reverse("patients:list")).status_code == 302
    assert not SecurityEvent.objects.filter(kind__in=["otp_enrolled", "otp_replaced"]).exists()
    # The real authenticator still works.
    assert client.post(reverse("twofactor_verify"), {"token": totp_code(user)}).status_code == 302
    assert is_verified(client)


def test_an_account_with_only_backup_codes_cannot_be_taken_over_either(client):
    user = UserFactory(username="hanna")
    backup = StaticDevice.objects.create(user=user, name="backup", confirmed=True)
    StaticToken.objects.create(device=backup, token="backup01")
    password_login(client)
    response = client.get(reverse("twofactor_setup"))
    assert response["Location"].startswith(reverse("twofactor_verify"))
    client.post(reverse("twofactor_setup"), {"token": code_for(random_hex(20))})
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not is_verified(client)
    assert client.post(reverse("twofactor_verify"), {"token": "backup01"}).status_code == 302
    assert is_verified(client)


def _sample_path(route: str) -> str:
    """A concrete path for a route of the URL conf: converters and regex groups get a sample value."""
    route = re.sub(r"<int:\w+>", "1", route)
    route = re.sub(r"<(?:str|slug|path)?:?\w+>", "x", route)
    # The admin's regex routes: an alternation of app labels takes its first label, anything else "1".
    route = re.sub(r"\(\?P<\w+>([\w|]+)\)", lambda m: m.group(1).split("|")[0], route)
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)
    return "/" + route.replace("^", "").replace("$", "").replace("\\Z", "")


def every_path(resolver: URLResolver | None = None, prefix: str = ""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from every_path(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield _sample_path(prefix + str(entry.pattern))


def test_a_password_only_session_reaches_nothing_but_verify_log_out_and_language(client):
    enrolled_user()
    password_login(client)
    open_ones = {"twofactor_verify", "logout", "set_language"}
    paths = set(every_path())
    # The admin's model pages are registered at run time: add them explicitly.
    for model in admin.site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        paths |= {base, base + "add/", base + "1/change/", base + "1/delete/", base + "1/history/"}
    checked = 0
    for path in sorted(paths):
        try:
            name = resolve(path).view_name
        except Exception:  # noqa: S112 - a sample that does not resolve is no page
            continue
        if name in open_ones:
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            assert response.status_code == 302, (method, path)
            assert response["Location"].startswith(reverse("twofactor_verify")), (method, path)
        checked += 1
    assert checked > 100  # the whole URL conf, the admin included
    assert client.get(reverse("twofactor_verify")).status_code == 200
    assert client.post(reverse("set_language"), {"language": "en", "next": "/"}).status_code == 302
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_new_account_still_enrols_at_first_log_in_and_reaches_only_enrolment_first(client):
    user = UserFactory(username="hanna")
    password_login(client)
    assert client.get(reverse("twofactor_verify"))["Location"].startswith(reverse("twofactor_setup"))
    assert client.get(reverse("twofactor_manage"))["Location"].startswith(reverse("twofactor_setup"))
    codes = enrol_through_the_pages(client, user)
    assert len(codes) == 10 and is_verified(client)
    assert SecurityEvent.objects.filter(kind="otp_enrolled", user=user).count() == 1


def test_two_sessions_enrolling_one_new_account_never_share_a_key_and_only_one_wins():
    user = UserFactory(username="hanna")
    first, second = Client(), Client()
    keys = []
    for c in (first, second):
        password_login(c)
        keys.append(re.search(r'data-secret="(\w+)"', c.get(reverse("twofactor_setup")).content.decode())[1])
    assert keys[0] != keys[1]
    device = TOTPDevice.objects.get(user=user, confirmed=False)  # the second's; the first's was dropped
    assert second.post(reverse("twofactor_setup"), {"token": code_for(device.key)}).status_code == 200
    # The first session, password only, now meets an enrolled account: verify, not enrolment.
    response = first.post(reverse("twofactor_setup"), {"token": "123456"})
    assert response["Location"].startswith(reverse("twofactor_verify"))
    assert list(TOTPDevice.objects.filter(user=user).values_list("pk", "confirmed")) == [(device.pk, True)]


# --- a new phone: verified session and the password, the old device kept until confirmed ----------


def test_a_new_phone_needs_a_verified_session_and_the_password_and_keeps_the_old_one_until_confirmed(
    client,
):
    user, old = enrolled_user()
    client.force_login(user)  # verified
    assert client.get(reverse("twofactor_setup"))["Location"] == reverse("twofactor_manage")
    response = client.post(reverse("twofactor_manage"), {"password": "not-it", "action": "new_device"})
    assert "niet uw wachtwoord" in response.content.decode()
    assert client.get(reverse("twofactor_setup"))["Location"] == reverse("twofactor_manage")

    response = client.post(reverse("twofactor_manage"), {"password": PASSWORD, "action": "new_device"})
    assert response["Location"] == reverse("twofactor_setup")
    page = client.get(reverse("twofactor_setup")).content.decode()
    assert 'data-testid="replacing"' in page
    new = TOTPDevice.objects.get(user=user, confirmed=False)
    # Until the new one is confirmed, the old authenticator is the one that logs in.
    other = Client()
    password_login(other)
    assert other.post(reverse("twofactor_verify"), {"token": totp_code(user)}).status_code == 302
    assert TOTPDevice.objects.filter(pk=old.pk, confirmed=True).exists()

    wrong = client.post(reverse("twofactor_setup"), {"token": "000000"})
    assert wrong.status_code == 200 and TOTPDevice.objects.filter(pk=old.pk).exists()
    done = client.post(reverse("twofactor_setup"), {"token": code_for(new.key)})
    assert done.status_code == 200 and len(re.findall(r"<li>([a-z0-9]{8})</li>", done.content.decode())) == 10
    assert list(TOTPDevice.objects.filter(user=user)) == [new]
    assert TOTPDevice.objects.get(pk=new.pk).confirmed
    assert SecurityEvent.objects.filter(kind="otp_replaced", user=user).count() == 1
    assert is_verified(client)
    # The other session (the old phone's) is logged out.
    assert other.get(reverse("home"))["Location"].startswith(reverse("login"))
    # The password step does not open enrolment again.
    assert client.get(reverse("twofactor_setup"))["Location"] == reverse("twofactor_manage")


def test_the_password_opens_replacement_for_ten_minutes_only(client):
    user, old = enrolled_user()
    client.force_login(user)
    client.post(reverse("twofactor_manage"), {"password": PASSWORD, "action": "new_device"})
    session = client.session
    session[REPLACE_UNTIL] = time.time() - 1
    session.save()
    assert client.get(reverse("twofactor_setup"))["Location"] == reverse("twofactor_manage")
    assert list(TOTPDevice.objects.filter(user=user)) == [old]


# --- admin reset for a lost phone ------------------------------------------------------------------


def admin_client(username="bram", superuser=True) -> tuple[Client, object]:
    person = UserFactory(username=username, is_staff=True, is_superuser=superuser)
    if not superuser:
        from django.contrib.auth.models import Permission

        person.user_permissions.add(*Permission.objects.filter(codename__in=["change_user", "view_user"]))
    c = Client()
    c.force_login(person)
    return c, person


def reset_action(c, *users):
    return c.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_two_step_login", "_selected_action": [u.pk for u in users]},
        follow=True,
    )


def test_admin_resets_a_lost_phone_logged_with_who_did_it_and_ends_the_sessions():
    user, _ = enrolled_user()
    StaticDevice.objects.create(user=user, name="backup", confirmed=True)
    theirs = Client()
    password_login(theirs)
    theirs.post(reverse("twofactor_verify"), {"token": totp_code(user)})
    assert is_verified(theirs)
    staff, admin_user = admin_client()
    response = reset_action(staff, user)
    assert "Inloggen in twee stappen opnieuw ingesteld" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists()
    event = SecurityEvent.objects.get(kind="otp_reset", user=user)
    assert event.actor == admin_user and event.client_address == "127.0.0.1"
    assert SecurityEvent.objects.filter(kind="sessions_ended", user=user).exists()
    # Their session is gone: logged out, not merely unverified.
    assert theirs.get(reverse("home"))["Location"].startswith(reverse("login"))
    # At the next log-in they enrol a new authenticator.
    fresh = Client()
    password_login(fresh)
    assert fresh.get(reverse("home"))["Location"].startswith(reverse("twofactor_setup"))


def test_admin_reset_refuses_oneself_and_a_superuser_for_a_plain_admin():
    staff, person = admin_client(username="bram", superuser=False)
    boss, _ = enrolled_user("baas")
    boss.is_superuser = True
    boss.save()
    response = reset_action(staff, boss, person)
    html = response.content.decode()
    assert "Alleen een superuser" in html and "Uw eigen telefoon" in html
    assert TOTPDevice.objects.filter(user=boss).exists() and TOTPDevice.objects.filter(user=person).exists()
    assert not SecurityEvent.objects.filter(kind="otp_reset").exists()


# --- behind a proxy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.1"),  # no proxy trusted: the header is anyone's and is ignored
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the client wrote 6.6.6.6 itself
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (2, "203.0.113.9", "203.0.113.9"),  # came in past the first proxy
        (1, "not-an-address", None),  # a proxy writing garbage: no address rather than the proxy's
        (1, "", "10.0.0.1"),
        (1, "2001:db8::1", "2001:db8::1"),
        (1, "203.0.113.9:4711", "203.0.113.9"),  # proxies that add the client's port
        (1, "[2001:db8::1]:443", "2001:db8::1"),
        (1, "::ffff:203.0.113.9", "203.0.113.9"),  # one client, one key
        (2, "6.6.6.6, 203.0.113.9, 198.51.100.1", "198.51.100.1"),  # the "first proxy" is no proxy of ours
    ],
)
def test_client_address_from_trusted_proxy_hops(settings, hops, forwarded, expected):
    settings.TRUSTED_PROXY_HOPS = hops
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


def test_a_request_that_bypasses_the_proxy_claims_no_address(settings):
    """gunicorn reached directly from the internet: the header is the caller's own invention."""
    settings.TRUSTED_PROXY_HOPS = 1
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.66", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert client_address(request) == "198.51.100.66"
    response = Client(REMOTE_ADDR="198.51.100.66", HTTP_X_FORWARDED_FOR="127.0.0.1").get(reverse("health"))
    assert "components" not in response.json()


def behind_proxy(address: str) -> Client:
    """A browser at `address` reaching the hub through one proxy at 10.0.0.1."""
    return Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=address)


def test_the_logs_and_the_lockout_record_the_client_behind_the_proxy(settings):
    settings.TRUSTED_PROXY_HOPS = 1
    UserFactory(username="hanna")
    password_login(behind_proxy("203.0.113.9"), password="wrong-password-123")
    assert SecurityEvent.objects.get(kind="login_failed").client_address == "203.0.113.9"
    assert AccessAttempt.objects.get(username="hanna").ip_address == "203.0.113.9"
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    access_log_write(user=None, event="view", request=request)
    assert AccessLogEntry.objects.get().client_address == "203.0.113.9"


def test_five_failures_for_one_user_lock_that_user_not_the_others_behind_the_same_proxy(settings):
    settings.TRUSTED_PROXY_HOPS = 1
    UserFactory(username="hanna")
    UserFactory(username="bert")
    attacker = behind_proxy("203.0.113.9")
    for _ in range(5):
        password_login(attacker, password="wrong-password-123")
    assert password_login(attacker).status_code == 429  # hanna, from the attacker's address
    # Bert, at the same address and everyone else behind the proxy, logs in as usual.
    assert password_login(behind_proxy("203.0.113.9"), "bert").status_code == 302
    assert password_login(behind_proxy("198.51.100.20"), "bert").status_code == 302
    # Hanna from her own machine is not locked out by one attacker's five guesses.
    assert password_login(behind_proxy("198.51.100.7")).status_code == 302


def test_guessing_one_user_name_from_many_addresses_locks_that_user_name(settings):
    settings.TRUSTED_PROXY_HOPS = 1
    settings.AXES_USERNAME_FAILURE_LIMIT = 8
    UserFactory(username="hanna")
    for n in range(8):
        password_login(behind_proxy(f"203.0.113.{n + 1}"), password="wrong-password-123")
    assert password_login(behind_proxy("198.51.100.7")).status_code == 429


def test_a_valid_account_does_not_reset_the_failures_of_others_at_the_same_address(settings):
    settings.TRUSTED_PROXY_HOPS = 1
    UserFactory(username="hanna")
    UserFactory(username="mallory")
    attacker = behind_proxy("203.0.113.9")
    for _ in range(4):
        password_login(attacker, password="wrong-password-123")
    assert password_login(attacker, "mallory").status_code == 302  # the attacker's own valid account
    attacker.post(reverse("logout"))
    password_login(attacker, password="wrong-password-123")
    assert password_login(attacker).status_code == 429


def test_a_flood_from_one_address_is_throttled_for_a_minute_not_locked(settings):
    settings.TRUSTED_PROXY_HOPS = 1
    settings.LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE = 6
    UserFactory(username="hanna")
    flood = behind_proxy("203.0.113.9")
    with freeze_time() as frozen:
        for n in range(6):
            password_login(flood, username=f"guess{n}", password="wrong-password-123")
        throttled = password_login(flood)
        assert throttled.status_code == 429 and 'data-testid="throttled"' in throttled.content.decode()
        assert "_auth_user_id" not in flood.session
        # Only that address: the rest of the practice behind the proxy logs in.
        assert password_login(behind_proxy("198.51.100.7")).status_code == 302
        frozen.tick(timedelta(seconds=61))
        assert password_login(flood).status_code == 302  # hanna was never locked


# --- /health/ -----------------------------------------------------------------------------------


@pytest.fixture
def fresh_health_cache():
    from collab_hub.core.views import HEALTH_KEY, HEALTH_LOCK_KEY

    keys = [HEALTH_KEY, f"{HEALTH_KEY}:stale", HEALTH_LOCK_KEY]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


def test_health_for_anonymous_callers_is_cached_and_without_detail(
    settings, fresh_health_cache, django_assert_num_queries
):
    outside = Client(REMOTE_ADDR="203.0.113.9")
    first = outside.get(reverse("health"))
    assert first.status_code == 503 and first.json() == {"status": "down"}  # no beat tick in a test
    with django_assert_num_queries(0):  # the cached answer: no check runs, no worker ping
        again = outside.get(reverse("health"))
    assert again.json() == {"status": "down"}
    # A loopback address relayed by a proxy that is not trusted is not "this machine".
    relayed = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert "components" not in relayed.get(reverse("health")).json()


def test_health_detail_for_this_machine_or_the_token(settings, fresh_health_cache):
    assert "components" in Client(REMOTE_ADDR="127.0.0.1").get(reverse("health")).json()
    settings.HEALTH_TOKEN = "t" * 40
    outside = Client(REMOTE_ADDR="203.0.113.9")
    assert "components" not in outside.get(reverse("health"), HTTP_AUTHORIZATION="Bearer wrong").json()
    body = outside.get(reverse("health"), HTTP_AUTHORIZATION=f"Bearer {'t' * 40}").json()
    assert set(body["components"]) == {"database", "redis", "worker", "beat"}


# --- production guards ---------------------------------------------------------------------------


def run_with(env_changes: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    dropped = ("DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_DEBUG", "FAST_PASSWORD_HASHING", "ALLOWED_HOSTS")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(env_changes)
    return subprocess.run(
        [sys.executable, *args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )


PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "SECRET_KEY": "k" * 20 + "-production-secret-with-enough-length-and-variety-1234567890",
    "ALLOWED_HOSTS": "hub.example.nl",
}


def test_debug_mode_refuses_a_host_name_others_can_reach():
    stray = {"DJANGO_DEBUG": "1", "ALLOWED_HOSTS": "hub.example.nl,localhost"}
    result = run_with(stray, "manage.py", "check")
    assert result.returncode != 0
    assert "DJANGO_DEBUG is on while ALLOWED_HOSTS names hub.example.nl" in result.stderr
    assert run_with({"DJANGO_DEBUG": "1", "ALLOWED_HOSTS": "*"}, "manage.py", "check").returncode != 0
    assert run_with({"DJANGO_DEBUG": "1", "ALLOWED_HOSTS": "localhost"}, "manage.py", "check").returncode == 0


@pytest.mark.django_db(transaction=True)
def test_production_start_refuses_an_account_with_the_demo_key():
    from collab_hub.accounts.demo import DEMO_TOTP_KEY

    database = {"DATABASE_URL": f"postgres:///{settings.DATABASES['default']['NAME']}", **PRODUCTION}
    start = ("-c", "import collab_hub.wsgi")
    assert run_with(database, *start).returncode == 0
    user = UserFactory(username="huisarts")
    TOTPDevice.objects.create(user=user, name="demo", key=DEMO_TOTP_KEY, confirmed=True)
    result = run_with(database, *start)
    assert result.returncode != 0 and "published demo authenticator key" in result.stderr
    checked = run_with(database, "manage.py", "check", "--deploy", "--database", "default")
    assert checked.returncode != 0 and "accounts.E001" in checked.stderr
    # After an admin's reset the hub starts.
    TOTPDevice.objects.filter(user=user).delete()
    assert run_with(database, *start).returncode == 0


def test_seed_demo_refuses_a_reachable_host_even_when_forced(settings):
    settings.ALLOWED_HOSTS = ["hub.example.nl"]
    with pytest.raises(CommandError, match=r"hub\.example\.nl"):
        call_command("seed_demo", "--force")
    assert not TOTPDevice.objects.exists()


def test_seeding_for_benchmarks_replaces_the_demo_key():
    from collab_hub.accounts.demo import DEMO_TOTP_KEY, demo_keys_replace

    users = [UserFactory(username=f"demo{n}") for n in range(2)]
    for user in users:
        TOTPDevice.objects.create(user=user, name="demo", key=DEMO_TOTP_KEY, confirmed=True)
    assert demo_keys_replace() == 2
    keys = set(TOTPDevice.objects.values_list("key", flat=True))
    assert len(keys) == 2 and DEMO_TOTP_KEY not in keys


# --- found in review: each of these broke a rule above --------------------------------------------


def test_production_checks_pass_on_a_database_that_is_not_migrated_yet():
    """`migrate` runs the checks with the database before it creates the device table."""
    import psycopg2

    name = "collab_hub_empty_check"
    conn = psycopg2.connect(dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        cursor.execute(f"CREATE DATABASE {name}")
    try:
        result = run_with(
            {"DATABASE_URL": f"postgres:///{name}", **PRODUCTION},
            "manage.py",
            "check",
            "--deploy",
            "--database",
            "default",
            "--fail-level",
            "ERROR",
        )
        assert result.returncode == 0, result.stderr[-2000:]
    finally:
        with conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.close()


def test_an_admin_reset_also_ends_a_session_whose_key_a_password_change_cycled():
    user, _ = enrolled_user()
    theirs = Client()
    password_login(theirs)
    theirs.post(reverse("twofactor_verify"), {"token": totp_code(user)})
    changed = theirs.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "een-nieuw-lang-wachtwoord",
            "new_password2": "een-nieuw-lang-wachtwoord",
        },
    )
    assert changed.status_code == 302 and is_verified(theirs)
    staff, _admin = admin_client()
    reset_action(staff, user)
    # Logged out, not an unverified session that could enrol a key of its own without the password.
    assert theirs.get(reverse("home"))["Location"].startswith(reverse("login"))
    assert theirs.get(reverse("twofactor_setup"))["Location"].startswith(reverse("login"))
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_a_first_enrolment_must_follow_the_password_closely(client):
    user = UserFactory(username="hanna")
    password_login(client)
    with freeze_time() as frozen:
        frozen.tick(timedelta(minutes=16))
        response = client.get(reverse("twofactor_setup"))
    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_staff_cannot_read_or_plant_authenticator_keys_in_the_admin():
    _user, device = enrolled_user("hanna")
    staff, _ = admin_client(username="bram", superuser=True)
    for path in (
        "/admin/otp_totp/totpdevice/",
        f"/admin/otp_totp/totpdevice/{device.pk}/config/",
        "/admin/otp_totp/totpdevice/add/",
        "/admin/otp_static/staticdevice/add/",
    ):
        assert staff.get(path).status_code == 404, path
    plain, person = admin_client(username="plain", superuser=False)
    page = plain.get(reverse("admin:accounts_user_change", args=[person.pk])).content.decode()
    assert 'name="is_superuser"' not in page and 'name="is_staff"' not in page


def test_a_new_phone_logs_out_a_session_verified_with_a_backup_code(client):
    user, _ = enrolled_user()
    codes = None
    client.force_login(user)
    response = client.post(reverse("twofactor_manage"), {"password": PASSWORD, "action": "backup_codes"})
    codes = re.findall(r"<li>([a-z0-9]{8})</li>", response.content.decode())
    assert is_verified(client)  # the session that asked for them stays verified
    thief = Client()
    password_login(thief)
    assert thief.post(reverse("twofactor_verify"), {"token": codes[0]}).status_code == 302
    assert is_verified(thief)
    client.post(reverse("twofactor_manage"), {"password": PASSWORD, "action": "new_device"})
    client.get(reverse("twofactor_setup"))
    new = TOTPDevice.objects.get(user=user, confirmed=False)
    client.post(reverse("twofactor_setup"), {"token": code_for(new.key)})
    assert is_verified(client)
    assert thief.get(reverse("home"))["Location"].startswith(reverse("login"))


def test_the_admins_log_in_page_is_ours(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    UserFactory(username="bram", is_staff=True, is_superuser=True)
    response = client.post("/admin/login/", {"username": "bram", "password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" not in client.session


def test_guessing_the_password_on_the_manage_page_counts_towards_the_lockout(client):
    user, _ = enrolled_user()
    client.force_login(user)
    for attempt in range(5):
        response = client.post(
            reverse("twofactor_manage"), {"password": "wrong-password-123", "action": "new_device"}
        )
        if attempt < 4:
            assert "niet uw wachtwoord" in response.content.decode()
    assert response.status_code == 429  # the fifth wrong one locks, as at log-in
    assert SecurityEvent.objects.filter(kind="login_failed", user=user).count() == 5
    response = client.post(reverse("twofactor_manage"), {"password": PASSWORD, "action": "new_device"})
    assert response.status_code == 429  # locked: the right one is refused too
    assert client.get(reverse("twofactor_setup"))["Location"] == reverse("twofactor_manage")


def test_production_refuses_the_demo_key_at_log_in_too_even_padded(settings):
    from collab_hub.accounts.demo import DEMO_TOTP_KEY
    from collab_hub.accounts.twofactor import verify

    user = UserFactory(username="huisarts")
    device = TOTPDevice.objects.create(user=user, name="demo", key=DEMO_TOTP_KEY + "0000", confirmed=True)
    from collab_hub.accounts.checks import accounts_with_demo_key

    assert accounts_with_demo_key() == ["huisarts"]
    settings.DEBUG = False
    assert verify(user=user, token=code_for(DEMO_TOTP_KEY)) is None
    settings.DEBUG = True
    device.refresh_from_db()
    assert verify(user=user, token=totp_code(user)) is not None


def test_demo_code_prints_the_code_the_demo_accounts_accept():
    """Issue 21: `manage.py demo_code` gives the demo log-in's second step (the README and `make run`
    point to it)."""
    from io import StringIO

    from django.core.management import call_command
    from django_otp.oath import TOTP

    from collab_hub.accounts.demo import DEMO_TOTP_KEY

    out = StringIO()
    call_command("demo_code", stdout=out)
    code = out.getvalue().strip()
    assert len(code) == 6 and code.isdigit()
    assert TOTP(bytes.fromhex(DEMO_TOTP_KEY)).verify(int(code), tolerance=1)


def test_demo_code_refuses_on_a_public_host(settings):
    import pytest
    from django.core.management import CommandError, call_command

    settings.ALLOWED_HOSTS = ["hub.example.nl"]
    with pytest.raises(CommandError, match=r"hub\.example\.nl"):
        call_command("demo_code")
