"""For the test suite and the benchmarks only: a logged-in test client that has passed the second
factor, as after a real log-in (the two-factor pages themselves are tested through the pages)."""

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice


def confirmed_device(user) -> TOTPDevice:
    """The user's confirmed authenticator; one is created for users without (demo users have one)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def pass_second_factor(client, user) -> None:
    """Mark the session of a client logged in with `force_login` as verified by the second factor."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = confirmed_device(user).persistent_id
    session.save()
