import pytest

from tests.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_demo_user_logs_in_sees_dutch_switches_to_english_and_logs_out(page, demo_data):
    login(page, "huisarts")
    page.wait_for_url("**/")
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welkom")

    page.get_by_role("combobox", name="Taal").select_option("en")
    page.get_by_test_id("switch-language").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")

    page.locator("#user-menu").click()
    page.get_by_test_id("logout").click()
    page.wait_for_url("**/accounts/login/")
    assert page.get_by_role("heading", level=1).inner_text() == "Log in"


def test_first_login_enrols_two_step_login_and_no_page_breaks_the_csp(page, demo_data):
    """A GP without an authenticator scans the QR code, saves the backup codes and works on; on the
    way no page asks the browser for anything the Content-Security-Policy forbids."""
    from django.conf import settings as django_settings
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    violations = []
    page.on("console", lambda msg: "Content Security Policy" in msg.text and violations.append(msg.text))
    TOTPDevice.objects.filter(user__username="huisarts").delete()
    page.goto("/accounts/login/")
    page.get_by_label("Gebruikersnaam").fill("huisarts")
    page.get_by_label("Wachtwoord").fill(django_settings.DEMO_PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url("**/accounts/2fa/setup/**")
    assert page.get_by_test_id("qr").locator("svg").count() == 1
    device = TOTPDevice.objects.get(user__username="huisarts", confirmed=False)
    page.get_by_label("Code").fill(str(TOTP(device.bin_key).token()).zfill(6))
    page.get_by_role("button", name="Bevestigen").click()
    assert page.get_by_test_id("backup-codes").locator("li").count() == 10
    page.get_by_role("link", name="Ik heb ze bewaard, verder").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welkom")
    for path in ("/patients/", "/referrals/", "/evaluations/", "/notifications/", "/people/", "/social-map/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    page.goto("/patients/")
    page.locator("main a[href^='/patients/']").first.click()
    page.wait_for_load_state("networkidle")
    page.goto("/evaluations/")
    page.get_by_test_id("projects").get_by_role("link").first.click()  # run charts (Chart.js)
    page.locator("canvas[data-chart=acceptance_rate]").wait_for()
    page.wait_for_load_state("networkidle")
    assert violations == []
