"""The request's edges, checked before any view runs (one middleware, every page and API).

- A body larger than ``ARI_MAX_REQUEST_BYTES`` is a 413 before a byte of it is read; a view
  that takes files (the imports: ``accepts_uploads = True``) allows multipart bodies up to
  ``ARI_MAX_UPLOAD_BYTES``. Under WSGI a request cannot send more than its
  ``Content-Length``, and Django streams uploaded files over 2.5 MB to a temporary file, so an
  upload is never held in memory whole.
- Control characters or lone surrogates (``ari_review.validation``) in the path, a query
  parameter or a form field (its name or value) are a 400 naming the field: JSON
  (``{"detail", "errors"}``, as the API's other 400s) under ``/api/``, text elsewhere. JSON
  bodies are checked by the API's parser (``ari_review.api.parsers``); Django drops
  non-printable characters from uploaded files' names itself.

A view that checks some form fields itself, to re-render its form with the error (the chat
page keeps the user's draft), names them in ``fields_checked_by_view``; the others are still
checked here.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse, QueryDict

from ari_review.validation import InputProblem, text_problem

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RequestEdgesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Before any other middleware's process_view (CSRF reads the form) and the view.
        owner = getattr(view_func, "view_class", view_func)
        too_large = _size_problem(request, uploads=getattr(owner, "accepts_uploads", False))
        if too_large is not None:
            return too_large
        skip = frozenset(getattr(owner, "fields_checked_by_view", ()))
        problem = _path_problem(request) or _query_problem(request) or _form_problem(request, skip)
        if problem is None:
            return None
        return _bad_request(request, problem)


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def _size_problem(request, *, uploads: bool) -> HttpResponse | None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0  # Django reads no body at all then
    upload = uploads and request.content_type == "multipart/form-data"
    limit = settings.ARI_MAX_UPLOAD_BYTES if upload else settings.ARI_MAX_REQUEST_BYTES
    if length <= limit:
        return None
    what = "An upload" if upload else "A request body"
    message = f"{what} may be at most {limit:,} bytes; this one is {length:,}."
    if _is_api(request):
        return JsonResponse({"detail": message}, status=413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


def _name(key: str) -> str:
    """A field name safe to echo back (its own control characters escaped)."""
    return key if text_problem(key) is None else key.encode("unicode_escape").decode("ascii")


def _pairs_problem(pairs, *, skip=frozenset()) -> InputProblem | None:
    for key, values in pairs:
        if problem := text_problem(key, subject="A field name"):
            return InputProblem(_name(key), problem)
        if key in skip:
            continue
        for value in values:
            if isinstance(value, str) and (problem := text_problem(value)):
                return InputProblem(key, problem)
    return None


def _path_problem(request) -> InputProblem | None:
    problem = text_problem(request.path, subject="The address")
    return InputProblem("path", problem) if problem else None


def _query_problem(request) -> InputProblem | None:
    return _pairs_problem(request.GET.lists())


def _form_problem(request, skip) -> InputProblem | None:
    if request.content_type not in _FORM_TYPES:
        return None
    if request.method == "POST":
        data = request.POST
    elif request.content_type == _FORM_TYPES[0]:
        # Django parses only POST; DRF parses PUT/PATCH forms from the same body.
        data = QueryDict(request.body, encoding=request.encoding)
    else:
        return None
    return _pairs_problem(data.lists(), skip=skip)


def _bad_request(request, problem: InputProblem) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            {
                "detail": f"{problem.field}: {problem.message}",
                "errors": {problem.field: [problem.message]},
            },
            status=400,
        )
    return HttpResponse(
        f"{problem.field}: {problem.message}", status=400, content_type="text/plain; charset=utf-8"
    )
