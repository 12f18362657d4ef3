"""The offline verifier (``/verify/scan/``): a page installable on a phone that checks an attestation's QR payload
without a network, and its web app manifest and service worker, all served from this site.

The page knows nothing secret and sends nothing: the payload stays in the URL fragment, the signature is checked
in the browser (WebCrypto, ES256) against the cached keys of ``/api/v1/offline/keys``, the status against the
cached list of ``/api/v1/offline/status-list``. Online it also asks the live standing (``verify_live``), under
the public page's limits. Its words come from this template (translated), never from the script.
"""

import json

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from guarantees.grn import grn_is_valid, grn_normalise
from guarantees.models import Guarantee
from guarantees.services.certificates import verification_allowed, verification_missed, version_standing
from guarantees.web.views.certificates import _client

# Files the service worker keeps for offline use (besides the page itself).
_SHELL = ("css/registry.css", "css/verify-scan.css", "js/verify-scan.js", "js/vendor/jsQR.js",
          "img/verifier-192.png", "img/verifier-512.png")


def verifier_messages() -> dict:
    """Every word the verifier's script shows, translated here (the script holds none). ``%(x)s`` are filled in
    by the script."""
    from guarantees.services.certificates import Standing

    return {
        "authentic": _("Authentic"),
        "not_authentic": _("NOT authentic"),
        "authentic_reason": _("Signed by the registry of the caution unique; the content has not been changed."),
        "reasons": {
            "not_a_payload": _("This is not the code of an attestation of caution unique."),
            "malformed": _("The code is damaged or incomplete: scan it again."),
            "unknown_key": _("Signed with a key the registry does not list: a forgery, or the keys on this phone "
                             "are out of date (connect once to refresh them)."),
            "bad_signature": _("The signature does not match the content: the attestation was altered or forged."),
            "key_not_valid_then": _("Signed with a key outside its period of validity: a forgery."),
            "no_keys": _("No registry keys on this phone yet: open this page once with a network."),
            "unsupported": _("This browser cannot check signatures: use an up-to-date Chrome, Safari or Firefox."),
        },
        "standings": {value: str(label) for value, label in Standing.choices},
        "called": _("Called: a claim was made on this guarantee."),
        "status_as_of": _("Status on %(when)s (status list):"),
        "no_list": _("No status list on this phone: the status is unknown. Connect once to receive it."),
        "list_age": _("Status list of %(when)s, %(hours)s h old."),
        "list_old": _("The status list is more than %(hours)s hours old: connect to refresh it before relying on "
                      "the status."),
        "list_bad": _("The status list on this phone does not verify: it is ignored."),
        "keys_info": _("%(count)s registry key(s) on this phone."),
        "live": _("Live status in the register: %(label)s."),
        "live_unavailable": _("Live status unavailable (no network): rely on the status list."),
        "live_unknown": _("The register does not know this version."),
        "expired_today": _("The validity printed in the code has ended."),
        "not_yet_today": _("The validity printed in the code has not started yet."),
        "camera_unavailable": _("Camera not available: type or paste the code instead."),
        "fields": {
            "grn": _("Guarantee number"), "v": _("Version"), "pn": _("Principal"), "nif": _("Tax number (NIF)"),
            "bk": _("Guarantor bank"), "amt": _("Amount"), "validity": _("Validity"),
            "ct": _("Countries covered"), "io": _("Issued on"), "kid": _("Signed with key"),
        },
        "validity": _("from %(from)s to %(until)s"),
    }


@require_safe
def verify_scan(request):
    response = render(request, "guarantees/certificate/scan.html", {
        "keys_url": reverse("api:offline-keys"),
        "status_list_url": reverse("api:offline-status-list"),
        "live_url": reverse("guarantees:verify_live", args=["GRN"]),
        "warn_hours": settings.OFFLINE_STATUS_LIST_WARN_HOURS,
        "messages_json": verifier_messages(),
    })
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "no-cache"  # the service worker serves it offline; online it is revalidated
    return response


@require_safe
def verify_scan_manifest(request):
    manifest = {
        "name": _("Caution unique — offline verifier"),
        "short_name": _("Verifier"),
        "description": _("Checks a certificate of guarantee from its QR code, without a network."),
        "start_url": reverse("guarantees:verify_scan"),
        "scope": reverse("guarantees:verify_scan"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#17324d",
        "lang": request.LANGUAGE_CODE,
        "icons": [
            {"src": static("img/verifier-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("img/verifier-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
        ],
    }
    response = HttpResponse(json.dumps(manifest, ensure_ascii=False), content_type="application/manifest+json")
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_safe
def verify_scan_worker(request):
    """The service worker, served from ``/verify/scan/`` so that its scope is the verifier's; it caches the page
    and its static files, and keeps the last keys and status list for offline use."""
    shell = [reverse("guarantees:verify_scan"), reverse("guarantees:verify_scan_manifest"),
             *(static(name) for name in _SHELL)]
    data = {"shell": shell, "keys": reverse("api:offline-keys"), "list": reverse("api:offline-status-list"),
            "version": settings.OFFLINE_VERIFIER_VERSION}
    source = render(request, "guarantees/certificate/scan_sw.js", {"config": json.dumps(data)}).content
    response = HttpResponse(source, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def verify_live(request, grn):
    """The live standing of one version, as JSON (``?v=N``), for the verifier when it is online: the public page's
    answer without the page, under its limits; an unknown number is a 404, as there."""
    client = _client(request)
    if not verification_allowed(client=client):
        return JsonResponse({"code": "throttled"}, status=429)
    normalised = grn_normalise(grn)
    number = request.GET.get("v", "")
    if not grn_is_valid(normalised) or (number and not number.isdigit()):
        raise Http404
    guarantee = Guarantee.objects.select_related("country").filter(grn=normalised).first()
    if guarantee is None:
        verification_missed(client=client)
        raise Http404
    standing = version_standing(guarantee=guarantee, number=int(number) if number else None)
    if standing is None:
        raise Http404
    response = JsonResponse({"grn": guarantee.grn, "version": standing.version.number,
                             "current_version": standing.current.number, "standing": standing.standing,
                             "label": standing.label})
    response["Cache-Control"] = "no-store"
    return response
