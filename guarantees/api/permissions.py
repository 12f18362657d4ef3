"""Who may call which endpoint, as data.

People carry their roles' permissions (``accounts.roles.ROLE_PERMISSIONS``); a customs system calling with an
API key carries those of the ``customs_system`` entry below. Each view names the permission it needs in
``required_permission`` (one string, or one per action); ``HasRegistryPermission`` is the only check.
What an authorised caller may *see* is narrowed afterwards by the selectors, so another organisation's
object is a 404, not a 403.
"""

from rest_framework.permissions import BasePermission

CUSTOMS_SYSTEM = "customs_system"

# Permissions of machine clients, by kind of client. The strings are those of ``accounts.roles`` where one
# exists; ``transit.declare`` and ``transit.event`` belong to customs systems alone.
CLIENT_PERMISSIONS: dict[str, frozenset[str]] = {
    CUSTOMS_SYSTEM: frozenset(
        {
            "guarantee.view",
            "guarantee.lookup",
            "transit.view",
            "transit.declare",
            "transit.event",
            "discharge.upload",
        }
    ),
}


def client_permissions(kind: str) -> frozenset[str]:
    return CLIENT_PERMISSIONS.get(kind, frozenset())


def required_permission_for(view, request) -> str | None:
    required = getattr(view, "required_permission", None)
    if isinstance(required, dict):
        action = getattr(view, "action", None)
        return required.get(action) or required.get(request.method)
    return required


class HasRegistryPermission(BasePermission):
    """The caller is signed in (session or API key) and holds the view's ``required_permission``.

    A view without one is refused: forgetting to name a permission must not open an endpoint.
    """

    def has_permission(self, request, view) -> bool:
        method = request.method.lower()
        if method not in view.http_method_names or not hasattr(view, method):
            return True  # no such endpoint for this method: let the view answer 405
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        if method == "options":
            return True  # the description of an endpoint is no secret to a signed-in caller
        permission = required_permission_for(view, request)
        if permission is None:
            return False
        return bool(user.can(permission))
