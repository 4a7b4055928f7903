"""The demo server mounts the stand-ins (one per process: `make run` is one
threaded process). DEMO ONLY: routed only while IDENTITY_SIMULATOR is on."""

from __future__ import annotations

import io

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from core.access import GET_POST, PUBLIC, access

from .provider import IdentitySim

DEMO = IdentitySim(any_client=True)
PREFIX = "/simulateur-franceconnect"


@access(PUBLIC, methods=GET_POST)
@csrf_exempt  # relying parties post here (token endpoint), as to FranceConnect
def mount(request, rest):
    if not settings.IDENTITY_SIMULATOR:
        raise Http404
    environ = dict(request.environ)
    environ["SCRIPT_NAME"] = PREFIX
    environ["PATH_INFO"] = "/" + rest
    environ["wsgi.input"] = io.BytesIO(request.body)
    environ["CONTENT_LENGTH"] = str(len(request.body))
    answer = {}

    def start_response(status, headers):
        answer["status"], answer["headers"] = status, headers

    body = b"".join(DEMO(environ, start_response))
    response = HttpResponse(body, status=int(answer["status"].split()[0]))
    for name, value in answer["headers"]:
        response[name] = value
    return response
