"""Certificates: the download of a version's signed PDF (for who may see the guarantee) and the public
verification page the QR code leads to."""

import ipaddress
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe
from accounts.network import client_ip
from guarantees.web.uploads import upload_limit
from guarantees.grn import grn_is_valid, grn_normalise
from guarantees.models import Certificate, Guarantee
from guarantees.services.certificates import (
    certificate_check_upload,
    certificate_issue,
    certificate_pdf,
    verification_allowed,
    verification_missed,
    version_standing,
)
from guarantees.web.common import get_guarantee, require
from guarantees.web.forms.certificates import CertificateUploadForm, GrnForm


VERIFY_TEMPLATE = "guarantees/certificate/verify.html"


@require_safe
@login_required
def certificate_download(request, pk, number):
    require(request, "certificate.download")
    g = get_guarantee(request, pk)
    version = get_object_or_404(g.versions, number=number)
    languages = [code for code, _name in settings.LANGUAGES]
    language = request.GET.get("lang") or languages[0]
    if language not in languages:
        raise Http404
    # Normally stored by the task already; rendered now if not (it failed, or it predates certificates).
    certificate = certificate_issue(version=version, language=language)
    response = HttpResponse(certificate_pdf(certificate=certificate), content_type="application/pdf")
    disposition = "inline" if request.GET.get("inline") else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{certificate.filename}"'
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _client(request) -> str:
    """Who the limits count: the client's address as the trusted proxies saw it (``accounts.network``), so a
    forged X-Forwarded-For changes nothing; an IPv6 client by its /64, the block one subscriber is given, so that
    changing addresses within it does not start the count over."""
    address = client_ip(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped is not None:  # "::ffff:192.0.2.1" is the IPv4 client 192.0.2.1
            return str(ip.ipv4_mapped)
        return f"{ipaddress.ip_network(f'{ip}/64', strict=False).network_address}/64"
    return str(ip)


def _too_many(request) -> HttpResponse:
    response = render(request, "guarantees/certificate/verify_429.html", status=429)
    response["Retry-After"] = str(settings.CERTIFICATE_VERIFY_RATE_WINDOW_SECONDS)
    return response


def _upload(request, guarantee=None):
    """(form, check) for a POST carrying a file; (empty form, None) otherwise. On a guarantee's page, a file of
    another guarantee is refused there."""
    if request.method != "POST":
        return CertificateUploadForm(), None
    form = CertificateUploadForm(request.POST, request.FILES, cut_off=getattr(request, "upload_too_large", False))
    if not form.is_valid():
        return form, None
    return CertificateUploadForm(), certificate_check_upload(data=form.cleaned_data["file"].read(),
                                                             guarantee=guarantee)


def _public(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "no-store"
    return response


def _upload_limit() -> int:
    return settings.CERTIFICATE_UPLOAD_MAX_BYTES


@upload_limit(_upload_limit)
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request, grn):
    """The page of one guarantee version (``?v=N``, default the current one), with the upload form."""
    client = _client(request)
    if not verification_allowed(client=client):
        return _too_many(request)
    normalised = grn_normalise(grn)
    if normalised != grn:
        query = request.GET.urlencode()
        return redirect(reverse("guarantees:verify", args=[normalised]) + (f"?{query}" if query else ""))
    if not grn_is_valid(normalised):
        raise Http404  # a typo, caught by the check digits: no look-up, not a miss
    guarantee = (
        Guarantee.objects.select_related("principal", "bank__organisation", "country").filter(grn=normalised).first()
    )
    if guarantee is None:
        verification_missed(client=client)
        raise Http404
    number = request.GET.get("v")
    if number is not None and not number.isdigit():
        raise Http404
    standing = version_standing(guarantee=guarantee, number=int(number) if number else None)
    if standing is None:
        raise Http404
    certificate = Certificate.objects.filter(version=standing.version).order_by("pk").first()
    form, check = _upload(request, guarantee)
    context = {
        "standing": standing,
        "guarantee": guarantee,
        "version": standing.version,
        "fingerprint": certificate.fingerprint_display if certificate else "",
        "form": form,
        "check": check,
    }
    return _public(render(request, VERIFY_TEMPLATE, context))


@upload_limit(_upload_limit)
@require_http_methods(["GET", "HEAD", "POST"])
def verify_start(request):
    """The page without a GRN: type a reference number, or upload a certificate."""
    if not verification_allowed(client=_client(request)):
        return _too_many(request)
    grn_form = GrnForm(request.GET or None)
    if request.method != "POST" and grn_form.is_valid():
        return redirect(reverse("guarantees:verify", args=[grn_normalise(grn_form.cleaned_data["grn"])]))
    form, check = _upload(request)
    return _public(render(request, VERIFY_TEMPLATE, {"form": form, "check": check, "grn_form": GrnForm()}))
