import datetime

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.errors import (
    AccountAlreadyExists,
    InvitationExpired,
    InvitationInvalid,
    NotAllowedToInvite,
    RoleNotAllowedForOrganisation,
)
from accounts.models import Invitation, Membership, User
from accounts.roles import Role
from accounts.services import invitation_accept, invitation_create, invitation_token_hash
from tests.factories import ForwarderFactory, member

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "baobab-2026-lome"


def test_admin_invites_a_colleague_and_the_link_is_e_mailed(forwarder_admin, forwarder, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitation_create(
            organisation=forwarder, email="Moussa@Transit-Sahel.bf", role=Role.FORWARDER_AGENT, by=forwarder_admin
        )
    assert invitation.email == "moussa@transit-sahel.bf"
    assert invitation.token_hash == invitation_token_hash(invitation.token)
    assert invitation.token not in invitation.token_hash
    assert abs(invitation.expires_at - (timezone.now() + datetime.timedelta(days=7))) < datetime.timedelta(minutes=1)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["moussa@transit-sahel.bf"]
    assert reverse("invitation_accept", kwargs={"token": invitation.token}) in message.body
    assert "Transit Sahel SARL" in message.subject


def test_accepting_creates_the_account_with_a_verified_address(forwarder_admin, forwarder):
    invitation = invitation_create(organisation=forwarder, email="moussa@transit-sahel.bf", role=Role.FORWARDER_AGENT, by=forwarder_admin)
    user = invitation_accept(token=invitation.token, password=NEW_PASSWORD, first_name="Moussa", last_name="Kaboré")
    assert user.check_password(NEW_PASSWORD)
    assert user.organisation == forwarder
    assert user.roles == {Role.FORWARDER_AGENT}
    assert EmailAddress.objects.get(user=user).verified
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None


def test_an_invitation_works_once(forwarder_admin, forwarder):
    invitation = invitation_create(organisation=forwarder, email="moussa@transit-sahel.bf", role=Role.FORWARDER_AGENT, by=forwarder_admin)
    invitation_accept(token=invitation.token, password=NEW_PASSWORD, first_name="Moussa", last_name="Kaboré")
    with pytest.raises(InvitationInvalid):
        invitation_accept(token=invitation.token, password=NEW_PASSWORD, first_name="Moussa", last_name="Kaboré")


def test_expired_invitation_is_refused(forwarder_admin, forwarder):
    invitation = invitation_create(organisation=forwarder, email="moussa@transit-sahel.bf", role=Role.FORWARDER_AGENT, by=forwarder_admin)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(InvitationExpired):
        invitation_accept(token=invitation.token, password=NEW_PASSWORD, first_name="Moussa", last_name="Kaboré")
    assert not User.objects.filter(email="moussa@transit-sahel.bf").exists()


def test_unknown_token_is_refused(db):
    with pytest.raises(InvitationInvalid):
        invitation_accept(token="made-up", password=NEW_PASSWORD, first_name="A", last_name="B")


def test_a_role_of_another_kind_of_organisation_is_refused(forwarder_admin, forwarder):
    with pytest.raises(RoleNotAllowedForOrganisation):
        invitation_create(organisation=forwarder, email="x@transit-sahel.bf", role=Role.BANK_CHECKER, by=forwarder_admin)
    assert not Invitation.objects.exists()


def test_another_organisations_admin_cannot_invite_into_mine(forwarder, db):
    other_admin = member(ForwarderFactory(name="Autre Transit SA"), Role.FORWARDER_ADMIN)
    with pytest.raises(NotAllowedToInvite):
        invitation_create(organisation=forwarder, email="x@transit-sahel.bf", role=Role.FORWARDER_AGENT, by=other_admin)


def test_an_agent_without_the_invite_permission_cannot_invite(forwarder_agent, forwarder):
    with pytest.raises(NotAllowedToInvite):
        invitation_create(organisation=forwarder, email="x@transit-sahel.bf", role=Role.FORWARDER_AGENT, by=forwarder_agent)


def test_an_existing_account_cannot_be_invited(forwarder_admin, forwarder_agent, forwarder):
    with pytest.raises(AccountAlreadyExists):
        invitation_create(organisation=forwarder, email=forwarder_agent.email.upper(), role=Role.FORWARDER_AGENT, by=forwarder_admin)


def test_a_new_invitation_replaces_the_pending_one(forwarder_admin, forwarder):
    first = invitation_create(organisation=forwarder, email="m@transit-sahel.bf", role=Role.FORWARDER_AGENT, by=forwarder_admin)
    invitation_create(organisation=forwarder, email="m@transit-sahel.bf", role=Role.FORWARDER_ADMIN, by=forwarder_admin)
    with pytest.raises(InvitationExpired):
        invitation_accept(token=first.token, password=NEW_PASSWORD, first_name="M", last_name="K")


# --- pages -------------------------------------------------------------------------------------------


def test_admin_invites_through_the_form_and_sees_the_pending_invitation(client, forwarder_admin, django_capture_on_commit_callbacks):
    client.force_login(forwarder_admin)
    page = client.get(reverse("organisation_invite"))
    assert page.status_code == 200
    role_values = [value for value, _label in page.context["form"].fields["role"].choices]
    assert set(role_values) == {Role.FORWARDER_AGENT, Role.FORWARDER_ADMIN}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("organisation_invite"), {"email": "moussa@transit-sahel.bf", "role": Role.FORWARDER_AGENT})
    assert response.status_code == 302
    members = client.get(reverse("organisation_members")).content.decode()
    assert "moussa@transit-sahel.bf" in members
    assert "Invitations en attente" in members
    assert "http://testserver/invitation/" in mail.outbox[0].body


def test_the_invite_form_refuses_a_role_of_another_kind(client, forwarder_admin):
    client.force_login(forwarder_admin)
    response = client.post(reverse("organisation_invite"), {"email": "x@transit-sahel.bf", "role": Role.BANK_CHECKER})
    assert response.status_code == 200
    assert not Invitation.objects.exists()


def test_members_and_invite_pages_are_refused_to_an_agent(client, forwarder_agent):
    client.force_login(forwarder_agent)
    assert client.get(reverse("organisation_members")).status_code == 403
    assert client.get(reverse("organisation_invite")).status_code == 403


def test_invitee_sets_a_password_and_lands_signed_in_on_the_home_page(client, forwarder_admin, forwarder):
    invitation = invitation_create(organisation=forwarder, email="moussa@transit-sahel.bf", role=Role.FORWARDER_AGENT, by=forwarder_admin)
    url = reverse("invitation_accept", kwargs={"token": invitation.token})
    page = client.get(url)
    assert page.status_code == 200
    assert "Transit Sahel SARL" in page.content.decode()
    response = client.post(url, {"first_name": "Moussa", "last_name": "Kaboré", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert home.wsgi_request.user.email == "moussa@transit-sahel.bf"


def test_invited_bank_officer_goes_straight_to_totp_enrolment_without_a_second_password(client, bank_admin, bank_org):
    invitation = invitation_create(organisation=bank_org, email="new@banque-sahel.bf", role=Role.BANK_CHECKER, by=bank_admin)
    url = reverse("invitation_accept", kwargs={"token": invitation.token})
    client.post(url, {"first_name": "Ali", "last_name": "Sanou", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    response = client.get(reverse("home"))
    assert response["Location"] == reverse("mfa_activate_totp")
    assert client.get(reverse("mfa_activate_totp")).status_code == 200


def test_expired_invitation_page_says_so(client, forwarder_admin, forwarder):
    invitation = invitation_create(organisation=forwarder, email="m@transit-sahel.bf", role=Role.FORWARDER_AGENT, by=forwarder_admin)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    response = client.get(reverse("invitation_accept", kwargs={"token": invitation.token}))
    assert response.status_code == 410
    assert "Cette invitation a expiré" in response.content.decode()


def test_unknown_invitation_page_is_a_404(client, db):
    assert client.get(reverse("invitation_accept", kwargs={"token": "made-up"})).status_code == 404


def test_admin_cancels_a_pending_invitation(client, forwarder_admin, forwarder):
    invitation = invitation_create(organisation=forwarder, email="m@transit-sahel.bf", role=Role.FORWARDER_AGENT, by=forwarder_admin)
    client.force_login(forwarder_admin)
    response = client.post(reverse("invitation_revoke", kwargs={"pk": invitation.pk}))
    assert response.status_code == 302
    with pytest.raises(InvitationExpired):
        invitation_accept(token=invitation.token, password=NEW_PASSWORD, first_name="M", last_name="K")


def test_an_admin_cannot_cancel_another_organisations_invitation(client, forwarder_admin, forwarder):
    invitation = invitation_create(organisation=forwarder, email="m@transit-sahel.bf", role=Role.FORWARDER_AGENT, by=forwarder_admin)
    other_admin = member(ForwarderFactory(name="Autre Transit SA"), Role.FORWARDER_ADMIN)
    client.force_login(other_admin)
    assert client.post(reverse("invitation_revoke", kwargs={"pk": invitation.pk})).status_code == 404
    assert Membership.objects.count() == 2
