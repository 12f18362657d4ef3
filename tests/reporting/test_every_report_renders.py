"""Every report page and both of its exports answer 200 for each role that may open them, and the home page too."""

import pytest
from django.urls import reverse
pytestmark = pytest.mark.django_db

def test_every_page_renders(world):
    for user, slugs in [(world.s.checker, ["bank-exposure", "bank-claims"]),
                        (world.tg_officer, ["customs-duties", "customs-open", "customs-release-times", "customs-cases"]),
                        (world.s.agent, ["forwarder"]),
                        (world.secretariat, ["system", "customs-duties", "customs-open", "customs-release-times", "customs-cases"])]:
        c = world.client(user)
        for slug in slugs:
            r = c.get(reverse("reporting:page", args=[slug]))
            assert r.status_code == 200, (slug, r.content[:3000])
            for fmt in ("csv", "xlsx"):
                r = c.get(reverse(f"reporting:export_{fmt}", args=[slug]))
                assert r.status_code == 200, slug
        r = c.get("/")
        assert r.status_code == 200
