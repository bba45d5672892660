"""The service's database layer against SQLite and a real PostgreSQL server.

PostgreSQL comes from $ANONYMIZER_TEST_POSTGRES_URL, which .ci/run sets after starting a
private cluster. Without it the PostgreSQL cases fail; `-m "not postgres"` leaves them out."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from anonymizer.service import accounts
from anonymizer.service.database import make_engine, migrate, session_factory
from anonymizer.service.models import ApiToken, Base, FileOutcome, FileRecord, Role
from anonymizer.service.statistics import reason_class, statistics

PASSWORD = "correct horse battery staple"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def sessions(request, tmp_path):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'service.db'}")
    else:
        url = os.environ.get("ANONYMIZER_TEST_POSTGRES_URL")
        if not url:
            pytest.fail("ANONYMIZER_TEST_POSTGRES_URL is not set (.ci/run starts a server and sets it)")
        engine = make_engine(url)
        with engine.begin() as connection:  # a fresh schema for each test
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


def test_the_schema_comes_from_the_migrations(sessions):
    engine = sessions.kw["bind"]
    assert set(inspect(engine).get_table_names()) == {"alembic_version", "users", "api_tokens", "login_failures",
                                                      "file_records", "jobs", "job_files", "review_items",
                                                      "review_decisions"}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0004"
        # The models and the migrations describe the same schema: autogenerate finds nothing to add.
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    migrate(engine)  # a second start changes nothing


def test_accounts_tokens_and_the_login_limit(sessions):
    with sessions.begin() as session:
        ada = accounts.add_user(session, "ada", PASSWORD, Role.ADMIN)
        token = accounts.issue_token(session, ada, "script")
        expired = accounts.issue_token(session, ada, "old", lifetime=timedelta(seconds=-1))
    with sessions.begin() as session:
        assert accounts.principal_for_token(session, token) == accounts.Principal(ada.id, "ada", Role.ADMIN)
        assert accounts.principal_for_token(session, expired) is None
        stored = session.scalars(select(ApiToken.token_sha256)).all()
        assert token not in stored and len(stored) == 2  # only hashes are kept
    for _ in range(accounts.MAX_FAILURES):
        with sessions.begin() as session:
            assert accounts.login(session, "ada", "wrong guess") is None
    with sessions.begin() as session, pytest.raises(accounts.TooManyFailures):
        accounts.login(session, "ada", PASSWORD)
    with sessions.begin() as session:
        accounts.disable_user(session, "ada")
    with sessions.begin() as session:
        assert accounts.principal_for_token(session, token) is None


def test_statistics_by_modality_and_day(sessions):
    with sessions.begin() as session:
        user = accounts.add_user(session, "otto", PASSWORD, Role.OPERATOR)
        days = [datetime(2026, 11, 30, 23, 59, tzinfo=UTC), datetime(2026, 12, 1, 8, 0, tzinfo=UTC)]
        rows = [("CT", FileOutcome.WRITTEN, 3, 3, 0, "", days[0]), ("CT", FileOutcome.WRITTEN, 0, 0, 0, "", days[1]),
                ("MR", FileOutcome.HELD, 2, 1, 1, "", days[1]), ("", FileOutcome.FAILED, 0, 0, 0, "input", days[1]),
                ("", FileOutcome.FAILED, 0, 0, 0, "internal", days[1])]
        for modality, outcome, found, redacted, held, failure, day in rows:
            session.add(FileRecord(name="x.dcm", outcome=outcome, failure=failure, file_format="DICOM",
                                   reason=reason_class("needs 3 GiB") if failure else "",
                                   modality=modality, regions_found=found, regions_redacted=redacted,
                                   regions_held=held, processed_at=day, user_id=user.id))
    with sessions.begin() as session:
        figures = statistics(session)
    assert {k: figures[k] for k in ("files", "with_burned_in_text", "redacted", "held", "failed_input",
                                    "failed_internal")} == {"files": 5, "with_burned_in_text": 2, "redacted": 2,
                                                            "held": 1, "failed_input": 1, "failed_internal": 1}
    assert figures["failure_reasons"] == {"needs N GiB": 2}
    assert figures["by_modality"]["CT"]["files"] == 2 and figures["by_modality"]["MR"]["held"] == 1
    assert figures["by_modality"]["unknown"]["files"] == 2
    assert {day: totals["files"] for day, totals in figures["by_day"].items()} == {"2026-11-30": 1,
                                                                                   "2026-12-01": 4}
