"""Small protections at the edge of the app: redirects that never name a host, trusted Host headers, and the
security headers of the API documentation page.

* A redirect the router makes (``/v1/checks/`` to ``/v1/checks``) is built from the request's Host header, so a
  forged Host turned it into a redirect to anywhere. ``RelativeRedirects`` rewrites a Location that points at the
  request's own host into a path: the browser stays on the site it asked.
* ``BIOTOETS_TRUSTED_HOSTS`` / ``serve --trusted-host``: when set, a request whose Host header names none of them
  gets 400, before any route sees it.
* ``/docs`` (Swagger UI) may not be framed, and may run only its own script (by hash) and this server's files.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def docs_headers(html: bytes) -> dict[str, str]:
    """Headers for a documentation page: no framing, and a CSP that admits its inline scripts by their hash."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(m).digest()).decode()}'"
                      for m in _INLINE_SCRIPT.findall(html))
    policy = ("default-src 'self'; script-src 'self' " + hashes + "; style-src 'self' 'unsafe-inline'; "
              "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
              "form-action 'self'; object-src 'none'")
    return {"Content-Security-Policy": policy, "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}


class RelativeRedirects:
    """Turn a redirect to this request's own host into a redirect to a path (so a forged Host cannot steer it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "")

        async def relative_send(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                headers = MutableHeaders(scope=message)
                location = headers.get("location", "")
                parts = urlsplit(location)
                if parts.netloc and parts.netloc == host:
                    path = "/" + parts.path.lstrip("/")  # never '//x': that would name a host again
                    headers["location"] = path + (f"?{parts.query}" if parts.query else "")
            await send(message)

        await self.app(scope, receive, relative_send)
