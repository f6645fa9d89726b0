"""Which peer's X-Forwarded-For to believe, applied inside the app so every ASGI server behaves alike.

Login limits count failures per client address. Behind a reverse proxy every request comes from the
proxy's address, so unless the proxy is trusted every client would share one address (20 failures
anywhere would lock everybody out); trusting every peer instead would let any client pick the address
its failures are counted for. ``OUTPOST_TRUSTED_PROXIES`` lists the proxies (IPs or CIDRs): from
those the client is the address in X-Forwarded-For; from anyone else the header is ignored.
``outpost serve`` runs uvicorn with ``proxy_headers=False`` so the headers are not applied twice.
"""

from __future__ import annotations

import ipaddress
from typing import Any, cast

from litestar.middleware import DefineMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from backend.settings import AppSettings


def trusted_proxy_list(value: str) -> list[str]:
    """The comma-separated setting as a list, each entry checked: a typo refuses to start rather than
    silently trusting nobody (or everybody)."""
    entries = [item.strip() for item in value.split(",") if item.strip()]
    for entry in entries:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(
                f"OUTPOST_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR network (e.g. 10.0.0.0/8)"
            ) from None
    return entries


def trusted_proxies(settings: AppSettings) -> DefineMiddleware:
    """The middleware for ``Litestar(middleware=[...])``: rewrites the client address (and scheme) from
    X-Forwarded-For/-Proto when, and only when, the peer is one of the trusted proxies."""
    # uvicorn types its ASGI callables with its own protocol classes; at run time they are the same
    middleware = cast(Any, ProxyHeadersMiddleware)
    return DefineMiddleware(middleware, trusted_hosts=trusted_proxy_list(settings.trusted_proxies))
