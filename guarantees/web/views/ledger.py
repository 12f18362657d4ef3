"""The ledger's signed checkpoints, for the secretariat to download and keep outside the registry."""

import json
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe
from guarantees.models import LedgerCheckpoint
from guarantees.services.checkpoints import checkpoint_export
from guarantees.web.common import paginate, require


@require_safe
@login_required
def ledger_checkpoints(request):
    require(request, "ledger.audit")
    page, query = paginate(request, LedgerCheckpoint.objects.defer("document").order_by("-created_at", "-pk"))
    return render(request, "guarantees/operations/ledger_checkpoints.html", {"page": page, "query": query})


@require_safe
@login_required
def ledger_checkpoint_download(request, pk):
    require(request, "ledger.audit")
    checkpoint = get_object_or_404(LedgerCheckpoint, pk=pk)
    response = HttpResponse(json.dumps(checkpoint_export(checkpoint), indent=1), content_type="application/json")
    name = f"ledger-checkpoint-{checkpoint.created_at:%Y%m%dT%H%M%SZ}-{checkpoint.digest[:12]}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
