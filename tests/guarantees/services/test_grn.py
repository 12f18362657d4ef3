"""A guarantee's reference number is random, not its database key, and unique even when the draw collides."""

import threading

import pytest
from django.db import connections

from guarantees import grn as grn_module
from guarantees.grn import GRN_RE, grn_format, grn_is_valid
from guarantees.models import Guarantee, GuaranteeStatus
from guarantees.services.grn import GRN_ATTEMPTS, GrnExhausted
from guarantees.services.guarantees import guarantee_accept
from tests.builders import active_guarantee, confirmed_guarantee, scene

pytestmark = pytest.mark.django_db


def _serial(grn: str) -> int:
    return int(GRN_RE.match(grn)["serial"])


def _draws(monkeypatch, *serials):
    """Make the random source return ``serials`` in order, then fail loudly."""
    queue = list(serials)
    monkeypatch.setattr(grn_module, "serial_draw", lambda: queue.pop(0))
    return queue


def test_the_number_is_not_derived_from_the_primary_key():
    """The attack: compute the numbers of the guarantees from their ids (``grn_format(serial=pk)``)."""
    s = scene("BF")
    guarantees = [active_guarantee(s) for _ in range(3)]
    for g in guarantees:
        assert grn_is_valid(g.grn)
        walked = grn_format(year=g.activated_at.year, country="BF", serial=g.pk)
        assert g.grn != walked
    walked = {grn_format(year=g.activated_at.year, country="BF", serial=n) for n in range(1, 1000)}
    assert not Guarantee.objects.filter(grn__in=walked).exists()
    serials = sorted(_serial(g.grn) for g in guarantees)
    assert serials[-1] - serials[0] > 1000  # not consecutive


def test_serials_are_spread_over_twelve_digits():
    serials = {grn_module.serial_draw() for _ in range(2000)}
    assert len(serials) == 2000
    assert all(0 <= n < 10 ** 12 for n in serials)
    # Uniform over 10^12: about 90 % of draws have 12 significant digits, and every leading digit shows up.
    assert sum(n >= 10 ** 11 for n in serials) > 1700
    assert {f"{n:012d}"[0] for n in serials} == set("0123456789")


def test_a_collision_draws_again_inside_the_same_activation(monkeypatch):
    s = scene("BF")
    first = active_guarantee(s)
    taken = _serial(first.grn)
    g = confirmed_guarantee(s)
    left = _draws(monkeypatch, taken, taken, 424_242_424_242)
    g = guarantee_accept(guarantee=g, by=s.officer)
    assert left == []
    year = g.activated_at.year
    assert g.grn == grn_format(year=year, country="BF", serial=424_242_424_242)
    g.refresh_from_db()
    # The whole activation went through on the number finally drawn.
    assert (g.status, g.version, g.grn) == (GuaranteeStatus.ACTIVE, 1, grn_format(year=year, country="BF",
                                                                                serial=424_242_424_242))
    assert g.entries.get().reference == g.grn
    first.refresh_from_db()
    assert _serial(first.grn) == taken


def test_a_broken_random_source_fails_the_activation_and_changes_nothing(monkeypatch):
    s = scene("BF")
    first = active_guarantee(s)
    g = confirmed_guarantee(s)
    _draws(monkeypatch, *[_serial(first.grn)] * GRN_ATTEMPTS)
    with pytest.raises(GrnExhausted):
        guarantee_accept(guarantee=g, by=s.officer)
    g.refresh_from_db()
    assert (g.status, g.grn, g.version) == (GuaranteeStatus.BANK_CONFIRMED, None, 0)
    assert not g.versions.exists() and not g.entries.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql
def test_two_activations_drawing_the_same_serial_at_once_both_succeed(monkeypatch):
    s = scene("BF")
    pending = [confirmed_guarantee(s) for _ in range(2)]
    local = threading.local()
    fallback = iter(range(111_111_111_111, 111_111_111_200))
    lock = threading.Lock()

    def draw():
        if not getattr(local, "drawn", False):
            local.drawn = True
            return 999_999_000_001  # both threads' first draw
        with lock:
            return next(fallback)

    monkeypatch.setattr(grn_module, "serial_draw", draw)
    barrier = threading.Barrier(2)
    results = [None, None]

    def run(i):
        try:
            barrier.wait()
            results[i] = guarantee_accept(guarantee=pending[i], by=s.officer).grn
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(isinstance(r, str) for r in results), results
    assert len(set(results)) == 2
    assert {_serial(r) for r in results} >= {999_999_000_001}
    assert Guarantee.objects.filter(status=GuaranteeStatus.ACTIVE).count() == 2
