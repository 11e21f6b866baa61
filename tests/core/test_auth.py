"""Every page but login and health needs a logged-in user; login errors are clear."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import PASSWORD, UserFactory

# Open before log-in, or (the two-factor pages) to a logged-in person without a second factor yet.
PUBLIC = {"login", "health", "set_language"}


def _named_patterns_without_arguments(resolver: URLResolver, namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # the admin has its own login; covered below
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _named_patterns_without_arguments(entry, ns)
        elif isinstance(entry, URLPattern) and entry.name and not entry.pattern.regex.groups:
            yield f"{namespace}{entry.name}"


@pytest.mark.django_db
def test_every_page_without_arguments_redirects_anonymous_users_to_login(client):
    names = sorted(set(_named_patterns_without_arguments(get_resolver())) - PUBLIC)
    assert "home" in names
    for name in names:
        url = reverse(name)
        response = client.get(url)
        assert response.status_code == 302, name
        # Staff-only pages send people to the admin's login, which is the same login.
        assert response["Location"].startswith((reverse("login"), "/admin/login/")), name


@pytest.mark.django_db
def test_admin_asks_anonymous_users_to_log_in(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_login_and_health_are_public(client):
    assert client.get(reverse("login")).status_code == 200
    assert client.get(reverse("health")).status_code in {200, 503}


@pytest.mark.django_db
def test_wrong_password_gives_a_clear_message_in_dutch(client):
    UserFactory(username="hanna")
    response = client.post(reverse("login"), {"username": "hanna", "password": "wrong-password-123"})
    assert response.status_code == 200
    assert "Voer een juiste gebruikersnaam en wachtwoord in" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_password_change_needs_the_old_password(client):
    user = UserFactory(username="hanna")
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "not-it",
            "new_password1": "een-nieuw-lang-wachtwoord",
            "new_password2": "een-nieuw-lang-wachtwoord",
        },
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "een-nieuw-lang-wachtwoord",
            "new_password2": "een-nieuw-lang-wachtwoord",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("een-nieuw-lang-wachtwoord")


@pytest.mark.django_db
def test_language_switch_is_remembered_on_the_account(client):
    user = UserFactory(username="hanna")
    client.force_login(user)
    assert "Welkom" in client.get(reverse("home")).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    user.refresh_from_db()
    assert user.language == "en"
    assert "Welcome" in client.get(reverse("home")).content.decode()
