from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView

from guarantees.api.schema import EnglishSchemaView

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    # The interconnection API: its schema and offline docs (Swagger UI from the sidecar), then the endpoints. The
    # docs page is served split (its start-up script from ?script, not inline): the CSP allows no inline script.
    path("api/v1/schema/", EnglishSchemaView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("guarantees.api.urls")),
    path("", include("accounts.urls")),
    path("", include("guarantees.urls")),
    path("", include("reporting.urls")),
]

# Errors outside a DRF view (a middleware, the URL resolver, a plain view) answer /api/ paths in JSON.
handler400 = "guarantees.api.exception_handler.bad_request"
handler403 = "guarantees.api.exception_handler.permission_denied"
handler404 = "guarantees.api.exception_handler.page_not_found"
handler500 = "guarantees.api.exception_handler.server_error"
