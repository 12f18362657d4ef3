"""Pages of the accounts side: the home page per role, an organisation's members and invitations."""

from allauth.account.utils import perform_login
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.decorators import permission_required
from accounts.errors import DomainError
from accounts.forms import InvitationAcceptForm, InvitationForm
from accounts.models import Invitation
from accounts.navigation import nav_links


@login_required
def home(request):
    user = request.user
    return render(
        request,
        "accounts/home.html",
        {
            "organisation": user.organisation,
            "memberships": user.active_memberships,
            "links": nav_links(user),
        },
    )


@permission_required("organisation.invite")
def organisation_members(request):
    organisation = request.user.organisation
    return render(
        request,
        "accounts/members.html",
        {
            "organisation": organisation,
            "members": selectors.organisation_members(organisation=organisation),
            "invitations": selectors.organisation_pending_invitations(organisation=organisation),
        },
    )


@permission_required("organisation.invite")
def organisation_invite(request):
    organisation = request.user.organisation
    form = InvitationForm(request.POST or None, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_create(
                organisation=organisation,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                by=request.user,
                base_url=request.build_absolute_uri("/"),
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, _("Invitation sent to %(email)s. The link is valid for 7 days.") % {"email": invitation.email}
            )
            return redirect("organisation_members")
    return render(request, "accounts/invite.html", {"organisation": organisation, "form": form})


@require_POST
@permission_required("organisation.invite")
def invitation_revoke(request, pk: int):
    invitation = get_object_or_404(Invitation, pk=pk, organisation=request.user.organisation)
    services.invitation_revoke(invitation=invitation, by=request.user)
    messages.success(request, _("The invitation to %(email)s no longer works.") % {"email": invitation.email})
    return redirect("organisation_members")


def invitation_accept(request, token: str):
    if request.user.is_authenticated:
        return render(request, "accounts/invitation_signed_in.html", status=409)
    invitation = selectors.invitation_get_by_token(token=token)
    if invitation is None or invitation.accepted_at is not None:
        return render(request, "accounts/invitation_invalid.html", {"expired": False}, status=404)
    if invitation.expires_at <= timezone.now():
        return render(request, "accounts/invitation_invalid.html", {"expired": True}, status=410)

    form = InvitationAcceptForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                token=token,
                password=form.cleaned_data["password1"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            _record_password_authentication(request, user)
            return perform_login(request, user, email_verification="none", redirect_url="/")
    return render(request, "accounts/invitation_accept.html", {"invitation": invitation, "form": form})


def _record_password_authentication(request, user) -> None:
    """The invitee just chose their password: that counts as a fresh sign-in for allauth's reauthentication."""
    try:
        from allauth.account.internal.flows.login import record_authentication
    except ImportError:  # allauth moved its internals; enrolment will then ask for the password once more
        return
    record_authentication(request, user, method="password", email=user.email)
