"""Sessions for the pages: the login token travels in an HttpOnly, SameSite=Strict cookie
instead of a header, and every request that changes something must also carry a CSRF
token. That token is derived from the session's own (a keyed hash of it), so another site
can neither read nor forge it, and the server stores nothing more. Scripts use bearer
tokens, which a browser never sends on its own, so they need no CSRF token."""

from __future__ import annotations

import hashlib
import hmac
import secrets

SESSION_COOKIE = "medanon_session"
LOGIN_CSRF_COOKIE = "medanon_login_csrf"  # double-submit token of the login form
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_for(session_token: str) -> str:
    return hmac.new(b"medanon-csrf", session_token.encode(), hashlib.sha256).hexdigest()


def csrf_matches(session_token: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(csrf_for(session_token), presented or "")


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)
