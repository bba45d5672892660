"""The HTTP API. FastAPI on uvicorn: an established ASGI stack whose request models are
also the OpenAPI schema the service serves, so the schema cannot drift from the code.

Every route but /api/login refuses a request without a valid bearer token, and each
route names the roles that may use it."""

import contextlib
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import cv2
from fastapi import Depends, FastAPI, File, HTTPException, UploadFile
from fastapi import Path as PathParameter
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from anonymizer import __version__
from anonymizer.loading import DICOM_SUFFIXES, RASTER_SUFFIXES
from anonymizer.reporting import report_record
from anonymizer.service import accounts
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
from anonymizer.service.models import Job, JobStatus, Role, User
from anonymizer.service.settings import ServiceSettings
from anonymizer.service.statistics import statistics

EVERY_ROLE = (Role.ADMIN, Role.OPERATOR, Role.REVIEWER)
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
    held: int
    rejected: int
    failed_input: int
    failed_internal: int


class Statistics(Totals):
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
                  redoc_url=None, lifespan=lifespan)
    bearer = HTTPBearer(auto_error=False)

    def database() -> Iterator[Session]:
        with sessions.begin() as session:
            yield session

    Database = Annotated[Session, Depends(database)]

    def principal(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
                  session: Database) -> Principal:
        found = accounts.principal_for_token(session, credentials.credentials) if credentials else None
        if found is None:
            raise HTTPException(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})
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
