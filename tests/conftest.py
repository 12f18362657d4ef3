import pytest

from tests.accounts.helpers import give_totp, sign_in_as


@pytest.fixture(autouse=True)
def _french_by_default(settings):
    settings.LANGUAGE_CODE = "fr"


@pytest.fixture
def admin_client(db, admin_user):
    """pytest-django's superuser, enrolled in TOTP (staff must be) and signed in through ``sign_in_as``."""
    from django.test import Client

    give_totp(admin_user)
    return sign_in_as(Client(), admin_user)
