import re

import pytest

from tests.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reminder_under_the_bell_leads_to_the_overdue_referral(page, demo_data):
    from collab_hub.notifications.models import Notification

    notification = (
        Notification.objects.filter(link__startswith="/referrals/").select_related("recipient").first()
    )
    assert notification is not None, "seed_demo leaves overdue referrals with reminders"
    login(page, notification.recipient.username)
    count = int(page.get_by_test_id("unread-count").inner_text())
    assert count >= 1
    page.get_by_test_id("bell").click()
    item = page.get_by_test_id("notifications").locator("li", has_text=notification.reference).first
    item.get_by_role("button", name="Bekijken").click()
    page.wait_for_url(re.compile(r"/referrals/\d+/$"))
    assert notification.reference in page.locator("main").inner_text()
    assert int(page.get_by_test_id("unread-count").inner_text() or 0) == count - 1
