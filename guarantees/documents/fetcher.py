"""What WeasyPrint may read while it renders a document of the registry: the project's own static files and
``data:`` URIs, nothing else.

WeasyPrint fetches every URL a document names (``<img src>``, ``<link href>``, CSS ``url()``), through the local
file system or the network by default. The documents print data that others typed (names, addresses, grounds of
a claim): should any of it ever reach the HTML unescaped, ``file:///etc/passwd`` or an address inside the
network would be read by the worker and could end up in the PDF. So both pipelines (the attestation,
``guarantees.documents.renderer``, and the claim documents, ``guarantees.services.claims``) build their
document with ``html_document``: its fetcher refuses every URL but a ``data:`` URI or a file under one of
``STATICFILES_DIRS`` (resolved, so neither ``..`` nor a symbolic link leads out), and its base URL is the first
static directory, so a relative path means a static file. A refused resource is left out of the document (and
logged): the rendering goes on without it. Fonts are the system's (fontconfig), never fetched.
"""

from __future__ import annotations

import functools
import logging
import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings

logger = logging.getLogger(__name__)


class RefusedURL(ValueError):
    """A document named a resource outside the project's static files."""


def static_roots() -> list[Path]:
    return [Path(root).resolve() for root in settings.STATICFILES_DIRS]


def static_base_url() -> str | None:
    """``file:///…/static/``: what a relative URL in a document is relative to."""
    roots = static_roots()
    return roots[0].as_uri() + "/" if roots else None


def _static_file(url: str) -> Path:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise RefusedURL(f"not a local file: {url}")
    path = Path(unquote(parts.path)).resolve()
    for root in static_roots():
        if path.is_relative_to(root) and path.is_file():
            return path
    raise RefusedURL(f"not one of the project's static files: {url}")


@functools.cache
def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFilesFetcher(URLFetcher):
        """WeasyPrint's fetcher, limited to ``data:`` URIs and the project's static files; no redirect, no
        network."""

        def __init__(self):
            super().__init__(allowed_protocols=("data", "file"), allow_redirects=False, timeout=1)

        def fetch(self, url, headers=None):
            scheme = url.split(":", 1)[0].lower() if ":" in url else ""
            try:
                if scheme == "data":
                    return super().fetch(url, headers)
                if scheme == "file":
                    path = _static_file(url)
                    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})
                raise RefusedURL(f"neither a static file nor a data: URI: {url}")
            except RefusedURL:
                logger.warning("document resource refused: %s", url[:200])
                raise

    return StaticFilesFetcher


def static_url_fetcher():
    """A fresh fetcher (WeasyPrint keeps state on it during one rendering)."""
    return _fetcher_class()()


def html_document(html: str):
    """A WeasyPrint ``HTML`` of ``html`` that can read only the project's static files and ``data:`` URIs."""
    from weasyprint import HTML

    return HTML(string=html, base_url=static_base_url(), url_fetcher=static_url_fetcher())
