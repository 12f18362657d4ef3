"""Background work that fails ends in a visible failed state with its reason, its page stops refreshing, and it is
listed under the failed tasks — also when the task ran in-process after the commit (the embedded default)."""

import pytest
from django.urls import reverse

from guarantees.models import (
    DischargeFile,
    JobStatus,
    ReconciliationRun,
    ReconciliationStatus,
    TaskFailure,
)
from guarantees.operations.reconciliation import reconciliation_receive
from guarantees.queue import queue_after_commit
from guarantees.services.transits import discharge_file_receive
from tests.accounts.helpers import sign_in_as

pytestmark = pytest.mark.django_db


def _a_list_that_cannot_be_compared(world) -> ReconciliationRun:
    """A run holding an amount beyond any database's integer (as one stored before amounts were bounded): its
    comparison cannot write its report."""
    return ReconciliationRun.objects.create(
        customs=world.togo, country_id="TG", as_of=world.guarantee.created_at, source="api",
        submitted=[{"declaration_ref": "R-HUGE", "amount": 2**64}], listed=1,
    )


def test_a_comparison_that_fails_ends_failed_with_its_reason_and_is_listed(world, django_capture_on_commit_callbacks):
    run = _a_list_that_cannot_be_compared(world)
    with django_capture_on_commit_callbacks(execute=True):
        queue_after_commit("guarantees.tasks.run_reconciliation", run.pk)
    run.refresh_from_db()
    assert run.status == ReconciliationStatus.FAILED and run.finished_at is not None
    assert "Error" in run.error or "error" in run.error.lower()
    failure = TaskFailure.objects.get(task_name="guarantees.tasks.run_reconciliation")
    assert failure.args == [run.pk] and not failure.resolved

    client = sign_in_as(__import__("django.test", fromlist=["Client"]).Client(), world.tg_officer)
    page = client.get(reverse("guarantees:reconciliation_detail", args=[run.pk])).content.decode()
    assert 'http-equiv="refresh"' not in page
    assert 'data-testid="run-failed-reason"' in page
    secretariat = sign_in_as(__import__("django.test", fromlist=["Client"]).Client(), world.secretariat)
    listed = secretariat.get(reverse("guarantees:task_failures")).content.decode()
    assert "run_reconciliation" in listed


def test_a_discharge_file_whose_task_fails_ends_failed_and_is_listed(world, monkeypatch,
                                                                    django_capture_on_commit_callbacks):
    import guarantees.tasks

    def crash(*, job_id):
        raise RuntimeError("disk full")

    monkeypatch.setattr(guarantees.tasks, "discharge_file_process_bulk", crash)
    with django_capture_on_commit_callbacks(execute=True):
        job = discharge_file_receive(sender=world.burkina, filename="d.csv",
                                     content=b"message_id,declaration_ref,office,occurred_at\n")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.errors[0]["code"] == "processing_failed" and "disk full" in job.errors[0]["detail"]
    assert TaskFailure.objects.filter(task_name__startswith="guarantees.tasks.process_discharge_file").exists()


def test_a_list_with_an_amount_beyond_the_limit_is_refused_at_once(world):
    from guarantees.errors import InvalidDeclaration

    with pytest.raises(InvalidDeclaration) as refused:
        reconciliation_receive(customs=world.togo, transits=[{"declaration_ref": "R-1", "amount": 2**63}])
    assert "transits.1" in refused.value.extra["errors"]
    assert not ReconciliationRun.objects.exists()
    assert not DischargeFile.objects.exists()
