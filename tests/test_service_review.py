"""The review queue over HTTP: a held file is queued, shown with its boxes and previews to
reviewers only, decided box by box, released into its job's results with an audit trail,
and deleted undecided after the quarantine time. Page sessions need their CSRF token."""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import numpy as np
import pydicom
import pytest
from conftest import TEST_KEY, central_text_dicom, run_cli
from PIL import Image
from pydicom.data import get_testdata_file

from test_service import PASSWORD, PLANTED, add_user, bearer, served, token_for
from test_service_jobs import wait_for

CT = Path(get_testdata_file("CT_small.dcm")).read_bytes()
ENGINES = ("--ocr-engines", "rapidocr")  # a pipeline option of `run`, passed through by `serve`


@pytest.fixture(scope="module")
def central(tmp_path_factory) -> bytes:
    """An MR with a name of unknown words in its middle: the pipeline holds it for a person.
    Its header carries the distinctive identifiers the privacy test looks for."""
    path = central_text_dicom(tmp_path_factory.mktemp("central"), "JOHN SMITHSON")
    ds = pydicom.dcmread(path)
    ds.PatientName, ds.PatientID, ds.InstitutionName = "Quartermaine^Zebulon", "ZQ-778899", "Thistlewood Infirmary"
    ds.save_as(path)
    return path.read_bytes()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("review-service")
    for name, role in (("otto", "operator"), ("rita", "reviewer")):
        assert add_user(data_dir, name, role).returncode == 0
    tokens = {"operator": token_for(data_dir, "otto"), "reviewer": token_for(data_dir, "rita")}
    with served(data_dir, *ENGINES) as (client, log, _):
        yield client, tokens, data_dir, log


def run_job(client, token: str, files: dict[str, bytes]) -> dict:
    created = client.post("/api/jobs", files=[("files", (name, data)) for name, data in files.items()],
                          headers=bearer(token))
    assert created.status_code == 201, created.text
    return wait_for(client, token, created.json()["id"])


def result_names(client, token: str, job_id: int) -> set[str]:
    response = client.get(f"/api/jobs/{job_id}/result", headers=bearer(token))
    assert response.status_code == 200
    return set(zipfile.ZipFile(io.BytesIO(response.content)).namelist())


def test_a_held_file_is_queued_decided_released_and_audited(service, central):
    client, tokens, data_dir, _ = service
    reviewer, operator = bearer(tokens["reviewer"]), bearer(tokens["operator"])
    before = client.get("/api/stats", headers=reviewer).json()
    job = run_job(client, tokens["operator"], {"central.dcm": central, "ct.dcm": CT})
    assert (job["status"], job["held"], job["written"]) == ("done", 1, 1), job
    queue = client.get("/api/review", headers=reviewer).json()
    item = next(entry for entry in queue if entry["job_id"] == job["id"])
    assert item["name"] == "central.dcm" and item["boxes"] >= 1
    assert client.get("/api/review", headers=operator).status_code == 403  # the quarantine is not theirs
    detail = client.get(f"/api/review/{item['id']}", headers=reviewer).json()
    assert len(detail["held"]) == item["boxes"] and all(box["reason"] for box in detail["held"])
    assert all(box["decision"] == "pending" for box in detail["held"]) and detail["previews"] >= 1
    preview = client.get(f"/api/review/{item['id']}/preview/1", headers=reviewer)
    assert preview.status_code == 200 and Image.open(io.BytesIO(preview.content)).size[0] >= 484
    assert client.get(f"/api/review/{item['id']}/preview/1", headers=operator).status_code == 403
    assert "anonymized_central.dcm" not in result_names(client, tokens["operator"], job["id"])
    held_copy = pydicom.dcmread(data_dir / "jobs" / str(job["id"]) / "output" / "review" / "anonymized_central.dcm")

    boxes = detail["held"]
    numbers = [box["number"] for box in boxes]
    unknown = client.post(f"/api/review/{item['id']}/decisions", json={"decisions": {"9999": "keep"}},
                          headers=reviewer)
    assert unknown.status_code == 409 and "no box numbered 9999" in unknown.json()["detail"]
    assert client.post(f"/api/review/{item['id']}/decisions", json={"decisions": {str(numbers[0]): "redact"}},
                       headers=operator).status_code == 403
    outcome = client.post(f"/api/review/{item['id']}/decisions",
                          json={"decisions": {str(n): "redact" for n in numbers}}, headers=reviewer).json()
    assert outcome == {"released": True, "redacted": len(numbers), "kept": 0}

    detail = client.get(f"/api/review/{item['id']}", headers=reviewer).json()
    assert detail.get("state") == "released", detail
    assert [(d["box"], d["decision"], d["by"]) for d in detail["decisions"]] == [(n, "redact", "rita")
                                                                                 for n in numbers]
    assert client.get(f"/api/review/{item['id']}/preview/1", headers=reviewer).status_code == 404
    again = client.post(f"/api/review/{item['id']}/decisions", json={"decisions": {str(numbers[0]): "keep"}},
                        headers=reviewer)
    assert again.status_code == 409
    progress = client.get(f"/api/jobs/{job['id']}", headers=operator).json()
    assert (progress["held"], progress["released"]) == (0, 1)
    assert "anonymized_central.dcm" in result_names(client, tokens["operator"], job["id"])
    released = pydicom.dcmread(data_dir / "jobs" / str(job["id"]) / "output" / "anonymized_central.dcm")
    for box in boxes:  # each decided box is painted in the released file
        area = np.s_[box["top"]:box["top"] + box["height"], box["left"]:box["left"] + box["width"]]
        assert not np.array_equal(released.pixel_array[area], held_copy.pixel_array[area]), box
    assert released.PatientIdentityRemoved == "YES"
    quarantine = data_dir / "jobs" / str(job["id"]) / "output" / "review"
    assert {p.name for p in quarantine.iterdir()} == {"decisions.jsonl"}  # the copy, previews and record went
    after = client.get("/api/stats", headers=reviewer).json()
    assert after["released_after_review"] == before["released_after_review"] + 1
    assert after["held"] == before["held"]
    assert after["by_modality"]["MR"]["released_after_review"] >= 1


def test_page_sessions_carry_a_csrf_token(service):
    client, _, _, _ = service
    assert client.get("/login").status_code == 200
    refused = client.post("/login", data={"username": "rita", "password": PASSWORD})  # no form token
    assert refused.status_code == 403 and "medanon_session" not in client.cookies
    hidden = re.search(r'name="csrf_token" value="([^"]+)"', refused.text).group(1)  # the form shown again
    signed_in = client.post("/login", data={"username": "rita", "password": PASSWORD, "csrf_token": hidden})
    assert signed_in.status_code == 303 and "medanon_session" in client.cookies
    page = client.get("/stats")
    assert page.status_code == 200 and "Released after review" in page.text
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text).group(1)
    assert client.get("/api/stats").status_code == 200  # reading needs the cookie alone
    assert client.post("/api/review/1/decisions", json={"decisions": {"1": "keep"}}).status_code == 403
    with_token = client.post("/api/review/1/decisions", json={"decisions": {"1": "keep"}},
                             headers={"X-CSRF-Token": csrf})
    assert with_token.status_code in (404, 409)  # past the CSRF check: the item is released or missing
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    client.cookies.clear()
    assert client.get("/stats").status_code == 303  # to the sign-in page


def test_a_held_file_left_undecided_is_deleted_after_the_quarantine_time(tmp_path, central):
    data_dir = tmp_path / "data"
    assert add_user(data_dir, "otto", "operator").returncode == 0
    token = token_for(data_dir, "otto")
    with served(data_dir, *ENGINES, "--quarantine-days", "0.00003") as (client, _, _):  # about 2.6 s
        job = run_job(client, token, {"central.dcm": central})
        deadline = time.monotonic() + 60
        while client.get(f"/api/jobs/{job['id']}", headers=bearer(token)).json()["held"] and \
                time.monotonic() < deadline:
            time.sleep(0.5)
        progress = client.get(f"/api/jobs/{job['id']}", headers=bearer(token)).json()
        assert (progress["held"], progress["failed"]) == (0, 1)
        assert client.get("/api/stats", headers=bearer(token)).json()["expired_unreviewed"] == 1
    quarantine = data_dir / "jobs" / str(job["id"]) / "output" / "review"
    assert not [p for p in quarantine.rglob("*") if p.is_file()]


def test_no_planted_identifier_reaches_the_queue_the_pages_or_the_database(service, central):
    client, tokens, data_dir, log = service
    reviewer = bearer(tokens["reviewer"])
    job = run_job(client, tokens["operator"], {"scan.dcm": central})
    item = next(e for e in client.get("/api/review", headers=reviewer).json() if e["job_id"] == job["id"])
    texts = [client.get(route, headers=reviewer).text for route in
             ("/api/review", f"/api/review/{item['id']}", f"/api/jobs/{job['id']}", "/api/stats")]
    client.cookies.clear()
    form = client.get("/login")
    hidden = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    client.post("/login", data={"username": "rita", "password": PASSWORD, "csrf_token": hidden})
    texts += [client.get(page).text for page in ("/", f"/jobs/{job['id']}", "/review", f"/review/{item['id']}",
                                                 "/stats", "/account")]
    client.cookies.clear()
    assert "scan.dcm" in texts[0]  # the name the user gave the file is all the queue shows of it
    kept = [log.read_bytes(), *(t.encode() for t in texts)]
    # The database and its WAL, the outputs, and the quarantine: held copies are scrubbed too.
    kept += [path.read_bytes() for path in data_dir.rglob("*") if path.is_file()]
    for identifier in PLANTED:
        for blob in kept:
            assert identifier.encode() not in blob and identifier.upper().encode() not in blob, identifier


def test_a_watched_review_folder_joins_the_queue_and_is_released_where_it_lies(tmp_path, central):
    """The gateway's SPOOL/deidentified, as the pipeline leaves it: decided in the service
    or from the shell, a held file is released into that folder (where the gateway's router
    picks it up, tests/test_gateway.py)."""
    from anonymizer.config import PipelineConfig
    from anonymizer.pipeline import run_file

    folder, inputs = tmp_path / "deidentified", tmp_path / "in"
    inputs.mkdir()
    for name in ("a.dcm", "b.dcm"):
        (inputs / name).write_bytes(central)
        assert run_file(inputs / name, folder, PipelineConfig(key=TEST_KEY, ocr_engines=("rapidocr",))).status == "held"
    data_dir = tmp_path / "data"
    assert add_user(data_dir, "rita", "reviewer").returncode == 0
    headers = bearer(token_for(data_dir, "rita"))
    with served(data_dir, "--review-folder", str(folder)) as (client, _, _):
        deadline = time.monotonic() + 30
        while len(queue := client.get("/api/review", headers=headers).json()) < 2 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert sorted((entry["name"], entry["job_id"]) for entry in queue) == [("anonymized_a.dcm", None),
                                                                                ("anonymized_b.dcm", None)]
        first = next(entry for entry in queue if entry["name"] == "anonymized_a.dcm")
        detail = client.get(f"/api/review/{first['id']}", headers=headers).json()
        decided = client.post(f"/api/review/{first['id']}/decisions", headers=headers,
                              json={"decisions": {str(box["number"]): "redact" for box in detail["held"]}})
        assert decided.json()["released"] is True
        assert (folder / "anonymized_a.dcm").is_file() and not (folder / "review" / "anonymized_a.dcm").exists()
        shell = run_cli("review", str(folder), "anonymized_b.dcm", "--redact", "all")  # decided elsewhere
        assert shell.returncode == 0, shell.stdout + shell.stderr
        deadline = time.monotonic() + 30
        while client.get("/api/review", headers=headers).json() and time.monotonic() < deadline:
            time.sleep(0.3)
        assert client.get("/api/review", headers=headers).json() == []
        figures = client.get("/api/stats", headers=headers).json()
        assert (figures["held"], figures["released_after_review"], figures["by_modality"]["MR"]["files"]) == (0, 2, 2)
