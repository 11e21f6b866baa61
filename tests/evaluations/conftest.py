from tests.referrals.conftest import loop  # noqa: F401 - the demo-like district of the referral tests
