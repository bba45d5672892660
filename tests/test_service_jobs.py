"""Jobs over HTTP: uploads and zips, server-side folders under the input root only,
progress, the result zip, cancelling, and a job resumed after the service is killed."""

from __future__ import annotations

import io
import os
import signal
import time
import zipfile
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from test_service import add_user, bearer, served, token_for

CT = Path(get_testdata_file("CT_small.dcm")).read_bytes()
MR = Path(get_testdata_file("MR_small.dcm")).read_bytes()


def wait_for(client, token: str, job_id: int, until=("done", "cancelled"), timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        view = client.get(f"/api/jobs/{job_id}", headers=bearer(token)).json()
        if view["status"] in until or time.monotonic() > deadline:
            return view
        time.sleep(0.2)


@pytest.fixture(scope="module")
def accounts(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("jobs-service")
    assert add_user(data_dir, "otto", "operator").returncode == 0
    assert add_user(data_dir, "rita", "reviewer").returncode == 0
    root = tmp_path_factory.mktemp("input-root")
    (root / "study" / "series").mkdir(parents=True)
    (root / "study" / "series" / "ct.dcm").write_bytes(CT)
    (root / "study" / "mr.dcm").write_bytes(MR)
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.dcm").write_bytes(CT)
    (root / "escape").mkdir()
    os.symlink(outside, root / "escape" / "link")  # a folder link out of the root
    return data_dir, root, {"operator": token_for(data_dir, "otto"), "reviewer": token_for(data_dir, "rita")}


def test_an_uploaded_job_runs_in_the_background_and_downloads_as_a_zip(accounts):
    data_dir, root, tokens = accounts
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("series/one.dcm", CT)
        z.writestr("series/notes.txt", b"not an image")  # skipped, as a folder run skips it
    with served(data_dir, "--metadata-only", "--input-root", str(root)) as (client, _, _):
        response = client.post("/api/jobs", headers=bearer(tokens["operator"]),
                               files=[("files", ("ct.dcm", CT)), ("files", ("mr.dcm", MR)),
                                      ("files", ("more.zip", archive.getvalue()))])
        assert response.status_code == 201, response.text
        job = response.json()
        assert job["total"] == 3
        assert client.post("/api/jobs", headers=bearer(tokens["reviewer"]),
                           files=[("files", ("ct.dcm", CT))]).status_code == 403
        done = wait_for(client, tokens["reviewer"], job["id"])
        assert (done["status"], done["written"], done["pending"]) == ("done", 3, 0)
        result = client.get(f"/api/jobs/{job['id']}/result", headers=bearer(tokens["operator"]))
    assert not (data_dir / "jobs" / str(job["id"]) / "input").exists()  # the originals are gone once done
    names = set(zipfile.ZipFile(io.BytesIO(result.content)).namelist())
    assert {"anonymized_ct.dcm", "anonymized_mr.dcm", "series/anonymized_one.dcm"} <= names
    written = pydicom.dcmread(io.BytesIO(zipfile.ZipFile(io.BytesIO(result.content)).read("anonymized_ct.dcm")))
    original = pydicom.dcmread(io.BytesIO(CT))
    assert written.PatientName != original.PatientName and written.StudyInstanceUID != original.StudyInstanceUID


def test_folder_jobs_stay_under_the_input_root(accounts):
    data_dir, root, tokens = accounts
    with served(data_dir, "--metadata-only", "--input-root", str(root)) as (client, _, _):
        headers = bearer(tokens["operator"])
        job = client.post("/api/jobs/folder", json={"folder": "study"}, headers=headers)
        assert job.status_code == 201 and job.json()["total"] == 2
        assert wait_for(client, tokens["operator"], job.json()["id"])["written"] == 2
        for folder in ("../outside", "/etc", "study/../..", "escape/link", "nowhere"):
            refused = client.post("/api/jobs/folder", json={"folder": folder}, headers=headers)
            assert refused.status_code == 422, folder
    assert (root / "study" / "mr.dcm").read_bytes() == MR  # inputs are never modified


def test_a_job_can_be_cancelled(accounts):
    data_dir, root, tokens = accounts
    with served(data_dir, "--input-root", str(root)) as (client, _, _):  # with OCR: a second or more a file
        files = [("files", (f"ct{i}.dcm", CT)) for i in range(12)]
        job = client.post("/api/jobs", headers=bearer(tokens["operator"]), files=files).json()
        cancelled = client.post(f"/api/jobs/{job['id']}/cancel", headers=bearer(tokens["operator"])).json()
        assert cancelled["status"] == "cancelled"
        time.sleep(3)
        after = client.get(f"/api/jobs/{job['id']}", headers=bearer(tokens["operator"])).json()
        assert after["status"] == "cancelled" and after["pending"] > 0
        assert not (data_dir / "jobs" / str(job["id"]) / "input").exists()
        assert client.get(f"/api/jobs/{job['id']}/result", headers=bearer(tokens["operator"])).status_code == 200


def test_a_job_resumes_after_the_service_is_killed_and_no_file_is_lost_or_counted_twice(accounts):
    data_dir, root, tokens = accounts
    files = [("files", (f"scan{i:02d}.dcm", CT)) for i in range(8)]
    with served(data_dir, "--input-root", str(root)) as (client, _, server):
        before = client.get("/api/stats", headers=bearer(tokens["operator"])).json()["files"]
        job = client.post("/api/jobs", headers=bearer(tokens["operator"]), files=files).json()
        deadline = time.monotonic() + 300
        while client.get(f"/api/jobs/{job['id']}", headers=bearer(tokens["operator"])).json()["written"] < 2:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        os.kill(server.pid, signal.SIGKILL)  # mid-job, a file being processed
        server.wait()
    with served(data_dir, "--input-root", str(root)) as (client, _, _):
        done = wait_for(client, tokens["operator"], job["id"])
        assert (done["status"], done["written"], done["pending"]) == ("done", 8, 0)
        after = client.get("/api/stats", headers=bearer(tokens["operator"])).json()["files"]
        result = client.get(f"/api/jobs/{job['id']}/result", headers=bearer(tokens["operator"]))
    assert after - before == 8  # each file counted once, the one cut off included
    names = [n for n in zipfile.ZipFile(io.BytesIO(result.content)).namelist() if n.endswith(".dcm")]
    assert sorted(names) == [f"anonymized_scan{i:02d}.dcm" for i in range(8)]
