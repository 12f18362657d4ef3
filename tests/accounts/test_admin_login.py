"""The admin has no sign-in of its own: its login page sends to allauth's, where the password then TOTP apply."""

import pyotp
import pytest
from django.urls import reverse
from django.utils.http import urlencode

from accounts.models import User
from tests.accounts.helpers import PASSWORD, give_totp, sign_in, verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return verified(User.objects.create_superuser("root@registre.example", PASSWORD))


def test_the_admin_login_page_sends_to_allauth_with_the_page_asked_for(client):
    response = client.get(reverse("admin:login") + "?next=/admin/accounts/user/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?{urlencode({'next': '/admin/accounts/user/'})}"
    # and an admin page asked for while signed out ends there too
    response = client.get("/admin/accounts/user/", follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))


def test_the_right_password_posted_to_the_admin_after_25_wrong_ones_signs_nobody_in(client, superuser):
    give_totp(superuser)
    for _ in range(25):
        client.post(reverse("admin:login"), {"username": superuser.email, "password": "wrong-password"})
    response = client.post(reverse("admin:login"), {"username": superuser.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert not client.get(reverse("admin:index")).wsgi_request.user.is_authenticated
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_admin_login_refuses_an_open_redirect(client):
    response = client.get(reverse("admin:login") + "?next=https://evil.example/")
    assert response["Location"] == f"{reverse('account_login')}?{urlencode({'next': reverse('admin:index')})}"


def test_a_superuser_reaches_the_admin_through_password_and_totp(client, superuser):
    secret = give_totp(superuser)
    response = sign_in(client, superuser.email)
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("admin:index")).status_code == 302  # not yet
    client.post(reverse("mfa_authenticate"), {"code": pyotp.TOTP(secret).now()})
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_signed_in_person_who_is_not_staff_gets_403_from_the_admin_login(client, forwarder_agent):
    client.force_login(forwarder_agent)
    assert client.get(reverse("admin:login")).status_code == 403
