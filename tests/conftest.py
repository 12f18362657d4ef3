import pytest

from guarantees.documents.devcert import devcert_create
from tests.accounts.helpers import give_totp, sign_in_as

PASSPHRASE = "test-only-passphrase"


@pytest.fixture(autouse=True)
def _french_by_default(settings):
    settings.LANGUAGE_CODE = "fr"


@pytest.fixture(scope="session")
def certificate_keys(tmp_path_factory):
    """A registry signing key and its root, made once per session in a temporary directory."""
    directory = tmp_path_factory.mktemp("certificate-keys")
    return devcert_create(
        pkcs12_path=directory / "registry-test.p12", root_path=directory / "registry-test-root.pem",
        passphrase=PASSPHRASE,
    )


@pytest.fixture
def registry_signing_key(settings, certificate_keys):
    """The settings pointed at the session's signing key and root (attestations, checkpoints). No timestamp
    authority (no network)."""
    settings.CERTIFICATE_PKCS12_PATH = str(certificate_keys.pkcs12_path)
    settings.CERTIFICATE_PKCS12_PASSPHRASE = PASSPHRASE
    settings.CERTIFICATE_TRUST_ROOTS_PATH = str(certificate_keys.root_path)
    settings.CERTIFICATE_TSA_URL = None
    return certificate_keys


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (report snapshots, counters, allauth's rate limits and used TOTP codes):
    no test inherits another's, and a rolled-back row's id that comes back in the next test on SQLite finds
    nothing kept for it."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _event_rules_read_afresh():
    """The rules of transit events are cached per process; a test's rolled-back change must not outlive it."""
    from guarantees.services.events import event_rules_changed

    event_rules_changed()
    yield
    event_rules_changed()


@pytest.fixture
def admin_client(db, admin_user):
    """pytest-django's superuser, enrolled in TOTP (staff must be) and signed in through ``sign_in_as``."""
    from django.test import Client

    give_totp(admin_user)
    return sign_in_as(Client(), admin_user)


TRANSACTIONAL_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences"}


def pytest_collection_modifyitems(items):
    """A test whose rows are committed (a live server's thread, ``transactional_db``) may read through the
    "reporting" alias on a connection of its own (a page of reports, the forwarder's home page and its forecast):
    the alias mirrors the default's test database, so allowing it sets up and flushes nothing more. (A test inside
    a transaction reads it through the default connection itself: ``_reporting_alias_reads_the_tests_data``.)"""
    for item in items:
        marker = item.get_closest_marker("django_db")
        fixtures = set(getattr(item, "fixturenames", ()))
        kwargs = dict(marker.kwargs) if marker is not None else {}
        if marker is not None and marker.args:
            kwargs.setdefault("transaction", marker.args[0])
        if not (kwargs.get("transaction") or fixtures & TRANSACTIONAL_FIXTURES):
            continue
        databases = kwargs.get("databases")
        if databases == "__all__":
            continue
        kwargs["databases"] = sorted(set(databases or ["default"]) | {"reporting"})
        item.add_marker(pytest.mark.django_db(**kwargs), append=False)


@pytest.fixture(autouse=True)
def _reporting_alias_reads_the_tests_data(request):
    """The "reporting" alias mirrors the default's test database (TEST MIRROR); inside a test's transaction a second
    connection would not see the rows the test wrote, so the alias uses the default connection itself. The test's
    database is set up first (its guards then apply to each connection as it is), and the alias gets its own
    connection back before the test's database is torn down. (Tests that commit, such as the browser tests' live
    server, see the same rows either way.)"""
    if request.node.get_closest_marker("django_db") is None and not set(request.fixturenames) & {
        "db", "transactional_db", "live_server", "django_db_reset_sequences"
    }:
        yield
        return
    from django.db import connections

    request.getfixturevalue("_django_db_helper")
    own = connections["reporting"]
    connections["reporting"] = connections["default"]
    yield
    connections["reporting"] = own
