"""What WeasyPrint may read while rendering: the project's static files and data: URIs, nothing else — in both
pipelines (the attestation, the claim documents). The attack: a document that names a local file outside the
static directories, a climb out of them, or an address on the network."""

import http.server
import shutil
import subprocess
import threading
from types import SimpleNamespace
from urllib.parse import urljoin

import pytest
from django.conf import settings

from guarantees.documents.fetcher import RefusedURL, static_base_url, static_url_fetcher
from guarantees.services.certificates import certificate_content, certificate_issue, certificate_pdf
from tests.guarantees.documents.conftest import pdftotext

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener():
    """A web server on the loopback that counts the requests it gets."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the standard library's name
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b'body::after { content: "NETWORK-SECRET" }')

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", hits=hits)
    server.shutdown()
    server.server_close()


@pytest.fixture
def secret_css(tmp_path):
    """A stylesheet outside the static directories whose content would show in the PDF if it were read."""
    path = tmp_path / "secret.css"
    path.write_text('body::before { content: "FILE-SECRET" }')
    return path


def _hostile_html(secret_css, listener) -> str:
    climb = "../" * 12 + str(secret_css).lstrip("/")
    return f"""<html><head>
      <link rel="stylesheet" href="{secret_css.as_uri()}">
      <link rel="stylesheet" href="{climb}">
      <link rel="stylesheet" href="{listener.url}/x.css">
      <link rel="stylesheet" href="http://127.0.0.1:1/x">
    </head><body><p>Attestation</p>
      <img src="file:///etc/passwd"><img src="{listener.url}/logo.png">
    </body></html>"""


def _assert_nothing_read(pdf: bytes, tmp_path, listener):
    text = pdftotext(pdf, tmp_path, "hostile")
    assert "Attestation" in text
    assert "FILE-SECRET" not in text and "NETWORK-SECRET" not in text
    assert listener.hits == []


def test_the_attestation_pipeline_reads_no_file_and_no_network(monkeypatch, guarantee, secret_css, listener,
                                                               tmp_path):
    from guarantees.documents import renderer

    monkeypatch.setattr(renderer, "render_to_string", lambda *a, **k: _hostile_html(secret_css, listener))
    content = certificate_content(version=guarantee.versions.get())
    _name, _type, pdf = renderer.CertificateRenderer(
        content=content, fingerprint="0" * 16, verify_url="https://caution.example.org/verify/x/",
    ).render("fr")
    _assert_nothing_read(pdf, tmp_path, listener)


def test_the_claim_documents_read_no_file_and_no_network(monkeypatch, secret_css, listener, tmp_path):
    from guarantees.documents import renderer

    monkeypatch.setattr(renderer, "render_to_string", lambda *a, **k: _hostile_html(secret_css, listener))
    for kind in (renderer.ClaimLetterRenderer, renderer.RejectionNoticeRenderer):
        document = kind(claim=SimpleNamespace(number="R-1"))
        monkeypatch.setattr(document, "context", lambda language: {})
        _name, _type, pdf = document.render("fr")
        _assert_nothing_read(pdf, tmp_path, listener)


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "http://127.0.0.1:1/x",
    "https://example.org/logo.png",
    "ftp://127.0.0.1/x",
    "file://otherhost/etc/passwd",
    "css/../../../../../../etc/passwd",
    "css/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/etc/passwd",
    "css/",  # a directory, not a file
])
def test_the_fetcher_refuses_anything_but_static_files(url):
    with pytest.raises(RefusedURL):
        static_url_fetcher().fetch(urljoin(static_base_url(), url))


def test_the_fetcher_serves_static_files_and_data_uris():
    fetcher = static_url_fetcher()
    css = fetcher.fetch(urljoin(static_base_url(), "css/registry.css"))
    assert css.read() == (settings.BASE_DIR / "static" / "css" / "registry.css").read_bytes()
    assert css.content_type == "text/css"
    assert fetcher.fetch("data:text/plain;base64,b2s=").read() == b"ok"
    assert static_base_url() == (settings.BASE_DIR / "static").resolve().as_uri() + "/"


def test_a_symbolic_link_out_of_the_static_directory_is_refused(settings, tmp_path, secret_css):
    static = tmp_path / "static"
    static.mkdir()
    (static / "link.css").symlink_to(secret_css)
    settings.STATICFILES_DIRS = [static]
    with pytest.raises(RefusedURL):
        static_url_fetcher().fetch(urljoin(static_base_url(), "link.css"))


def test_the_attestation_still_has_its_qr_code_and_its_fonts(guarantee):
    for tool in ("pdfimages", "pdffonts"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} (poppler-utils) is not installed")
    pdf = certificate_pdf(certificate=certificate_issue(version=guarantee.versions.get(), language="fr"))
    path = settings.BASE_DIR / "test-output" / "certificates" / "fetcher-attestation.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pdf)
    images = subprocess.run(["pdfimages", "-list", str(path)], check=True, capture_output=True, text=True,
                            timeout=60).stdout.splitlines()[2:]
    assert len(images) == 1  # the QR code (a data: URI)
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True,
                           timeout=60).stdout
    assert "DejaVu" in fonts
