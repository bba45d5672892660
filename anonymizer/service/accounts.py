"""Users, passwords (argon2id) and bearer tokens. There is no default account and no
default password: the first admin is made with `medical-anonymizer users add`."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from anonymizer.service.models import ApiToken, LoginFailure, Role, User

USERNAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "mat_"  # recognisable in a leaked config file or a secret scanner
# Failed password logins allowed per account in the window before it is refused for a while.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOGIN_TOKEN_LIFETIME = timedelta(hours=8)
_HASHER = PasswordHasher()


class AccountError(ValueError):
    """A refused account operation; the message names the reason, never a password."""


@dataclass(frozen=True)
class Principal:
    """Who a request acts for."""

    user_id: int
    username: str
    role: Role


def now() -> datetime:
    return datetime.now(UTC)


def add_user(session: Session, username: str, password: str, role: Role) -> User:
    if not USERNAME.fullmatch(username):
        raise AccountError("a username is 1-64 letters, digits, '.', '_' or '-'")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} exists already")
    user = User(username=username, password_hash=_HASHER.hash(password), role=role, disabled=False,
                created_at=now())
    session.add(user)
    session.flush()
    return user


def disable_user(session: Session, username: str) -> None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"no user {username!r}")
    user.disabled = True
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))  # its tokens stop at once


def issue_token(session: Session, user: User, label: str, lifetime: timedelta | None = None) -> str:
    """A new bearer token for ``user``, shown once: only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_sha256=_sha256(token), label=label[:64], created_at=now(),
                         expires_at=now() + lifetime if lifetime else None))
    session.flush()
    return token


def revoke_token(session: Session, token: str) -> None:
    """A session's token at logout: it stops working at once."""
    session.execute(delete(ApiToken).where(ApiToken.token_sha256 == _sha256(token)))


def change_password(session: Session, user_id: int, current: str, new: str) -> None:
    user = session.get(User, user_id)
    if user is None or not _verify(user.password_hash, current):
        raise AccountError("the current password is wrong")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = _HASHER.hash(new)


def principal_for_token(session: Session, token: str) -> Principal | None:
    row = session.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_sha256 == _sha256(token))).first()
    if row is None:
        return None
    api_token, user = row
    if user.disabled or (api_token.expires_at is not None and as_utc(api_token.expires_at) <= now()):
        return None
    return Principal(user.id, user.username, user.role)


class TooManyFailures(Exception):
    """The account had MAX_FAILURES failed logins within FAILURE_WINDOW."""


def login(session: Session, username: str, password: str) -> str | None:
    """A short-lived token for a correct password, None otherwise. Failures are counted
    per account name, known or not, so the limit says nothing about which names exist."""
    since = now() - FAILURE_WINDOW
    failures = session.scalar(select(func.count()).select_from(LoginFailure)
                              .where(LoginFailure.username == username[:64], LoginFailure.at > since))
    if failures >= MAX_FAILURES:
        raise TooManyFailures
    user = session.scalar(select(User).where(User.username == username))
    if user is None or user.disabled or not _verify(user.password_hash, password):
        session.add(LoginFailure(username=username[:64], at=now()))
        return None
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    return issue_token(session, user, "login", LOGIN_TOKEN_LIFETIME)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def as_utc(moment: datetime) -> datetime:
    """SQLite returns naive datetimes for what was stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
