"""The HTTP API. FastAPI on uvicorn: an established ASGI stack whose request models are
also the OpenAPI schema the service serves, so the schema cannot drift from the code.

Every route but /api/login refuses a request without a valid bearer token or page
session, and each route names the roles that may use it. A request on a page session that
changes something must carry the session's CSRF token (web_session.py)."""

import contextlib
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Literal

import cv2
from fastapi import Depends, FastAPI, File, HTTPException, Request, UploadFile
from fastapi import Path as PathParameter
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from anonymizer import __version__
from anonymizer.hold import Decision, HoldError
from anonymizer.loading import DICOM_SUFFIXES, RASTER_SUFFIXES
from anonymizer.reporting import report_record
from anonymizer.service import accounts, pages, review
from anonymizer.service.accounts import Principal, TooManyFailures
from anonymizer.service.database import make_engine, migrate, session_factory
from anonymizer.service.jobs import (
    JobInputError,
    JobRunner,
    Progress,
    add_files,
    create_job,
    file_record,
    folder_files,
    job_dir,
    progress,
    remove_uploads,
    result_zip,
    unpack_uploads,
)
from anonymizer.service.models import (
    Job,
    JobStatus,
    ReviewItem,
    ReviewState,
    Role,
    User,
)
from anonymizer.service.settings import ServiceSettings
from anonymizer.service.statistics import statistics
from anonymizer.service.web_session import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE, csrf_matches

EVERY_ROLE = (Role.ADMIN, Role.OPERATOR, Role.REVIEWER)
# Scripts and styles from this service only; no inline script, no framing.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
                           "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]")


class LoginRequest(BaseModel):
    username: str
    password: str


class TokenResponse(BaseModel):
    token: str
    expires_in_seconds: int


class UserView(BaseModel):
    username: str
    role: Role
    disabled: bool


class FolderJobRequest(BaseModel):
    folder: str  # relative to the input root the service was started with


class Totals(BaseModel):
    files: int
    with_burned_in_text: int
    redacted: int
    held: int  # waiting for a reviewer
    released_after_review: int
    expired_unreviewed: int  # held, and deleted undecided after the quarantine time
    rejected: int
    failed_input: int
    failed_internal: int


class DecisionsRequest(BaseModel):
    decisions: dict[Annotated[int, Field(ge=1, le=10000)], Literal["redact", "keep"]]


class ReviewOutcome(BaseModel):
    released: bool
    redacted: int
    kept: int


class Statistics(Totals):
    failure_reasons: dict[str, int]  # the most frequent reasons files failed, with their counts
    by_modality: dict[str, Totals]
    by_day: dict[str, Totals]


def create_app(settings: ServiceSettings) -> FastAPI:
    engine = make_engine(settings.database_url)
    migrate(engine)
    sessions = session_factory(engine)
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    runner = JobRunner(settings, sessions, settings.workers)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        runner.start()  # resumes a job the last run of the service left unfinished
        yield
        runner.stopping.set()

    # The schema is served behind authentication too (below), not at FastAPI's open URLs.
    app = FastAPI(title="medical-anonymizer", version=__version__, openapi_url=None, docs_url=None,
                  redoc_url=None, lifespan=lifespan, exception_handlers=pages.page_exception_handlers())
    app.state.settings, app.state.sessions = settings, sessions
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")  # pages and replies can show what was held
        return response
    bearer = HTTPBearer(auto_error=False)

    def database() -> Iterator[Session]:
        with sessions.begin() as session:
            yield session

    # Committed when the route returns, before its reply is sent: a client's next request
    # sees what this one wrote (with the default scope the commit came after the reply).
    Database = Annotated[Session, Depends(database, scope="function")]

    def principal(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
                  session: Database) -> Principal:
        token = credentials.credentials if credentials else request.cookies.get(SESSION_COOKIE)
        found = accounts.principal_for_token(session, token) if token else None
        if found is None or token is None:
            raise HTTPException(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})
        if credentials is None and request.method not in SAFE_METHODS and \
                not csrf_matches(token, request.headers.get(CSRF_HEADER)):
            raise HTTPException(403, f"a page's request must carry its {CSRF_HEADER} header")
        return found

    def allowed(*roles: Role) -> Callable[..., Principal]:
        def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
            if who.role not in roles:
                raise HTTPException(403, f"the {who.role.value} role may not do this")
            return who
        return check

    # Who may call a route, as its parameter's type: every role, admins, or those who de-identify.
    AnyRole = Annotated[Principal, Depends(allowed(*EVERY_ROLE))]
    Admin = Annotated[Principal, Depends(allowed(Role.ADMIN))]
    Operator = Annotated[Principal, Depends(allowed(Role.ADMIN, Role.OPERATOR))]
    Reviewer = Annotated[Principal, Depends(allowed(Role.ADMIN, Role.REVIEWER))]
    Upload = Annotated[UploadFile, File()]

    @app.post("/api/login", response_model=TokenResponse, responses={401: {}, 429: {}})
    def login(request: LoginRequest) -> TokenResponse:
        """A token for the pages' scripts and for people; services use tokens made with
        `medical-anonymizer users token`. Failed logins are limited per account name."""
        try:
            with sessions.begin() as session:
                token = accounts.login(session, request.username, request.password)
        except TooManyFailures:
            raise HTTPException(429, "too many failed logins: try again later") from None
        if token is None:
            raise HTTPException(401, "wrong username or password")
        return TokenResponse(token=token, expires_in_seconds=int(accounts.LOGIN_TOKEN_LIFETIME.total_seconds()))

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi(_: AnyRole) -> dict:
        return app.openapi()

    @app.get("/api/stats", response_model=Statistics)
    def stats(_: AnyRole, session: Database) -> dict:
        """Files processed, with burned-in text, redacted, held, rejected and failed, in
        total, by modality and by day."""
        return statistics(session)

    @app.get("/api/users", response_model=list[UserView])
    def users(_: Admin, session: Database) -> list[UserView]:
        return [UserView(username=u.username, role=u.role, disabled=u.disabled)
                for u in session.scalars(select(User).order_by(User.username))]

    @app.post("/api/mask_image", responses={200: {"content": {"application/octet-stream": {}}},
                                            409: {}, 413: {}, 422: {}})
    def mask_image(file: Upload, who: Operator) -> Response:
        """One image in, its de-identified copy out, through all seven stages. A file the
        pipeline holds for review is not returned (409)."""
        name = _upload_name(file)
        with tempfile.TemporaryDirectory(dir=settings.work_dir) as work:
            source = _receive(file, Path(work) / "input" / name, settings.max_upload_bytes)
            from anonymizer.pipeline import run_file

            report = run_file(source, Path(work) / "output", settings.pipeline)
            output = Path(report.output_path) if report.status == "written" else None
            with sessions.begin() as session:  # its own transaction: kept when the reply is an error
                session.add(file_record(report_record(report, Path(name), 0.0), name, who.user_id))
            if output is not None:
                return Response(output.read_bytes(), media_type="application/octet-stream",
                                headers={"Content-Disposition": f'attachment; filename="{output.name}"'})
        if report.status == "held":
            raise HTTPException(409, f"held for review: {report.reason}")
        if report.status == "failed" and report.failure is not None and report.failure.value == "internal":
            raise HTTPException(500, report.reason)
        raise HTTPException(422, report.reason or report.status)

    @app.post("/api/convert", responses={200: {"content": {"image/png": {}}}, 413: {}, 422: {}})
    def convert(file: Upload, _: AnyRole) -> Response:
        """The 8-bit view the pipeline reads (window applied, first frame) as PNG. It is
        the input's pixels as they are: burned-in text is not removed here."""
        name = _upload_name(file)
        with tempfile.TemporaryDirectory(dir=settings.work_dir) as work:
            source = _receive(file, Path(work) / name, settings.max_upload_bytes)
            view = _view(source, settings)
        frame = view[0]  # the first frame
        ok, png = cv2.imencode(".png", frame[..., ::-1] if frame.ndim == 3 else frame)  # RGB to OpenCV's BGR
        if not ok:
            raise HTTPException(422, "the image could not be encoded as PNG")
        return Response(png.tobytes(), media_type="image/png")

    # A job number as the database can hold it: a larger one is a 422, not a server error.
    JobId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]

    def owned_job(session: Session, job_id: int) -> Job:
        job = session.get(Job, job_id)
        if job is None:
            raise HTTPException(404, f"no job {job_id}")
        return job

    @app.post("/api/jobs", response_model=Progress, status_code=201, responses={413: {}, 422: {}})
    def upload_job(files: Annotated[list[UploadFile], File()], who: Operator) -> Progress:
        """Files, or zips of them, de-identified as one job in the background."""
        uploads, total = [], 0
        for upload in files:
            data = upload.file.read(settings.max_upload_bytes + 1 - total)
            total += len(data)
            if total > settings.max_upload_bytes:
                raise HTTPException(413, f"the upload is larger than the configured limit "
                                         f"({settings.max_upload_bytes} bytes)")
            uploads.append((upload.filename or "", data))
        with sessions.begin() as session:  # an error below rolls the job back
            job = create_job(session, who.user_id, Path(), [])
            target = job_dir(settings, job.id) / "input"
            try:
                names = unpack_uploads(uploads, target, settings.max_files_per_job)
            except JobInputError as exc:
                shutil.rmtree(job_dir(settings, job.id), ignore_errors=True)
                raise HTTPException(422, str(exc)) from None
            job.input_dir = str(target)
            add_files(session, job, names)
            return progress(session, job)

    @app.post("/api/jobs/folder", response_model=Progress, status_code=201, responses={422: {}})
    def folder_job(request: FolderJobRequest, who: Operator) -> Progress:
        """A folder under the input root, read where it is (never modified)."""
        try:
            base, names = folder_files(settings.input_root, request.folder, settings.max_files_per_job)
        except JobInputError as exc:
            raise HTTPException(422, str(exc)) from None
        with sessions.begin() as session:
            return progress(session, create_job(session, who.user_id, base, names))

    @app.get("/api/jobs/{job_id}", response_model=Progress, responses={404: {}})
    def job_status(job_id: JobId, _: AnyRole, session: Database) -> Progress:
        """Progress: files done, held, failed and pending, and the rate."""
        return progress(session, owned_job(session, job_id))

    @app.post("/api/jobs/{job_id}/cancel", response_model=Progress, responses={404: {}})
    def cancel_job(job_id: JobId, _: Operator, session: Database) -> Progress:
        """Files not started stay undone; what is done is kept and downloadable."""
        job = owned_job(session, job_id)
        if job.status is JobStatus.QUEUED:
            remove_uploads(settings, job)  # the runner never started it (a running one: the runner removes them)
        if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            job.status, job.finished_at = JobStatus.CANCELLED, accounts.now()
        return progress(session, job)

    @app.get("/api/jobs/{job_id}/result", responses={200: {"content": {"application/zip": {}}}, 404: {}, 409: {}})
    def job_result(job_id: JobId, _: Operator, session: Database) -> Response:
        """The de-identified files of a finished or cancelled job, as a zip."""
        job = owned_job(session, job_id)
        if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            raise HTTPException(409, "the job is still running")
        return Response(result_zip(settings, job_id), media_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="job-{job_id}.zip"'})

    ReviewId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]

    def review_item(session: Session, item_id: int, lock: bool = False) -> ReviewItem:
        # Locked for a decision, so that two reviewers deciding at once release the file once.
        item = session.get(ReviewItem, item_id, with_for_update=lock)
        if item is None:
            raise HTTPException(404, f"no review item {item_id}")
        return item

    @app.get("/api/review", response_model=list[review.ReviewSummary])
    def review_queue(_: Reviewer, session: Database,
                     state: ReviewState = ReviewState.HELD) -> list[review.ReviewSummary]:
        """Files held for a person, oldest first."""
        return review.summaries(session, state)

    @app.get("/api/review/{item_id}", response_model=review.ReviewDetail, responses={404: {}})
    def review_detail(item_id: ReviewId, _: Reviewer, session: Database) -> review.ReviewDetail:
        """A held file's boxes: each one left for a person (with its decision so far) and
        each one the machine painted, with the reason for each."""
        try:
            return review.detail(session, settings, review_item(session, item_id))
        except (HoldError, review.ReviewError) as exc:
            raise HTTPException(409, str(exc)) from None

    @app.get("/api/review/{item_id}/preview/{number}", responses={200: {"content": {"image/png": {}}}, 404: {}})
    def review_preview(item_id: ReviewId, number: Annotated[int, PathParameter(ge=1, le=100000)], _: Reviewer,
                       session: Database) -> Response:
        """A frame as it will be released: held boxes in red with their numbers, painted
        ones in green. Only reviewers and admins read the quarantine."""
        item = review_item(session, item_id)
        if item.state is not ReviewState.HELD:
            raise HTTPException(404, f"the file is {item.state.value}: its quarantined copy is gone")
        path = review.preview_path(settings, item, number)
        if path is None or not path.is_file():
            raise HTTPException(404, f"no preview {number}")
        return Response(path.read_bytes(), media_type="image/png", headers={"Cache-Control": "no-store"})

    @app.post("/api/review/{item_id}/decisions", response_model=ReviewOutcome, responses={404: {}, 409: {}})
    def review_decide(item_id: ReviewId, request: DecisionsRequest, who: Reviewer, session: Database) -> ReviewOutcome:
        """Decide boxes "redact" or "keep". Once every box is decided, stages 6 and 7 are
        finished and the file is released into its job's results."""
        item = review_item(session, item_id, lock=True)
        try:
            outcome = review.decide(session, settings, item, {n: Decision(d) for n, d in request.decisions.items()},
                                    who)
        except review.ReviewError as exc:
            raise HTTPException(409, str(exc)) from None
        return ReviewOutcome(released=outcome.released, redacted=outcome.redacted, kept=outcome.kept)

    return app


def _upload_name(file: UploadFile) -> str:
    """The name the user gave the file, reduced to its last part and plain characters;
    its suffix says how to read it."""
    name = _SAFE_NAME.sub("_", Path(file.filename or "").name)[:200]
    if Path(name).suffix.lower() not in DICOM_SUFFIXES | RASTER_SUFFIXES:
        raise HTTPException(422, "the file's name must end in .dcm, .dicom, .jpg, .jpeg, .png, .tif, .tiff or .bmp")
    return name


def _receive(file: UploadFile, target: Path, limit: int) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        copied = 0
        while chunk := file.file.read(1 << 20):
            copied += len(chunk)
            if copied > limit:
                raise HTTPException(413, f"the upload is larger than the configured limit ({limit} bytes)")
            out.write(chunk)
    return target


def _view(source: Path, settings: ServiceSettings):
    from anonymizer.errors import InvalidInput
    from anonymizer.loading import open_job
    from anonymizer.pipeline import quiet_pydicom
    from anonymizer.validation import validate

    try:
        with quiet_pydicom():
            job = open_job(source, settings.pipeline.max_decoded_bytes)
            if job.view is None:
                validate(job, settings.pipeline)
    except InvalidInput as exc:
        raise HTTPException(422, str(exc)) from None
    if job.view is None:
        raise HTTPException(422, "the file holds no image")
    return job.view


def remove_work_dir(settings: ServiceSettings) -> None:
    """Whatever an interrupted request left behind (the service removes it on start)."""
    shutil.rmtree(settings.work_dir, ignore_errors=True)
