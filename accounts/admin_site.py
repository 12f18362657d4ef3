"""The admin site, signed in through allauth like every other page.

Django's admin has a password form of its own that knows nothing of TOTP nor of allauth's attempt limits.
Here its login page only sends the person to allauth's (password, then TOTP), and back to the admin page they
asked for; a staff member's session then goes through ``RequireMFAMiddleware`` like any other.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode


class RegistryAdminSite(admin.AdminSite):
    def login(self, request, extra_context=None):
        target = request.GET.get(REDIRECT_FIELD_NAME) or request.POST.get(REDIRECT_FIELD_NAME) or ""
        if not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            target = ""
        target = target or reverse("admin:index", current_app=self.name)
        if request.user.is_authenticated:
            if not self.has_permission(request):
                # Signed in, but not staff: the admin's own form would offer to sign in as someone else.
                raise PermissionDenied
            return HttpResponseRedirect(target)
        return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({REDIRECT_FIELD_NAME: target})}")


class RegistryAdminConfig(AdminConfig):
    """Django's admin app with this site (INSTALLED_APPS names it instead of ``django.contrib.admin``)."""

    default_site = "accounts.admin_site.RegistryAdminSite"
