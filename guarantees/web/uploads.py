"""Upload limits enforced before a request body is read.

Django parses a multipart body as soon as anything touches ``request.POST`` or ``request.FILES``, streaming
every file part to a temporary file, and only then can a form compare the file's size with its limit. Worse,
``CsrfViewMiddleware`` touches ``request.POST`` before the view runs. So a view that accepts an upload from
anybody (the public verification page) declares its limit with ``@upload_limit(...)``, and
``UploadLimitMiddleware``, placed before ``CsrfViewMiddleware``, acts on it first:

- a declared ``Content-Length`` above the limit plus room for the other form fields is answered ``413`` at once,
  without reading a byte of the body;
- otherwise a handler goes first in ``request.upload_handlers`` and counts the file bytes as they stream: past
  the limit it stops the parsing there (``StopUpload(connection_reset=True)``, so Django does not drain the
  rest) and flags ``request.upload_too_large`` for the view to say so. This covers a body whose length was not
  declared (chunked) on a server that passes it through, and a file larger than the limit in a body that
  declared little more.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.shortcuts import render

# Room in the body for the form's other fields and the multipart boundaries and headers.
FORM_OVERHEAD_BYTES = 64 * 1024
TOO_LARGE_TEMPLATE = "413.html"


def upload_limit(max_bytes: int | Callable[[], int]):
    """Declare the largest upload ``view`` accepts (bytes, or a callable read per request so that a setting
    changed at run time, or in a test, applies)."""

    def decorate(view):
        view.upload_limit = max_bytes
        return view

    return decorate


def _limit_of(view) -> int | None:
    limit = getattr(view, "upload_limit", None)
    return limit() if callable(limit) else limit


def _declared_length(request) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


class SizeLimitUploadHandler(FileUploadHandler):
    """Passes file data on to the next handler until ``limit`` bytes of files have come, then stops parsing."""

    def __init__(self, request=None, *, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            if self.request is not None:
                self.request.upload_too_large = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


def too_large(request, limit: int):
    response = render(request, TOO_LARGE_TEMPLATE, {"limit_mb": max(1, limit // (1024 * 1024))}, status=413)
    response["Cache-Control"] = "no-store"
    return response


class UploadLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        limit = _limit_of(view_func)
        if limit is None or request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        request.upload_too_large = False
        declared = _declared_length(request)
        if declared is not None and declared > limit + FORM_OVERHEAD_BYTES:
            return too_large(request, limit)
        # The other fields stay under Django's own cap (DATA_UPLOAD_MAX_MEMORY_SIZE); this one counts the files.
        request.upload_handlers.insert(0, SizeLimitUploadHandler(request, limit=limit))
        return None
