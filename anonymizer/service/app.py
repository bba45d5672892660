"""The HTTP API. FastAPI on uvicorn: an established ASGI stack whose request models are
also the OpenAPI schema the service serves, so the schema cannot drift from the code.

Every route but /api/login refuses a request without a valid bearer token, and each
route names the roles that may use it."""

import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import cv2
import pydicom
from fastapi import Depends, FastAPI, File, HTTPException, UploadFile
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from anonymizer import __version__
from anonymizer.loading import DICOM_SUFFIXES, RASTER_SUFFIXES
from anonymizer.service import accounts
from anonymizer.service.accounts import Principal, TooManyFailures
from anonymizer.service.database import make_engine, migrate, session_factory
from anonymizer.service.models import FileOutcome, FileRecord, Role, User
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
    # The schema is served behind authentication too (below), not at FastAPI's open URL.
    app = FastAPI(title="medical-anonymizer", version=__version__, openapi_url=None, docs_url=None,
                  redoc_url=None)
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
                session.add(_record(report, name, output, who))
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


def _record(report, name: str, output: Path | None, who: Principal) -> FileRecord:
    outcome = {"written": FileOutcome.WRITTEN, "held": FileOutcome.HELD, "rejected": FileOutcome.REJECTED}.get(
        report.status, FileOutcome.FAILED)
    modality = ""
    if output is not None and output.suffix.lower() in DICOM_SUFFIXES:
        # Read from the de-identified output: Modality identifies no one.
        modality = str(pydicom.dcmread(output, stop_before_pixels=True, specific_tags=["Modality"]).get(
            "Modality", ""))[:16]
    return FileRecord(
        name=name, outcome=outcome, failure=report.failure.value if report.failure else "",
        file_format=report.file_format[:64], modality=modality, regions_found=report.regions_merged,
        regions_redacted=report.regions_redacted, regions_held=report.regions_review,
        processed_at=accounts.now(), user_id=who.user_id)


def remove_work_dir(settings: ServiceSettings) -> None:
    """Whatever an interrupted request left behind (the service removes it on start)."""
    shutil.rmtree(settings.work_dir, ignore_errors=True)
