"""What every request must be before a handler sees it, checked in one place for every route.

- The address holds no NUL character (PostgreSQL cannot store one, and it is never meaningful).
- A handler that reads a JSON body (a ``data`` parameter of JSON encoding) is sent JSON: another
  Content-Type is 415, and a body that is not JSON a person or program could mean — malformed,
  invalid UTF-8, nested deeper than the decoder goes — is 400. The body is decoded here once; the
  framework reuses the decoded value for the handler (``Request.json`` caches it in the scope).

The errors raised here are the domain errors, mapped to problem details by the one error mapping in
app.py, like every other refusal. Nothing here knows any route: it reads the handler's signature.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Request
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import SerializationException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from backend.errors import DomainError, ValidationFailed

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported-media-type"
    title = "Unsupported media type"


def refuse_nul_in_url(scope: Scope) -> None:
    """Path and query text with a NUL character is refused before any handler sees it."""
    if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"").lower():
        raise ValidationFailed("The address contains a NUL character (U+0000).", code="invalid-text")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is out of range")
    return value


def expects_json(handler: Any) -> bool:
    """Whether the route handler reads its ``data`` parameter from a JSON body."""
    if handler is None:
        return False
    cached = handler.opt.get("_expects_json")
    if cached is None:
        field = handler.parsed_fn_signature.parameters.get("data")
        media = getattr(field.kwarg_definition, "media_type", RequestEncodingType.JSON) if field else None
        cached = field is not None and media == RequestEncodingType.JSON
        handler.opt["_expects_json"] = cached
    return bool(cached)


def is_json_media_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def check_json_body(request: Request[Any, Any, Any]) -> None:
    """Refuse a body that a JSON handler cannot read (see the module's docstring)."""
    body = await request.body()  # over the size limit: 413 from the framework
    if body.strip() and not is_json_media_type(request.headers.get("content-type", "")):
        raise UnsupportedMediaType(
            "Send the body as JSON with the header Content-Type: application/json.",
            params={"contentType": request.headers.get("content-type", "")[:100]},
        )
    if not body.strip():
        raise ValidationFailed("The body is empty, which is not valid JSON; send a JSON object.", code="bad-request")
    try:
        try:
            await request.json()
        except SerializationException:
            # JSON may escape a lone surrogate ("\\ud800"); a phone's JSON.stringify writes one for a
            # string cut in the middle of an emoji. The fast decoder refuses the whole body for it,
            # which would refuse a whole push for one bad text: read it with Python's decoder, and
            # the text is judged where it is used (a mutation is rejected alone, a form field is 400).
            value = json.loads(body.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite)
            ScopeState.from_scope(request.scope).json = value
    except RecursionError:
        raise ValidationFailed(
            "The body is not valid JSON here: it is nested too deeply.", code="bad-request"
        ) from None
    except (UnicodeDecodeError, SerializationException, ValueError) as exc:
        why = "it is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else "check its syntax"
        raise ValidationFailed(f"The body is not valid JSON: {why}.", code="bad-request") from None


class RequestGuard(ASGIMiddleware):
    """Applies the checks above to every HTTP request, whatever route it reaches."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        refuse_nul_in_url(scope)
        if scope.get("method") in BODY_METHODS and expects_json(scope.get("route_handler")):
            await check_json_body(Request(scope, receive, send))
        await next_app(scope, receive, send)
