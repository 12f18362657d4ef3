def membership(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"current_organisation": None, "current_roles": [], "perms_registry": frozenset()}
    return {
        "current_organisation": user.organisation,
        "current_roles": [m.get_role_display() for m in user.active_memberships],
        "perms_registry": user.registry_permissions,
    }
