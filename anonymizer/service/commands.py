"""`medical-anonymizer serve` and `medical-anonymizer users ...`. Heavy imports (FastAPI,
SQLAlchemy, argon2) happen inside the commands, so `--help` and `run` stay quick."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from anonymizer.exit_codes import EXIT_INVALID
from anonymizer.pipeline_options import build_config, pipeline_options

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
_data_dir = click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path),
    default=lambda: os.environ.get("ANONYMIZER_DATA_DIR", "anonymizer-data"), show_default="anonymizer-data",
    help="The service's data: its SQLite database and work area ($ANONYMIZER_DATA_DIR).")
_database_url = click.option(
    "--database-url", default=lambda: os.environ.get("ANONYMIZER_DATABASE_URL"),
    help="postgresql://user@host/db, or any SQLAlchemy URL ($ANONYMIZER_DATABASE_URL); "
         "default: SQLite in the data directory.")


def _sessions(data_dir: Path, database_url: str | None):
    from anonymizer.service.database import default_url, make_engine, migrate, session_factory

    data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(database_url or default_url(data_dir))
    migrate(engine)
    return session_factory(engine)


@click.command("serve", context_settings=CONTEXT)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@_data_dir
@_database_url
@pipeline_options
@click.option("--max-upload-mib", type=click.IntRange(1), default=512, show_default=True,
              help="Largest upload accepted (one request).")
@click.option("--max-files-per-job", type=click.IntRange(1), default=10000, show_default=True)
@click.option("--input-root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Folder under which jobs may name server-side folders (default: folder jobs off).")
@click.option("--workers", type=click.IntRange(1), default=1, show_default=True,
              help="Worker processes for a job's files.")
@click.option("--review-folder", "review_folders", multiple=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Another front door's output folder whose held files join the review queue, such as the "
                   "gateway's SPOOL/deidentified (repeatable); decided here, they are released there.")
@click.option("--quarantine-days", type=click.FloatRange(0, min_open=True), default=30.0, show_default=True,
              help="Held files not decided within this many days are deleted from the quarantine.")
def serve(host: str, port: int, data_dir: Path, database_url: str | None, max_upload_mib: int,
          max_files_per_job: int, input_root: Path | None, workers: int, review_folders: tuple[Path, ...],
          quarantine_days: float,
          **pipeline) -> None:
    """Serve the pipeline over HTTP: pages at /, the API under /api (schema at
    /api/openapi.json). Jobs run with the pipeline options below, as `run` does."""
    from datetime import timedelta

    import uvicorn

    from anonymizer.service.app import create_app, remove_work_dir
    from anonymizer.service.database import default_url
    from anonymizer.service.settings import ServiceSettings

    config = build_config(**pipeline)
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)  # the quarantine lies inside: held files still show undecided text
    settings = ServiceSettings(
        data_dir=data_dir, database_url=database_url or default_url(data_dir), pipeline=config,
        max_upload_bytes=max_upload_mib * 1024 * 1024, max_files_per_job=max_files_per_job,
        input_root=input_root, workers=workers, quarantine=timedelta(days=quarantine_days),
        review_folders=tuple(review_folders))
    remove_work_dir(settings)
    app = create_app(settings)
    click.echo(f"medical-anonymizer service on http://{host}:{port}/api (data in {data_dir})", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


@click.group("users", context_settings=CONTEXT)
def users() -> None:
    """Manage the service's accounts (roles: admin, operator, reviewer)."""


@users.command("add", context_settings=CONTEXT)
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "operator", "reviewer"]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (scripts).")
@_data_dir
@_database_url
def add(username: str, role: str, password_stdin: bool, data_dir: Path, database_url: str | None) -> None:
    """Add an account; the password is asked for (never an argument, so no shell history holds it)."""
    from anonymizer.service.accounts import AccountError, add_user
    from anonymizer.service.models import Role

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with _sessions(data_dir, database_url).begin() as session:
            add_user(session, username, password, Role(role))
    except AccountError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    click.echo(f"added {username} ({role})")


@users.command("list", context_settings=CONTEXT)
@_data_dir
@_database_url
def list_users(data_dir: Path, database_url: str | None) -> None:
    """Every account, its role, and whether it is disabled."""
    from sqlalchemy import select

    from anonymizer.service.models import User

    with _sessions(data_dir, database_url).begin() as session:
        for user in session.scalars(select(User).order_by(User.username)):
            click.echo(f"{user.username}\t{user.role.value}\t{'disabled' if user.disabled else 'active'}")


@users.command("disable", context_settings=CONTEXT)
@click.argument("username")
@_data_dir
@_database_url
def disable(username: str, data_dir: Path, database_url: str | None) -> None:
    """Disable an account; its tokens stop working at once."""
    from anonymizer.service.accounts import AccountError, disable_user

    try:
        with _sessions(data_dir, database_url).begin() as session:
            disable_user(session, username)
    except AccountError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    click.echo(f"disabled {username}")


@users.command("token", context_settings=CONTEXT)
@click.argument("username")
@click.option("--label", default="script", show_default=True, help="What the token is for.")
@_data_dir
@_database_url
def token(username: str, label: str, data_dir: Path, database_url: str | None) -> None:
    """Print a new API token for a script acting as USERNAME (shown once; keep it secret)."""
    from sqlalchemy import select

    from anonymizer.service.accounts import issue_token
    from anonymizer.service.models import User

    with _sessions(data_dir, database_url).begin() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None or user.disabled:
            click.echo(f"error: no active user {username!r}", err=True)
            sys.exit(EXIT_INVALID)
        click.echo(issue_token(session, user, label))
