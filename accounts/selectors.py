"""Reads on accounts: who belongs to an organisation, which invitations are waiting."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from accounts.models import Invitation, Membership, Organisation, User
from accounts.services import invitation_token_hash


@dataclass
class Member:
    user: User
    roles: list[str] = field(default_factory=list)


def organisation_members(*, organisation: Organisation) -> list[Member]:
    """The people of an organisation with the labels of their roles, by name."""
    members: dict[int, Member] = {}
    memberships = (
        Membership.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__email", "role")
    )
    for membership in memberships:
        members.setdefault(membership.user_id, Member(user=membership.user)).roles.append(
            membership.get_role_display()
        )
    return list(members.values())


def organisation_pending_invitations(*, organisation: Organisation):
    return (
        Invitation.objects.filter(organisation=organisation, accepted_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("invited_by")
        .order_by("-created_at")
    )


def invitation_get_by_token(*, token: str) -> Invitation | None:
    return (
        Invitation.objects.select_related("organisation")
        .filter(token_hash=invitation_token_hash(token or ""))
        .first()
    )
