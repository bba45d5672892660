"""The pages: sign-in, jobs (upload, folder, live progress), the review queue, statistics
and the account. Rendered on the server with Jinja2 (autoescaped); the little script they
use (static/app.js) calls the same API the scripts do, with the session cookie and the
session's CSRF token. No page holds or shows a value read from a file."""

from __future__ import annotations

import hmac
from importlib import resources
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi import Path as PathParameter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy import select

from anonymizer.hold import HoldError
from anonymizer.service import accounts, review
from anonymizer.service.accounts import AccountError, Principal, TooManyFailures
from anonymizer.service.charts import OUTCOMES, outcome_split, stacked_bars
from anonymizer.service.jobs import progress
from anonymizer.service.models import Job, ReviewItem, ReviewState, Role
from anonymizer.service.statistics import statistics
from anonymizer.service.web_session import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    csrf_for,
    csrf_matches,
    new_login_csrf,
)

TEMPLATES = Jinja2Templates(directory=str(resources.files("anonymizer.service") / "templates"))
STATIC_DIR = Path(str(resources.files("anonymizer.service") / "static"))
RECENT_JOBS = 50
REVIEW_ROLES = (Role.ADMIN, Role.REVIEWER)
OPERATOR_ROLES = (Role.ADMIN, Role.OPERATOR)

router = APIRouter(include_in_schema=False)


class NeedsLogin(Exception):
    """A page asked for without a valid session: the answer is the sign-in page."""


class PageForbidden(Exception):
    """A page the session's role may not see."""


def session_principal(request: Request) -> tuple[Principal, str]:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NeedsLogin
    with request.app.state.sessions.begin() as session:
        who = accounts.principal_for_token(session, token)
    if who is None:
        raise NeedsLogin
    return who, token


Session = Annotated[tuple[Principal, str], Depends(session_principal)]
RowId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]  # what the database's integer keys can hold


def render(request: Request, page: str, current: tuple[Principal, str] | None, status: int = 200,
           **context) -> HTMLResponse:
    who, token = current if current else (None, "")
    return TEMPLATES.TemplateResponse(request, page, {
        "who": who, "csrf": csrf_for(token) if token else "", "csrf_field": CSRF_FIELD,
        "may_review": who is not None and who.role in REVIEW_ROLES,
        "may_run": who is not None and who.role in OPERATOR_ROLES, **context}, status_code=status)


def _require(current: tuple[Principal, str], roles: tuple[Role, ...]) -> None:
    if current[0].role not in roles:
        raise PageForbidden


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    token = new_login_csrf()
    response = render(request, "login.html", None, login_csrf=token)
    _set_cookie(request, response, LOGIN_CSRF_COOKIE, token)
    return response


@router.post("/login", response_class=HTMLResponse)
def login_submit(request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()],
                 csrf_token: Annotated[str, Form()] = "") -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not csrf_token or not hmac.compare_digest(expected, csrf_token):
        return _login_again(request, "The sign-in form expired: please try again.", 403)
    try:
        with request.app.state.sessions.begin() as session:
            token = accounts.login(session, username, password)
    except TooManyFailures:
        return _login_again(request, "Too many failed sign-ins: try again later.", 429)
    if token is None:
        return _login_again(request, "Wrong username or password.", 401)
    response = RedirectResponse("/", status_code=303)
    _set_cookie(request, response, SESSION_COOKIE, token, max_age=int(accounts.LOGIN_TOKEN_LIFETIME.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


def _login_again(request: Request, message: str, status: int) -> HTMLResponse:
    token = new_login_csrf()
    response = render(request, "login.html", None, status=status, login_csrf=token, message=message)
    _set_cookie(request, response, LOGIN_CSRF_COOKIE, token)
    return response


@router.post("/logout")
def logout(request: Request, current: Session, csrf_token: Annotated[str, Form()] = "") -> Response:
    _, token = current
    if not csrf_matches(token, csrf_token):
        return Response("the form's CSRF token is missing or wrong", status_code=403)
    with request.app.state.sessions.begin() as session:
        accounts.revoke_token(session, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/", response_class=HTMLResponse)
def jobs_page(request: Request, current: Session) -> HTMLResponse:
    with request.app.state.sessions.begin() as session:
        jobs = [progress(session, job) for job in
                session.scalars(select(Job).order_by(Job.id.desc()).limit(RECENT_JOBS))]
    settings = request.app.state.settings
    return render(request, "jobs.html", current, jobs=jobs, folder_jobs=settings.input_root is not None,
                  max_upload_mib=settings.max_upload_bytes // (1024 * 1024), max_files=settings.max_files_per_job)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: RowId, current: Session) -> HTMLResponse:
    with request.app.state.sessions.begin() as session:
        job = session.get(Job, job_id)
        if job is None:
            return render(request, "missing.html", current, status=404, what=f"job {job_id}")
        shown = progress(session, job)
        held = session.scalars(select(ReviewItem).where(ReviewItem.job_id == job_id,
                                                        ReviewItem.state == ReviewState.HELD)
                               .order_by(ReviewItem.id)).all()
        held_ids = [item.id for item in held]
    return render(request, "job.html", current, job=shown, held_ids=held_ids)


@router.get("/review", response_class=HTMLResponse)
def review_page(request: Request, current: Session) -> HTMLResponse:
    _require(current, REVIEW_ROLES)
    with request.app.state.sessions.begin() as session:
        queue = review.summaries(session, ReviewState.HELD)
    return render(request, "review.html", current, queue=queue)


@router.get("/review/{item_id}", response_class=HTMLResponse)
def review_item_page(request: Request, item_id: RowId, current: Session) -> HTMLResponse:
    _require(current, REVIEW_ROLES)
    with request.app.state.sessions.begin() as session:
        item = session.get(ReviewItem, item_id)
        if item is None:
            return render(request, "missing.html", current, status=404, what=f"review item {item_id}")
        try:
            detail = review.detail(session, request.app.state.settings, item)
        except (HoldError, review.ReviewError) as exc:
            raise HTTPException(409, str(exc)) from None
    return render(request, "review_item.html", current, item=detail)


@router.get("/stats", response_class=HTMLResponse)
def stats_page(request: Request, current: Session) -> HTMLResponse:
    with request.app.state.sessions.begin() as session:
        figures = statistics(session)
    by_day = {day[5:]: outcome_split(totals) for day, totals in list(figures["by_day"].items())[-31:]}
    by_modality = {name: outcome_split(totals) for name, totals in figures["by_modality"].items()}
    return render(request, "stats.html", current, figures=figures,
                  day_chart=Markup(stacked_bars(by_day, OUTCOMES, "Files by day and outcome")),
                  modality_chart=Markup(stacked_bars(by_modality, OUTCOMES, "Files by modality and outcome")))


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, current: Session) -> HTMLResponse:
    return render(request, "account.html", current)


@router.post("/account/password", response_class=HTMLResponse)
def change_password(request: Request, current: Session, current_password: Annotated[str, Form()],
                    new_password: Annotated[str, Form()], csrf_token: Annotated[str, Form()] = "") -> Response:
    who, token = current
    if not csrf_matches(token, csrf_token):
        return Response("the form's CSRF token is missing or wrong", status_code=403)
    try:
        with request.app.state.sessions.begin() as session:
            accounts.change_password(session, who.user_id, current_password, new_password)
    except AccountError as exc:
        return render(request, "account.html", current, status=422, message=str(exc))
    return render(request, "account.html", current, message="Password changed.")


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None = None) -> None:
    # Secure whenever the page came over HTTPS (behind a TLS proxy that says so, too).
    secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="strict", secure=secure)


def page_exception_handlers() -> dict:
    def needs_login(request: Request, _exc: Exception) -> Response:
        return RedirectResponse("/login", status_code=303)

    def forbidden(request: Request, _exc: Exception) -> Response:
        current = session_principal(request)
        return render(request, "missing.html", current, status=403, what="a page your role may see")

    return {NeedsLogin: needs_login, PageForbidden: forbidden}
