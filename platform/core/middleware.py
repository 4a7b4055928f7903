"""Input hygiene shared by every page and API."""

from django.http import HttpResponseBadRequest

from core.api import problem_response

NUL_MESSAGE = "La requête contient un caractère nul (0x00), refusé."


class RejectNulBytesMiddleware:
    """PostgreSQL text cannot hold NUL (0x00): a parameter carrying one would
    end in a database error (a 500). Refuse it up front with a clear 400.
    Found by the API fuzzing suite (tests/hardening/test_api_fuzz.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._has_nul(request):
            if request.path_info.startswith("/api/"):
                return problem_response(400, NUL_MESSAGE)
            return HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _has_nul(request) -> bool:
        if "\x00" in request.path_info or any(
            "\x00" in k or "\x00" in v for k, values in request.GET.lists() for v in values
        ):
            return True
        content_type = request.content_type or ""
        if request.method in ("POST", "PUT", "PATCH"):
            if content_type == "application/json":
                return b"\\u0000" in request.body or b"\x00" in request.body
            if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                return any(
                    "\x00" in k or "\x00" in v for k, values in request.POST.lists() for v in values
                )
        return False
