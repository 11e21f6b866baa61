"""Two people (two connections) accepting the same referral at the same moment: exactly one wins."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from referrals import services
from referrals.models import Event, Referral, Status
from tests.referrals.conftest import make_referral, req


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_accepts_have_one_winner(loop):
    referral = make_referral(loop)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def accept(user):
        try:
            fresh = Referral.objects.get(pk=referral.pk)
            barrier.wait(timeout=10)
            services.referral_accept(by=req(user), referral=fresh)
            results.append("won")
        except ValidationError:
            results.append("refused")
        finally:
            connection.close()  # each thread has its own connection to Postgres

    threads = [threading.Thread(target=accept, args=(u,)) for u in (loop["contact"], loop["coordinator"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["refused", "won"]
    assert Referral.objects.get(pk=referral.pk).status == Status.ACCEPTED
    assert Event.objects.filter(referral=referral, kind="accepted").count() == 1
