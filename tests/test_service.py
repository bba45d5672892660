"""The web service over real HTTP on loopback: accounts, roles, the report's endpoints,
statistics from the database, and no identifying value in the service's own data."""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_file

from conftest import REPO, TEST_KEY, run_cli

from anonymizer.service.statistics import reason_class

PASSWORD = "correct horse battery staple"
# Distinctive identifiers planted in an upload, looked for in everything the service keeps.
PLANTED = ("Quartermaine", "Zebulon", "ZQ-778899", "Thistlewood Infirmary")
ROUTES = (("GET", "/api/stats"), ("GET", "/api/users"), ("GET", "/api/openapi.json"),
          ("POST", "/api/mask_image"), ("POST", "/api/convert"), ("POST", "/api/jobs"), ("POST", "/api/jobs/folder"),
          ("GET", "/api/jobs/1"), ("POST", "/api/jobs/1/cancel"), ("GET", "/api/jobs/1/result"),
          ("GET", "/api/review"), ("GET", "/api/review/1"), ("GET", "/api/review/1/preview/1"),
          ("POST", "/api/review/1/decisions"))
# The pages answer a request without a session with the sign-in page.
PAGES = ("/", "/jobs/1", "/review", "/review/1", "/stats", "/account")


def add_user(data_dir: Path, name: str, role: str, password: str = PASSWORD) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "pipeline_run.py"), "users", "add", name, "--role", role,
                           "--password-stdin", "--data-dir", str(data_dir)], input=password + "\n",
                          capture_output=True, text=True, timeout=120, cwd=REPO)


def token_for(data_dir: Path, name: str) -> str:
    result = run_cli("users", "token", name, "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def served(data_dir: Path, *options: str):
    """`medical-anonymizer serve` on a free loopback port until the block ends; yields
    (client, log path, process)."""
    port = free_port()
    log = data_dir.parent / f"{data_dir.name}-service.log"
    with log.open("a") as log_file:
        server = subprocess.Popen(
            [sys.executable, str(REPO / "pipeline_run.py"), "serve", "--data-dir", str(data_dir), "--port", str(port),
             *options], stdout=log_file, stderr=subprocess.STDOUT, cwd=REPO,
            env={**os.environ, "ANONYMIZER_KEY": TEST_KEY.decode()})
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
        deadline = time.monotonic() + 60
        while True:
            try:
                client.get("/api/stats")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    server.kill()
                    raise RuntimeError(log.read_text()) from None
                time.sleep(0.2)
        try:
            yield client, log, server
        finally:
            client.close()
            if server.poll() is None:
                server.terminate()
                server.wait(timeout=30)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """A served instance with one account per role; yields (client, tokens, data_dir, log)."""
    data_dir = tmp_path_factory.mktemp("service")
    assert run_cli("users", "list", "--data-dir", str(data_dir)).stdout == ""  # no account until one is made
    for name, role in (("ada", "admin"), ("otto", "operator"), ("rita", "reviewer")):
        assert add_user(data_dir, name, role).returncode == 0
    tokens = {role: token_for(data_dir, name) for name, role in
              (("ada", "admin"), ("otto", "operator"), ("rita", "reviewer"))}
    with served(data_dir, "--max-upload-mib", "1") as (client, log, _):
        yield client, tokens, data_dir, log


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def planted_ct(path: Path) -> Path:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.PatientName = "Quartermaine^Zebulon"
    ds.PatientID = "ZQ-778899"
    ds.InstitutionName = "Thistlewood Infirmary"
    ds.save_as(path)
    return path


def test_every_route_refuses_a_request_without_a_valid_token(service):
    client, _, _, _ = service
    for method, route in ROUTES:
        for headers in ({}, bearer("mat_not-a-token")):
            response = client.request(method, route, headers=headers)
            assert response.status_code == 401, (method, route, headers)


def test_every_page_sends_a_visitor_without_a_session_to_sign_in(service):
    client, _, _, _ = service
    for page in PAGES:
        for cookies in ({}, {"medanon_session": "mat_not-a-session"}):
            client.cookies.clear()
            response = client.get(page, cookies=cookies)
            assert (response.status_code, response.headers.get("location")) == (303, "/login"), page
    client.cookies.clear()
    assert client.post("/logout").status_code == 303


def test_the_compose_healthcheck_passes_on_a_running_service_and_fails_on_a_closed_port(service):
    import yaml

    client, _, _, _ = service
    probe = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["web"]["healthcheck"]["test"]
    code = probe[-1].replace("8000", str(client.base_url.port))
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30).returncode == 0
    closed = probe[-1].replace("8000", str(free_port()))
    assert subprocess.run([sys.executable, "-c", closed], capture_output=True, timeout=30).returncode != 0


def test_each_role_is_refused_what_it_may_not_do(service):
    client, tokens, _, _ = service
    assert client.get("/api/users", headers=bearer(tokens["operator"])).status_code == 403
    assert client.get("/api/users", headers=bearer(tokens["reviewer"])).status_code == 403
    users = client.get("/api/users", headers=bearer(tokens["admin"])).json()
    assert {(u["username"], u["role"]) for u in users} == {("ada", "admin"), ("otto", "operator"),
                                                            ("rita", "reviewer")}
    upload = {"file": ("ct.dcm", Path(get_testdata_file("CT_small.dcm")).read_bytes())}
    assert client.post("/api/mask_image", files=upload, headers=bearer(tokens["reviewer"])).status_code == 403
    assert client.get("/api/stats", headers=bearer(tokens["reviewer"])).status_code == 200


def test_mask_image_returns_the_deidentified_file_and_the_statistics_count_it(service, tmp_path):
    client, tokens, _, _ = service
    before = client.get("/api/stats", headers=bearer(tokens["reviewer"])).json()
    sample = REPO / "samples" / "2_ORIGINAL.dcm"  # burned-in text, its identity also in the header
    response = client.post("/api/mask_image", files={"file": ("2_ORIGINAL.dcm", sample.read_bytes())},
                           headers=bearer(tokens["operator"]))
    assert response.status_code == 200, response.text
    assert 'filename="anonymized_2_ORIGINAL.dcm"' in response.headers["content-disposition"]
    original, written = pydicom.dcmread(sample), pydicom.dcmread(io.BytesIO(response.content))
    assert written.PatientIdentityRemoved == "YES" and written.PatientName != original.PatientName
    assert written.SOPInstanceUID != original.SOPInstanceUID
    assert not np.array_equal(written.pixel_array, original.pixel_array)  # the burned-in text is painted
    after = client.get("/api/stats", headers=bearer(tokens["reviewer"])).json()
    assert after["files"] == before["files"] + 1
    assert after["with_burned_in_text"] == before["with_burned_in_text"] + 1
    assert after["redacted"] == before["redacted"] + 1
    assert after["by_modality"]["CT"]["files"] >= 1 and sum(d["files"] for d in after["by_day"].values()) == \
        after["files"]


def test_bad_uploads_get_a_reason_and_are_counted_as_failed(service):
    client, tokens, _, _ = service
    headers = bearer(tokens["operator"])
    before = client.get("/api/stats", headers=headers).json()
    assert client.post("/api/mask_image", files={"file": ("notes.txt", b"hello")}, headers=headers).status_code == 422
    broken = client.post("/api/mask_image", files={"file": ("broken.dcm", b"DICM" * 40)}, headers=headers)
    assert broken.status_code == 422 and broken.json()["detail"]
    too_large = client.post("/api/mask_image", files={"file": ("big.dcm", b"\0" * (2 << 20))}, headers=headers)
    assert too_large.status_code == 413
    after = client.get("/api/stats", headers=headers).json()
    assert after["failed_input"] == before["failed_input"] + 1  # the broken file; the others never ran
    reason = broken.json()["detail"]
    grouped = reason_class(reason)
    assert after["failure_reasons"][grouped] == before["failure_reasons"].get(grouped, 0) + 1


def test_convert_renders_the_8_bit_view_as_png(service):
    client, tokens, _, _ = service
    source = Path(get_testdata_file("CT_small.dcm"))
    response = client.post("/api/convert", files={"file": ("ct.dcm", source.read_bytes())},
                           headers=bearer(tokens["reviewer"]))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    ds = pydicom.dcmread(source)
    assert image.size == (ds.Columns, ds.Rows) and image.mode == "L"
    assert np.asarray(image).std() > 10  # a picture, not a blank


def test_the_schema_is_served_to_users_only(service):
    client, tokens, _, _ = service
    schema = client.get("/api/openapi.json", headers=bearer(tokens["reviewer"])).json()
    assert {"/api/login", "/api/stats", "/api/users", "/api/mask_image", "/api/convert", "/api/jobs",
            "/api/jobs/folder", "/api/jobs/{job_id}", "/api/jobs/{job_id}/cancel",
            "/api/jobs/{job_id}/result", "/api/review", "/api/review/{item_id}",
            "/api/review/{item_id}/preview/{number}", "/api/review/{item_id}/decisions"} <= set(schema["paths"])
    assert not any(path.startswith(("/login", "/static")) for path in schema["paths"])  # pages are not the API


def test_login_issues_a_token_and_failed_logins_are_limited(service):
    client, _, data_dir, _ = service
    assert add_user(data_dir, "lena", "reviewer").returncode == 0
    good = client.post("/api/login", json={"username": "lena", "password": PASSWORD})
    assert good.status_code == 200
    assert client.get("/api/stats", headers=bearer(good.json()["token"])).status_code == 200
    for _ in range(5):
        assert client.post("/api/login", json={"username": "lena", "password": "wrong guess"}).status_code == 401
    # Locked for the window, even with the right password; another account is not.
    assert client.post("/api/login", json={"username": "lena", "password": PASSWORD}).status_code == 429
    assert client.post("/api/login", json={"username": "ada", "password": PASSWORD}).status_code == 200


def test_a_disabled_account_is_refused_at_once(service):
    client, _, data_dir, _ = service
    assert add_user(data_dir, "max", "operator").returncode == 0
    token = token_for(data_dir, "max")
    assert client.get("/api/stats", headers=bearer(token)).status_code == 200
    assert run_cli("users", "disable", "max", "--data-dir", str(data_dir)).returncode == 0
    assert client.get("/api/stats", headers=bearer(token)).status_code == 401
    assert client.post("/api/login", json={"username": "max", "password": PASSWORD}).status_code == 401
    assert "max\toperator\tdisabled" in run_cli("users", "list", "--data-dir", str(data_dir)).stdout


def test_accounts_refuse_weak_passwords_and_duplicates(tmp_path):
    short = add_user(tmp_path, "bob", "admin", password="short")
    assert short.returncode == 2 and "at least 12 characters" in short.stderr
    assert add_user(tmp_path, "bob", "admin").returncode == 0
    again = add_user(tmp_path, "bob", "operator")
    assert again.returncode == 2 and "exists already" in again.stderr


def test_no_planted_identifier_reaches_the_database_the_log_or_a_response(service, tmp_path):
    client, tokens, data_dir, log = service
    upload = planted_ct(tmp_path / "planted.dcm").read_bytes()
    responses = [client.post("/api/mask_image", files={"file": ("scan.dcm", upload)},
                             headers=bearer(tokens["operator"]))]
    assert responses[0].status_code == 200
    responses.append(client.post("/api/mask_image", files={"file": ("scan.dcm", upload[:3000])},
                                 headers=bearer(tokens["operator"])))  # cut short: an error reply
    responses += [client.get(route, headers=bearer(tokens["admin"])) for route in ("/api/stats", "/api/users")]
    texts = [r.content for r in responses] + [log.read_bytes()]
    texts += [path.read_bytes() for path in data_dir.rglob("*") if path.is_file()]  # the database and its WAL
    for identifier in PLANTED:
        for text in texts:
            assert identifier.encode() not in text and identifier.upper().encode() not in text, identifier
    assert not any((data_dir / "work").iterdir())  # nothing of a request is left behind


def test_schemathesis_finds_no_server_error_in_the_served_schema(service):
    """Generated requests for every operation of /api/openapi.json, with a valid token:
    none may get a 5xx reply."""
    client, tokens, _, _ = service
    base = str(client.base_url).rstrip("/")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "st"), "run", f"{base}/api/openapi.json", "--url", base,
         "-H", f"Authorization: Bearer {tokens['admin']}", "-c", "not_a_server_error", "-n", "25",
         "--seed", "1"], capture_output=True, text=True, timeout=600, env={**os.environ, "NO_COLOR": "1"})
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Tested: 14" in result.stdout and " passed" in result.stdout
