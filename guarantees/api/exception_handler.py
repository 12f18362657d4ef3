"""The one place that turns every refusal into ``{"code", "detail", ...}`` with the status of API.md.

Domain errors keep their own code, status and figures (``DomainError.as_dict()``); DRF's exceptions get one
stable code each; the detail is a sentence in the caller's language (``Accept-Language``, French by default).
Bad input never reaches a 500: a body that does not parse is a 400 ``parse_error``. Every 400 has ``errors`` (by
field; ``non_field_errors`` for the whole body), as the schema says.

Whatever else goes wrong under ``/api/`` is JSON too: an unexpected exception in a view is a 500 ``server_error``
(logged with its traceback), and the site's error handlers (``config/urls.py``: ``handler400`` ... ``handler500``,
which also catch what a middleware or the URL resolver raises) answer ``/api/`` paths with the same bodies, never
Django's HTML pages.
"""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from accounts.errors import http_status
from guarantees.errors import DomainError, TooManyAttempts

# Where Django reports the 500s it handles itself, so that an API 500 is reported the same way.
logger = logging.getLogger("django.request")


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class InvalidFile(exceptions.ValidationError):
    """A discharge file that cannot be taken as a whole (empty, not UTF-8, not CSV with its header or a JSON list
    of events): a 400 ``invalid_file`` at once, nothing stored."""


def _messages(detail) -> list[str]:
    if isinstance(detail, (list, tuple)):
        out: list[str] = []
        for item in detail:
            out.extend(_messages(item))
        return out
    if isinstance(detail, dict):
        return [str(v) for v in _flatten(detail).values()]
    return [str(detail)]


def _flatten(detail) -> dict:
    """DRF's nested error structure → ``{field: [messages]}``, nested fields as ``goods.0.hs_code``."""
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, (list, tuple)) and any(isinstance(v, (dict, list)) for v in value):
            for index, sub in enumerate(value):
                if sub:
                    walk(f"{prefix}.{index}" if prefix else str(index), sub)
        else:
            messages = [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
            out.setdefault(prefix or "non_field_errors", []).extend(messages)

    walk("", detail)
    return out


def _invalid(errors: dict) -> dict:
    return {"code": "invalid", "detail": _("The request is invalid; see the errors by field."), "errors": errors}


def error_body(exc) -> tuple[int, dict, dict]:
    """``(status, body, headers)`` for an exception the API knows, or ``(0, {}, {})``."""
    headers: dict[str, str] = {}
    if isinstance(exc, TooManyAttempts):
        body = exc.as_dict()
        body["retry_after"] = int(body.get("retry_after") or settings.REGISTRY_ACCESS_CODE_WINDOW_SECONDS)
        headers["Retry-After"] = str(body["retry_after"])
        return http_status(exc), body, headers
    if isinstance(exc, DomainError):
        status_code, body = http_status(exc), exc.as_dict()
        if status_code == 400:
            body.setdefault("errors", {"non_field_errors": [body["detail"]]})
        return status_code, body, headers
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return 400, _invalid({k: [str(m) for m in v] for k, v in errors.items()}), headers
    if isinstance(exc, RequestDataTooBig):
        return 413, {"code": "too_large", "detail": _("The request body is too large.")}, headers
    if isinstance(exc, SuspiciousOperation):
        return 400, bad_request_body(), headers
    if isinstance(exc, InvalidFile):
        return 400, {"code": "invalid_file", "detail": _("The file cannot be read; see errors.file."),
                     "errors": _flatten(exc.detail)}, headers
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return 400, _invalid(_flatten(detail)), headers
    if isinstance(exc, exceptions.ParseError):
        detail = _("The request body could not be read (malformed JSON or multipart data).")
        return 400, {"code": "parse_error", "detail": detail, "errors": {"non_field_errors": [detail]}}, headers
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        detail = (
            _("The API key is not valid, or it was revoked.") if isinstance(exc, exceptions.AuthenticationFailed)
            else _("Authentication is required: send \"Authorization: Api-Key <key>\" or sign in.")
        )
        return 401, {"code": "not_authenticated", "detail": detail}, headers
    if isinstance(exc, (exceptions.PermissionDenied, DjangoPermissionDenied)):
        if "CSRF" in str(getattr(exc, "detail", "")):
            detail = _("The CSRF check failed: a signed-in session must send its CSRF token.")
        else:
            detail = _("You are not allowed to do this.")
        return 403, {"code": "permission_denied", "detail": detail}, headers
    if isinstance(exc, (exceptions.NotFound, Http404)):
        return 404, not_found_body(), headers
    if isinstance(exc, exceptions.MethodNotAllowed):
        return 405, {"code": "method_not_allowed", "detail": _("This method is not allowed here.")}, headers
    if isinstance(exc, exceptions.NotAcceptable):
        return 406, {"code": "not_acceptable", "detail": _("This API answers in JSON only.")}, headers
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return 415, {"code": "unsupported_media_type",
                     "detail": _("This content type is not accepted here.")}, headers
    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait) if exc.wait is not None else 1
        headers["Retry-After"] = str(max(wait, 1))
        return 429, {"code": "throttled", "detail": _("Too many requests. Please slow down."),
                     "retry_after": max(wait, 1)}, headers
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        return exc.status_code, {"code": code, "detail": " ".join(_messages(exc.detail))}, headers
    return 0, {}, headers


def bad_request_body() -> dict:
    detail = _("The request could not be understood.")
    return {"code": "bad_request", "detail": detail, "errors": {"non_field_errors": [detail]}}


def not_found_body() -> dict:
    # The same body for an unknown object, another organisation's object and a wrong access code.
    return {"code": "not_found", "detail": _("Not found.")}


def server_error_body() -> dict:
    return {"code": "server_error",
            "detail": _("Something went wrong on our side. Please try again in a few minutes; if it happens again, "
                        "tell the registry's team.")}


def api_exception_handler(exc, context):
    status_code, body, headers = error_body(exc)
    if not status_code:
        response = drf_exception_handler(exc, context)
        if response is not None:
            return response
        request = context.get("request")
        logger.error("Internal Server Error: %s", getattr(request, "path", "?"), exc_info=exc,
                     extra={"status_code": 500, "request": getattr(request, "_request", request)})
        set_rollback()
        return Response(server_error_body(), status=500)
    response = Response(body, status=status_code)
    if status_code == 401:
        response["WWW-Authenticate"] = 'Api-Key realm="api"'
    for name, value in headers.items():
        response[name] = value
    return response


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """Any path under ``/api/v1/`` that names no endpoint (whatever the method: a JSON 404, never the CSRF
    page)."""
    return JsonResponse(not_found_body(), status=404)


# --- Django's error handlers (config/urls.py): JSON under /api/, the site's pages elsewhere ---------------------

def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception, *args, **kwargs):
    if _is_api(request):
        return JsonResponse(bad_request_body(), status=400)
    return defaults.bad_request(request, exception, *args, **kwargs)


def permission_denied(request, exception, *args, **kwargs):
    if _is_api(request):
        return JsonResponse({"code": "permission_denied", "detail": _("You are not allowed to do this.")}, status=403)
    return defaults.permission_denied(request, exception, *args, **kwargs)


def page_not_found(request, exception, *args, **kwargs):
    if _is_api(request):
        return JsonResponse(not_found_body(), status=404)
    return defaults.page_not_found(request, exception, *args, **kwargs)


def server_error(request, *args, **kwargs):
    """Anything that escaped a view or a middleware (Django has logged it with its traceback)."""
    if _is_api(request):
        return JsonResponse(server_error_body(), status=500)
    return defaults.server_error(request, *args, **kwargs)
