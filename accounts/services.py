"""Writes on accounts: invitations, sign-in records, a person's language.

Accounts are never opened by sign-up. An organisation's administrator invites a colleague with a role that
exists in that kind of organisation; the invitee follows a link carrying a random token (only its SHA-256 is
stored, so a copy of the database cannot be used to accept an invitation) and sets a password. Accepting
creates the person, the membership and a verified e-mail address in one transaction.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts.errors import (
    AccountAlreadyExists,
    InvitationExpired,
    InvitationInvalid,
    NotAllowedToInvite,
    RoleNotAllowedForOrganisation,
)
from accounts.models import Invitation, Membership, Organisation, SignInAttempt, User
from accounts.roles import ROLES_BY_KIND

INVITATION_VALIDITY = datetime.timedelta(days=7)
_LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_create(
    *, organisation: Organisation, email: str, role: str, by: User, base_url: str | None = None
) -> Invitation:
    """Invite ``email`` into ``organisation`` with ``role`` and e-mail the link once the transaction commits.

    The returned invitation carries the token in clear as ``invitation.token``; it is not stored anywhere.
    An earlier pending invitation of the same address to the same organisation stops working.
    """
    if not _may_invite_into(by, organisation):
        raise NotAllowedToInvite()
    if role not in ROLES_BY_KIND.get(organisation.kind, frozenset()):
        raise RoleNotAllowedForOrganisation()
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise AccountAlreadyExists()

    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        Invitation.objects.filter(
            organisation=organisation, email__iexact=email, accepted_at__isnull=True, expires_at__gt=now
        ).update(expires_at=now)
        invitation = Invitation.objects.create(
            organisation=organisation,
            email=email,
            role=role,
            token_hash=invitation_token_hash(token),
            invited_by=by,
            expires_at=now + INVITATION_VALIDITY,
        )
        language = translation.get_language() or settings.LANGUAGE_CODE
        accept_url = (base_url or settings.REGISTRY_PUBLIC_URL).rstrip("/") + reverse(
            "invitation_accept", kwargs={"token": token}
        )
        transaction.on_commit(
            lambda: _send_invitation_mail(invitation_id=invitation.pk, accept_url=accept_url, language=language)
        )
    invitation.token = token
    return invitation


def _may_invite_into(user: User, organisation: Organisation) -> bool:
    if user.is_superuser and user.is_active:
        return True
    return user.can("organisation.invite") and any(
        m.organisation_id == organisation.pk for m in user.active_memberships
    )


def _send_invitation_mail(*, invitation_id: int, accept_url: str, language: str) -> None:
    invitation = Invitation.objects.select_related("organisation", "invited_by").filter(pk=invitation_id).first()
    if invitation is None or invitation.accepted_at is not None:
        return
    with translation.override(language):
        context = {"invitation": invitation, "accept_url": accept_url, "role": invitation.get_role_display()}
        subject = " ".join(render_to_string("accounts/email/invitation_subject.txt", context).split())
        body = render_to_string("accounts/email/invitation_message.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])


def invitation_accept(*, token: str, password: str, first_name: str, last_name: str) -> User:
    """Create the invitee's account from a valid invitation; the e-mail address counts as verified."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("organisation")
            .filter(token_hash=invitation_token_hash(token or ""))
            .first()
        )
        if invitation is None or invitation.accepted_at is not None or not invitation.organisation.is_active:
            raise InvitationInvalid()
        if invitation.expires_at <= timezone.now():
            raise InvitationExpired()
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise AccountAlreadyExists()

        language = (translation.get_language() or settings.LANGUAGE_CODE)[:2]
        user = User(
            email=invitation.email,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            language=language if language in _LANGUAGE_CODES else settings.LANGUAGE_CODE,
        )
        validate_password(password, user=user)
        user.set_password(password)
        user.save()
        Membership.objects.create(user=user, organisation=invitation.organisation, role=invitation.role)
        EmailAddress.objects.create(user=user, email=invitation.email, verified=True, primary=True)
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
    return user


def invitation_revoke(*, invitation: Invitation, by: User) -> None:
    """Stop a pending invitation from working. Revoking twice, or after acceptance, changes nothing."""
    if not _may_invite_into(by, invitation.organisation):
        raise NotAllowedToInvite()
    now = timezone.now()
    Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, expires_at__gt=now).update(expires_at=now)


def sign_in_attempt_record(
    *, email: str, user: User | None, succeeded: bool, ip_address: str | None, user_agent: str
) -> SignInAttempt:
    return SignInAttempt.objects.create(
        email=(email or "")[:254],
        user=user,
        succeeded=succeeded,
        ip_address=ip_address or None,
        user_agent=(user_agent or "")[:300],
    )


def user_language_set(*, user: User, language: str) -> None:
    """Remember the language a person chose, so their next sign-in opens in it."""
    if language in _LANGUAGE_CODES and user.language != language:
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language
