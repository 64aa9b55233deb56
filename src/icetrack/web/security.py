"""Security headers on every response: a Content-Security-Policy, no MIME sniffing, no referrer, no framing.

The pages run scripts served from here only: the Vega bundle of vl-convert (/vendor/vega-embed.js), the shared
chart embedding (/static/embed.js) and the page's own script (/static/app.js or /static/facilities.js). Charts are embedded with ``ast: true``, so Vega evaluates its expressions with the bundled
CSP-safe interpreter instead of compiling them with ``Function`` (no 'unsafe-eval'), and with vega-embed's
and vega-tooltip's injected <style> elements switched off (their rules are in app.css; no 'unsafe-inline').
Images may be data: or blob: URLs because the PNG/SVG export of a drawn chart is one.
Every other response (JSON, CSV, PNG, SVG, scripts, styles) gets a policy that allows nothing: an SVG or a
JSON body opened on its own can run no script and load nothing.
"""

from __future__ import annotations

PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
RESOURCE_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
COMMON = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
          (b"x-frame-options", b"DENY"), (b"cross-origin-opener-policy", b"same-origin")]


class SecurityHeaders:
    """ASGI middleware adding the headers to every HTTP response (pages, API, downloads, static files, errors
    answered by the app). Plain ASGI rather than BaseHTTPMiddleware: it only rewrites the response start, so
    it adds no task or buffering per request."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _SET]
                html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers)
                csp = PAGE_CSP if html else RESOURCE_CSP
                message = {**message, "headers": headers + COMMON + [(b"content-security-policy", csp.encode())]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


_SET = {k for k, _ in COMMON} | {b"content-security-policy"}
