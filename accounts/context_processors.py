"""What every page's header needs: the person's organisation, roles, permissions and links."""

from django.utils.functional import SimpleLazyObject

from accounts import mfa
from accounts.navigation import nav_links


def membership(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"current_organisation": None, "current_roles": [], "perms_registry": frozenset(), "nav_items": []}
    return {
        "current_organisation": user.organisation,
        "current_roles": [m.get_role_display() for m in user.active_memberships],
        "perms_registry": user.registry_permissions,
        "nav_items": SimpleLazyObject(lambda: _nav_items(request, user)),
    }


def _nav_items(request, user):
    # Until a bank, customs or secretariat user has enrolled TOTP, or a session typed its code, every link leads
    # back to the MFA page: show none.
    if mfa.mfa_state(request, user) != mfa.OK:
        return []
    return nav_links(user, request.path)
