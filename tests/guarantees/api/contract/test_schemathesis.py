"""Schemathesis over the whole API, from outside, with every check and every phase.

The run is the command line's (``schemathesis run``) against the app behind pytest-django's live server, with
a Togolese customs system's API key: examples, coverage, fuzzing (positive and negative data) and the stateful
phase, which follows the schema's links (a declaration to its transit and its events, a file to its job, a list
to its report). Every check runs — server errors, status codes, content types, response headers and bodies
against the schema, schema-violating requests refused, use after free, missing auth... — with one adjustment,
``positive_data_acceptance`` taking the 400s the schema documents in words (``st_hooks.py`` says which).

Bounded for the suite (``SCHEMATHESIS_MAX_EXAMPLES``, default 8, one worker, deterministic data); a deeper run by
hand: ``SCHEMATHESIS_MAX_EXAMPLES=200``.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[4]
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "8")


def test_the_whole_api_keeps_its_contract(live_api, tmp_path):
    schemathesis = Path(sys.executable).parent / "schemathesis"
    command = [
        str(schemathesis), "run", f"{live_api.url}/api/v1/schema/", "--url", live_api.url,
        "-H", f"Authorization: Api-Key {live_api.key('TG')}",
        "--checks", "all", "--exclude-checks", "positive_data_acceptance",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", MAX_EXAMPLES, "--generation-deterministic", "--workers", "1",
        "--max-time", "240", "--request-timeout", "30", "--no-color",
        "--report", "junit", "--report-dir", str(tmp_path),
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.guarantees.api.contract.st_hooks", "PYTHONPATH": str(ROOT)}
    run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=420)
    output = run.stdout + run.stderr
    (tmp_path / "schemathesis.txt").write_text(output)
    assert "Stateful" in output, output[-4000:]
    assert run.returncode == 0, output[-12000:]


def test_the_custom_check_still_refuses_an_undocumented_400():
    from tests.guarantees.api.contract.st_hooks import cites_only_documented_rules

    assert cites_only_documented_rules(400, {"code": "invalid", "errors": {"declared_at": ["out of range"]}})
    assert cites_only_documented_rules(400, {"code": "invalid_file", "errors": {"file": ["not UTF-8"]}})
    assert not cites_only_documented_rules(400, {"code": "invalid", "errors": {"message_id": ["too long"]}})
    assert not cites_only_documented_rules(400, {"code": "invalid", "errors": {"goods.0.hs_code": ["digits"]}})
    assert not cites_only_documented_rules(400, {"code": "parse_error", "errors": {"non_field_errors": ["x"]}})
    assert not cites_only_documented_rules(409, {"code": "conflict"})
