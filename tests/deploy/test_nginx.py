"""nginx in front of the application (deploy/nginx/caution.conf.template): nginx itself accepts the
configuration, its body limits are the application's, and pages, static files and the API go through it with
the forwarded headers the application trusts (TRUSTED_PROXY_COUNT=1: the client's address as nginx saw it, a
spoofed X-Forwarded-For ignored; https from X-Forwarded-Proto)."""

import json
import re
import time
from http.cookies import SimpleCookie

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import resolve, reverse

from accounts.models import SignInAttempt
from guarantees.web.uploads import FORM_OVERHEAD_BYTES
from tests.deploy.nginx import Nginx, free_port, self_signed_certificate

CLIENT = "127.0.0.2"
OTHER_CLIENT = "127.0.0.3"
SPOOFED = "198.51.100.7"


@pytest.fixture
def nginx(tmp_path):
    directory = tmp_path / "nginx"
    directory.mkdir()
    cert, _key = self_signed_certificate(directory)
    server = Nginx(directory=directory, https_port=free_port(), http_port=free_port(), cert=cert)
    yield server
    server.stop()


def _sizes(site: str) -> dict[str, int]:
    """``client_max_body_size`` of the application's server block, per location (``""`` for the server's own), in
    bytes."""
    block = site[site.index("server_name localhost;", site.index("ssl http2")):]
    sizes, location = {}, ""
    for line in block.splitlines():
        line = line.strip()
        if line.startswith("location "):
            location = line.removeprefix("location ").removesuffix("{").strip()
        elif line == "}":
            location = ""
        match = re.fullmatch(r"client_max_body_size (\d+)k;", line)
        if match:
            sizes[location] = int(match.group(1)) * 1024
    return sizes


def test_nginx_accepts_the_configuration(nginx, tmp_path):
    nginx.configure(upstream="127.0.0.1:8000", static_root=tmp_path / "static")
    result = nginx.test_config()
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_a_broken_configuration_is_refused(nginx, tmp_path):
    """The check above can fail: the same template with one directive misspelt does not pass."""
    nginx.configure(upstream="127.0.0.1:8000", static_root=tmp_path / "static")
    site = nginx.directory / "caution.conf"
    site.write_text(site.read_text().replace("proxy_read_timeout 75s;", "proxy_read_timeout_typo 75s;"))
    assert nginx.test_config().returncode != 0


def test_body_limits_are_the_applications(nginx, tmp_path):
    from guarantees.web.forms.transits import MAX_DISCHARGE_FILE_BYTES
    from guarantees.web.forms.transits import MAX_LIST_BYTES

    sizes = _sizes(nginx.configure(upstream="127.0.0.1:8000", static_root=tmp_path / "static"))
    enquiry_answer = reverse("guarantees:enquiry_answer", args=[7])
    expected = {
        "": django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
        "/verify/": django_settings.CERTIFICATE_UPLOAD_MAX_BYTES,
        "= /api/v1/discharges/files": django_settings.API_DISCHARGE_FILE_MAX_BYTES,
        "= /api/v1/reconciliations": MAX_LIST_BYTES,
        "= /discharges/upload/": MAX_DISCHARGE_FILE_BYTES,
        "= /reconciliations/send/": MAX_LIST_BYTES,
        "~ ^/enquiries/[0-9]+/answer/$": (
            django_settings.REGISTRY_ENQUIRY_MAX_FILES * django_settings.REGISTRY_ENQUIRY_FILE_MAX_BYTES
        ),
    }
    assert sizes == {location: limit + FORM_OVERHEAD_BYTES for location, limit in expected.items()}
    # The locations are the application's URLs: a route renamed without nginx following fails here.
    assert reverse("api:discharge-files") == "/api/v1/discharges/files"
    assert reverse("api:reconciliation-list") == "/api/v1/reconciliations"
    assert reverse("guarantees:discharge_upload") == "/discharges/upload/"
    assert reverse("guarantees:reconciliation_upload") == "/reconciliations/send/"
    assert re.fullmatch(r"/enquiries/[0-9]+/answer/", enquiry_answer)
    assert reverse("guarantees:verify", args=["GRN"]).startswith("/verify/")
    assert resolve("/verify/").url_name == "verify_start"


def test_forwarded_headers_are_appended_and_set_never_passed_through(nginx, tmp_path):
    site = nginx.configure(upstream="127.0.0.1:8000", static_root=tmp_path / "static")
    headers = dict(re.findall(r"^\s*proxy_set_header (\S+) (\S+);", site, flags=re.MULTILINE))
    # Appends the peer to whatever chain came in (accounts/network.py reads the last TRUSTED_PROXY_COUNT hops; a
    # second proxy in front would append its own); the scheme is nginx's own, whatever the client sent.
    assert headers == {"Host": "$http_host", "X-Forwarded-For": "$proxy_add_x_forwarded_for",
                       "X-Forwarded-Proto": "$scheme", "X-Request-ID": "$request_id"}


@pytest.fixture(scope="module")
def static_root(tmp_path_factory, django_db_blocker):
    """collectstatic into a fresh STATIC_ROOT with the production storage (hashed names, compressed copies), once
    for the module."""
    root = tmp_path_factory.mktemp("static")
    storages = {**django_settings.STORAGES, "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    # The libraries' files (Swagger UI, the admin's, DRF's) are most of the 13 MB that compression takes minutes
    # over on this machine; the project's own are enough to show how nginx serves what collectstatic wrote.
    with override_settings(STATIC_ROOT=root, STORAGES=storages):
        call_command("collectstatic", "--noinput", "-v", "0", "-i", "drf_spectacular_sidecar", "-i", "admin",
                     "-i", "rest_framework")
    manifest = json.loads((root / "staticfiles.json").read_text())["paths"]
    return root, manifest


@pytest.fixture
def behind_nginx(settings, nginx, live_server, static_root):
    """The application as production runs it behind one nginx, and that nginx started in front of it."""
    settings.REGISTRY_TRUSTED_PROXY_COUNT = 1
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.API_THROTTLE_RATES = {"api_key": "", "user": "", "anon": "2/m"}
    upstream = live_server.url.removeprefix("http://").replace("localhost", "127.0.0.1")
    nginx.configure(upstream=upstream, static_root=static_root[0])
    nginx.start()
    return nginx


@pytest.mark.django_db(transaction=True)
def test_static_files_come_from_static_root_through_nginx(behind_nginx, static_root):
    root, manifest = static_root
    hashed = manifest["css/registry.css"]
    answer = behind_nginx.request("GET", f"/static/{hashed}")
    assert answer.status == 200
    assert answer.body == (root / hashed).read_bytes()
    assert "immutable" in answer.headers["cache-control"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    compressed = behind_nginx.request("GET", f"/static/{hashed}", headers={"Accept-Encoding": "gzip"})
    assert compressed.headers.get("content-encoding") == "gzip"
    # Private documents are never served by nginx.
    assert behind_nginx.request("GET", "/media/certificates/any.pdf").status == 404


@pytest.mark.django_db(transaction=True)
def test_a_page_sees_https_and_the_client_address_nginx_saw(behind_nginx):
    page = behind_nginx.request("GET", "/accounts/login/")
    assert page.status == 200, page.body[:500]
    cookies = SimpleCookie()
    for header in page.cookies:
        cookies.load(header)
    token = cookies["csrftoken"].value

    def sign_in(scheme):
        origin = f"{scheme}://localhost:{behind_nginx.https_port}"
        form = f"login=nobody%40example.org&password=wrong-password-0&csrfmiddlewaretoken={token}".encode()
        return behind_nginx.request("POST", "/accounts/login/", body=form, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={token}",
            "Origin": origin, "Referer": f"{origin}/accounts/login/",
            # What a client writes itself: nginx appends the address it saw after it.
            "X-Forwarded-For": SPOOFED,
        })

    # The CSRF check compares the Origin with the scheme the application believes: it takes https and
    # refuses http, so it saw https (from X-Forwarded-Proto; its own socket is plain http).
    assert sign_in("http").status == 403
    answer = sign_in("https")
    assert answer.status == 200, answer.body[:500]
    attempt = SignInAttempt.objects.get(email="nobody@example.org")
    # The client as nginx saw it; not the application's socket peer (127.0.0.1), not the spoofed header.
    assert attempt.ip_address == CLIENT
    assert attempt.succeeded is False


@pytest.mark.django_db(transaction=True)
def test_the_api_counts_each_client_nginx_saw(behind_nginx):
    schema = "/api/v1/schema/"
    # The limit counts in fixed windows of a minute: three requests astride its turn would be counted in two.
    into_minute = time.time() % 60
    if into_minute > 50:
        time.sleep(60.2 - into_minute)
    statuses = [
        behind_nginx.request("GET", schema, headers={"X-Forwarded-For": f"192.0.2.{n}"}).status for n in range(3)
    ]
    # A new spoofed address each time does not reset the anonymous count of 127.0.0.2...
    assert statuses == [200, 200, 429]
    # ...and another client behind the same nginx has its own.
    assert behind_nginx.request("GET", schema, source=OTHER_CLIENT).status == 200
    unauthenticated = behind_nginx.request("GET", "/api/v1/transits", source=OTHER_CLIENT)
    assert unauthenticated.status == 401
    assert json.loads(unauthenticated.body)["code"] == "not_authenticated"


@pytest.mark.django_db(transaction=True)
def test_a_body_over_the_limit_stops_at_nginx_in_json_for_the_api(behind_nginx):
    limit = django_settings.API_DISCHARGE_FILE_MAX_BYTES + FORM_OVERHEAD_BYTES
    answer = behind_nginx.request("POST", "/api/v1/discharges/files", body=b"x" * (limit + 1),
                                  headers={"Content-Type": "text/csv", "Authorization": "Api-Key nope"})
    assert answer.status == 413
    assert json.loads(answer.body)["code"] == "too_large"
    # Under nginx's limit the request reaches the application (which refuses the key).
    small = behind_nginx.request("POST", "/api/v1/discharges/files", body=b"message_id\n",
                                 headers={"Content-Type": "text/csv", "Authorization": "Api-Key nope"})
    assert small.status == 401


@pytest.mark.django_db(transaction=True)
def test_plain_http_is_sent_to_https_and_unknown_names_get_nothing(behind_nginx):
    answer = behind_nginx.plain_request("/accounts/login/")
    assert answer.status == 301
    assert answer.headers["location"] == "https://localhost/accounts/login/"
    with pytest.raises(OSError):
        behind_nginx.request("GET", "/", sni="other.example.org")

