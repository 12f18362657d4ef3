"""deploy/backup and deploy/restore on the real PostgreSQL: a registry with ledger entries and a signed checkpoint,
backed up, restored into a fresh database where `verify_ledger` passes and the ledger is still append-only; a
tampered dump and a non-empty target are refused; the retention rule keeps what it promises."""

import os
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from guarantees.models import LedgerEntry
from guarantees.services.checkpoints import ledger_checkpoint_create
from guarantees.services.holds import hold_release, hold_reserve
from tests.builders import active_guarantee, scene

ROOT = Path(__file__).resolve().parents[2]
BACKUP = ROOT / "deploy" / "backup"
RESTORE = ROOT / "deploy" / "restore"

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("registry_signing_key")]


def _url(name: str) -> str:
    settings = connection.settings_dict
    user = settings["USER"] or "postgres"
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    return f"postgres://{user}{password}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{name}"


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MEDIA_ROOT")}
    return {**env, **{key: str(value) for key, value in extra.items()}}


def _run(*args, **env) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, env=_env(**env),
                          cwd=ROOT)


@pytest.fixture
def fresh_database():
    """A database name no one uses; dropped afterwards, whatever the test left in it."""
    name = f"cu_restore_{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg.connect(_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def registry(tmp_path, settings):
    """A guarantee with holds taken and released, a signed checkpoint over them, and an attestation-like file
    in MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    (settings.MEDIA_ROOT / "certificates").mkdir(parents=True)
    (settings.MEDIA_ROOT / "certificates" / "attestation-1.pdf").write_bytes(b"%PDF-1.7 signed attestation\n")
    guarantee = active_guarantee(scene(), amount=8_000_000)
    for n in range(5):
        hold = hold_reserve(guarantee=guarantee, amount=100_000 * (n + 1), reference=f"BK-{n}")
        if n % 2:
            hold_release(hold=hold)
    assert ledger_checkpoint_create() is not None
    return guarantee


@pytest.fixture
def backup(registry, tmp_path, settings):
    """One backup of the registry above, in BACKUP_DIR."""
    backup_dir = tmp_path / "backups"
    result = _run(BACKUP, DATABASE_URL=_url(connection.settings_dict["NAME"]), MEDIA_ROOT=settings.MEDIA_ROOT,
                  BACKUP_DIR=backup_dir)
    assert result.returncode == 0, result.stderr
    [folder] = list(backup_dir.iterdir())
    return folder


def _verify_ledger(database: str, signing_key) -> subprocess.CompletedProcess:
    # The application's environment, as production would give it: the same settings (and so the same MAC key)
    # and the checkpoints' trust roots.
    return _run(ROOT / ".venv" / "bin" / "python", "manage.py", "verify_ledger",
                DATABASE_URL=_url(database), DJANGO_SETTINGS_MODULE="config.settings.test",
                CERTIFICATE_TRUST_ROOTS_PATH=signing_key.root_path,
                CERTIFICATE_PKCS12_PATH=signing_key.pkcs12_path, CERTIFICATE_PKCS12_PASSPHRASE="test-only-passphrase")


def test_backup_holds_a_checked_dump_and_the_media(backup):
    assert sorted(p.name for p in backup.iterdir()) == ["MANIFEST", "SHA256SUMS", "database.dump", "media.tar.gz"]
    manifest = dict(line.split("=", 1) for line in (backup / "MANIFEST").read_text().splitlines())
    assert int(manifest["ledger_entries"]) == LedgerEntry.objects.count() > 5
    check = subprocess.run(["sha256sum", "--check", "--strict", "SHA256SUMS"], cwd=backup, capture_output=True)
    assert check.returncode == 0


def test_restore_into_a_fresh_database_passes_verify_ledger(backup, fresh_database, tmp_path, registry_signing_key):
    restored_media = tmp_path / "restored-media"
    result = _run(RESTORE, backup, _url(fresh_database), MEDIA_ROOT=restored_media)
    assert result.returncode == 0, result.stderr
    assert (restored_media / "certificates" / "attestation-1.pdf").read_bytes().startswith(b"%PDF")

    verified = _verify_ledger(fresh_database, registry_signing_key)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "LEDGER PROBLEM" not in verified.stderr

    with psycopg.connect(_url(fresh_database), autocommit=True) as restored:
        count = restored.execute("SELECT count(*) FROM guarantees_ledgerentry").fetchone()[0]
        assert count == LedgerEntry.objects.count()
        # The append-only trigger came back with the table.
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only|reversing"):
            restored.execute("UPDATE guarantees_ledgerentry SET d_held = d_held + 1")
        # And verify_ledger is not a formality on the copy: an entry changed behind the triggers is caught.
        with restored.transaction():
            restored.execute("SET LOCAL session_replication_role = replica")
            restored.execute("UPDATE guarantees_ledgerentry SET d_held = d_held + 1 WHERE id = "
                             "(SELECT max(id) FROM guarantees_ledgerentry WHERE d_held > 0)")
    tampered = _verify_ledger(fresh_database, registry_signing_key)
    assert tampered.returncode != 0
    assert "LEDGER PROBLEM" in tampered.stderr


def test_a_tampered_dump_is_refused_before_anything_is_touched(backup, fresh_database):
    dump = backup / "database.dump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0x01
    dump.write_bytes(bytes(data))
    result = _run(RESTORE, backup, _url(fresh_database))
    assert result.returncode == 4
    assert "REFUSED" in result.stderr
    with psycopg.connect(_url("postgres")) as admin:
        assert admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [fresh_database]).fetchone() is None


def test_a_non_empty_database_is_refused_unless_forced(backup, fresh_database, registry_signing_key):
    first = _run(RESTORE, backup, _url(fresh_database))
    assert first.returncode == 0, first.stderr
    with psycopg.connect(_url(fresh_database), autocommit=True) as restored:
        restored.execute("CREATE TABLE kept_by_someone (id int)")

    again = _run(RESTORE, backup, _url(fresh_database))
    assert again.returncode == 3
    assert "not empty" in again.stderr
    with psycopg.connect(_url(fresh_database)) as restored:
        assert restored.execute("SELECT to_regclass('kept_by_someone')").fetchone()[0] == "kept_by_someone"

    forced = _run(RESTORE, "--force", backup, _url(fresh_database))
    assert forced.returncode == 0, forced.stderr
    with psycopg.connect(_url(fresh_database)) as restored:
        assert restored.execute("SELECT to_regclass('kept_by_someone')").fetchone()[0] is None
    assert _verify_ledger(fresh_database, registry_signing_key).returncode == 0


def test_retention_deletes_old_backups_but_always_keeps_the_newest(registry, tmp_path, settings):
    backup_dir = tmp_path / "backups"
    backup_dir.mkdir()
    old = ["caution-20200101T020000Z", "caution-20200102T020000Z", "caution-20200103T020000Z"]
    for name in old:
        (backup_dir / name).mkdir()
    (backup_dir / "caution-20200101T020000Z.partial").mkdir()
    os.utime(backup_dir / "caution-20200101T020000Z.partial", (0, 0))
    (backup_dir / "not-a-backup").mkdir()
    database = _url(connection.settings_dict["NAME"])

    result = _run(BACKUP, DATABASE_URL=database, BACKUP_DIR=backup_dir, BACKUP_KEEP_DAYS=14, BACKUP_KEEP_MIN=2)
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in backup_dir.iterdir())
    # Today's and the newest old one (two at least); the other old ones and the stale partial are gone; a
    # folder the script did not name is never touched.
    assert len(names) == 3
    assert names[0] == "caution-20200103T020000Z" and names[1].startswith("caution-2")
    assert names[2] == "not-a-backup"
    assert "media=none" in (backup_dir / names[1] / "MANIFEST").read_text()
