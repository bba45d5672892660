"""The DICOM gateway on loopback: pynetdicom plays the sending modality and the receiving
PACS, a small STOW-RS service the test starts receives over DICOMweb, and a folder gets a
third copy. The gateway runs as `medical-anonymizer gateway --config ...`, a process of
its own, so that it can be killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pydicom
import pytest
from conftest import REPO, TEST_KEY, central_text_dicom
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

from gateway_helpers import (
    Pacs,
    StowReceiver,
    echo,
    free_port,
    gateway,
    make_certificate,
    send,
    start_gateway,
    write_config,
)

PLANTED = ("Quartermaine", "Zebulon", "ZQ-778899", "Thistlewood Infirmary")
ENGINES = {"ocr-engines": "rapidocr"}


def planted(source: str, folder: Path, name: str, study: str | None = None, **changes) -> Path:
    """A pydicom test file with the planted identity, its own SOP Instance UID, and the
    given study."""
    ds = pydicom.dcmread(get_testdata_file(source, download=False))
    ds.PatientName, ds.PatientID, ds.InstitutionName = "Quartermaine^Zebulon", "ZQ-778899", "Thistlewood Infirmary"
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    if study:
        ds.StudyInstanceUID = study
    for keyword, value in changes.items():
        setattr(ds, keyword, value)
    folder.mkdir(parents=True, exist_ok=True)
    ds.save_as(folder / name)
    return folder / name


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    """A running gateway forwarding to a PACS, a STOW-RS service and a folder."""
    folder = tmp_path_factory.mktemp("gateway")
    pacs, web = Pacs(), StowReceiver()
    port = free_port()
    config = write_config(folder, port, [
        {"name": "pacs", "type": "dicom", "ae_title": "PACS", "host": "127.0.0.1", "port": pacs.port},
        {"name": "web", "type": "stow-rs", "url": web.url},
        {"name": "store", "type": "folder", "path": str(folder / "store")},
    ], pipeline=ENGINES, limits={"max_instance_mib": 1})
    log = folder / "gateway.log"
    with gateway(config, port, TEST_KEY, log):
        yield {"port": port, "pacs": pacs, "web": web, "folder": folder, "log": log}
    pacs.close()
    web.close()


def test_studies_arrive_deidentified_with_consistent_uids_at_every_destination(network, tmp_path):
    pacs, web, port = network["pacs"], network["web"], network["port"]
    study = generate_uid()
    first = planted("CT_small.dcm", tmp_path, "ct1.dcm", study)
    second = planted("CT_small.dcm", tmp_path, "ct2.dcm", study, InstanceNumber=2)
    cine = planted("examples_ybr_color.dcm", tmp_path, "cine.dcm")  # 30 frames, JPEG baseline
    compressed = planted("MR_small_jp2klossless.dcm", tmp_path, "mr_j2k.dcm")  # JPEG 2000 lossless
    assert send(port, [first]) == [0] and send(port, [second]) == [0]  # one study, two associations
    assert send(port, [cine, compressed]) == [0, 0]
    sent = [first, second, cine, compressed]
    pacs.wait_for(len(sent))
    web_deadline = time.monotonic() + 60
    while len(web.received) < len(sent) and time.monotonic() < web_deadline:
        time.sleep(0.2)
    originals = {str(pydicom.dcmread(p).SOPInstanceUID) for p in sent}
    assert len(pacs.received) == len(sent) and set(web.received) == set(pacs.received)
    assert not originals & set(pacs.received)  # every UID is new
    for uid, ds in pacs.datasets.items():
        assert ds.PatientIdentityRemoved == "YES", uid
        text = str(ds)
        assert not any(value.upper() in text.upper() for value in PLANTED), uid
    by_number = {int(ds.get("InstanceNumber", 0)): ds for ds in pacs.datasets.values() if ds.Modality == "CT"}
    assert by_number[1].StudyInstanceUID == by_number[2].StudyInstanceUID != study  # keyed: the same new study
    assert by_number[1].PatientID == by_number[2].PatientID  # and the same pseudonym
    cine_out = next(ds for ds in pacs.datasets.values() if ds.Modality == "US")
    assert int(cine_out.NumberOfFrames) == 30 and cine_out.pixel_array.shape[0] == 30
    mr_out = next(ds for ds in pacs.datasets.values() if ds.Modality == "MR")
    assert np.array_equal(mr_out.pixel_array, pydicom.dcmread(compressed).pixel_array)  # lossless, unchanged
    stored = sorted((network["folder"] / "store").rglob("*.dcm"))
    assert {p.stem for p in stored} == set(pacs.received)
    spool = network["folder"] / "spool"
    assert not any((spool / "incoming").iterdir()) and not list((spool / "outbox").rglob("*.dcm"))


def test_a_held_instance_waits_for_a_person_and_is_forwarded_once_decided(network, tmp_path):
    pacs, port = network["pacs"], network["port"]
    held = central_text_dicom(tmp_path, "JOHN SMITHSON")  # a name of unknown words: a person decides
    before = set(pacs.received)
    assert send(port, [held]) == [0]
    review = network["folder"] / "spool" / "deidentified" / "review"
    deadline = time.monotonic() + 120
    while not list(review.glob("*.review.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    [record] = list(review.glob("*.review.json"))
    time.sleep(2)
    assert set(pacs.received) == before  # nothing of it goes out while it is held
    decided = subprocess.run([sys.executable, str(REPO / "pipeline_run.py"), "review",
                              str(network["folder"] / "spool" / "deidentified"),
                              record.name.removesuffix(".review.json"), "--redact", "all"],
                             capture_output=True, text=True, timeout=300)
    assert decided.returncode == 0, decided.stdout + decided.stderr
    pacs.wait_for(len(before) + 1, timeout=60)
    [new] = set(pacs.received) - before
    released = pacs.datasets[new]
    # Every box decided by a person: the pixels are declared clean, the identity removed.
    assert (released.PatientIdentityRemoved, released.BurnedInAnnotation) == ("YES", "NO")
    assert not list(review.glob("*.review.json"))


def test_callers_off_the_allow_list_and_oversized_instances_are_refused(network, tmp_path):
    from pynetdicom import AE
    from pynetdicom.sop_class import Verification

    port = network["port"]
    assert echo(port) == 0
    assert echo(port, calling="STRANGER") is None  # an AE title not on the list: association rejected
    ae = AE(ae_title="MODALITY")
    ae.add_requested_context(Verification)
    other_address = ae.associate("127.0.0.1", port, ae_title="MEDANON", bind_address=("127.0.0.2", 0))
    assert not other_address.is_established  # the right AE title from an address not on the list
    big = tmp_path / "big.dcm"
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.Rows = ds.Columns = 1024
    ds.PixelData = np.zeros((1024, 1024), np.int16).tobytes()  # 2 MiB, over the 1 MiB limit
    ds.save_as(big)
    assert send(port, [big]) == [0xA700]
    assert not any((network["folder"] / "spool" / "incoming").glob("*.dcm"))


def test_an_instance_the_pipeline_refuses_waits_in_failed_with_its_reason(network, tmp_path):
    broken = planted("CT_small.dcm", tmp_path, "broken.dcm")
    ds = pydicom.dcmread(broken)
    ds.PixelData = ds.PixelData[:1000]  # fewer bytes than Rows x Columns x 2: cannot be decoded
    ds.save_as(broken)
    before = set(network["pacs"].received)
    assert send(network["port"], [broken]) == [0]  # acknowledged: it is safe in the spool
    failed = network["folder"] / "spool" / "failed" / "pipeline"
    deadline = time.monotonic() + 60
    while not list(failed.glob("*.dcm")) and time.monotonic() < deadline:
        time.sleep(0.2)
    [kept] = list(failed.glob("*.dcm"))
    assert kept.read_bytes()[128:132] == b"DICM" and (failed / f"{kept.name}.reason.txt").read_text().strip()
    assert set(network["pacs"].received) == before  # nothing of it was forwarded


def test_nothing_identifying_reaches_the_log_or_the_spool_names(network):
    log = network["log"].read_text()
    assert "received" in log  # it did log, under --verbose
    names = " ".join(str(p) for p in (network["folder"] / "spool").rglob("*"))
    for value in PLANTED:
        assert value not in log and value.upper() not in log.upper()
        assert value not in names


def test_kill_9_in_the_middle_loses_no_instance_and_sends_none_different(tmp_path):
    pacs = Pacs()
    port = free_port()
    config = write_config(tmp_path, port, [
        {"name": "pacs", "type": "dicom", "ae_title": "PACS", "host": "127.0.0.1", "port": pacs.port}],
        pipeline=ENGINES)
    study = generate_uid()
    files = [planted("CT_small.dcm", tmp_path / "study", f"ct{n}.dcm", study, InstanceNumber=n) for n in range(24)]
    acknowledged: set[Path] = set()
    log = tmp_path / "gateway.log"
    process = start_gateway(config, port, TEST_KEY, log)

    def modality() -> None:  # one association per instance: each acknowledgement is its own
        for path in files:
            if send(port, [path]) == [0]:
                acknowledged.add(path)

    sender = threading.Thread(target=modality)
    sender.start()
    deadline = time.monotonic() + 120
    while len(acknowledged) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)  # mid-stream: some received, some de-identified, some sent
    process.wait()
    sender.join()
    assert 10 <= len(acknowledged) < len(files)
    with gateway(config, port, TEST_KEY, log):
        missing = [path for path in files if path not in acknowledged]  # what the modality would resend
        assert send(port, missing) == [0] * len(missing)
        pacs.wait_for(len(files), timeout=240)
        time.sleep(2)  # anything sent twice would have come by now
    pacs.close()
    assert len(pacs.received) == len(files)  # every instance, under its new UID
    assert all(len(set(copies)) == 1 for copies in pacs.received.values())  # a re-send is the same bytes
    assert {int(ds.InstanceNumber) for ds in pacs.datasets.values()} == set(range(24))


def test_a_study_is_forwarded_once_it_has_been_quiet(tmp_path):
    port = free_port()
    store = tmp_path / "store"
    config = write_config(tmp_path, port, [{"name": "store", "type": "folder", "path": str(store)}],
                          pipeline={"metadata-only": True}, study_quiet_seconds=3)
    study = generate_uid()
    with gateway(config, port, TEST_KEY, tmp_path / "gateway.log"):
        assert send(port, [planted("CT_small.dcm", tmp_path, "a.dcm", study)]) == [0]
        time.sleep(2)
        assert not list(store.rglob("*.dcm"))  # the study is not quiet yet
        assert send(port, [planted("CT_small.dcm", tmp_path, "b.dcm", study, InstanceNumber=2)]) == [0]
        time.sleep(2)
        assert not list(store.rglob("*.dcm"))  # the second instance started the wait again
        deadline = time.monotonic() + 30
        while len(list(store.rglob("*.dcm"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(list(store.rglob("*.dcm"))) == 2
        assert len({p.parent.parent for p in store.rglob("*.dcm")}) == 1  # one study folder


def test_an_unreachable_destination_is_retried_then_failed_with_its_reason(tmp_path):
    port, closed = free_port(), free_port()
    config = write_config(tmp_path, port, [
        {"name": "gone", "type": "dicom", "ae_title": "PACS", "host": "127.0.0.1", "port": closed}],
        pipeline={"metadata-only": True})
    with gateway(config, port, TEST_KEY, tmp_path / "gateway.log"):
        assert send(port, [planted("CT_small.dcm", tmp_path, "a.dcm")]) == [0]
        failed = tmp_path / "spool" / "failed" / "gone"
        deadline = time.monotonic() + 60
        while not list(failed.glob("*.dcm")) and time.monotonic() < deadline:
            time.sleep(0.2)
    [kept] = list(failed.glob("*.dcm"))
    reason = (failed / f"{kept.name}.reason.txt").read_text()
    assert "after 4 attempts" in reason and ("cannot connect" in reason or "association" in reason)
    waiting = str(pydicom.dcmread(kept)).upper()
    assert not any(value.upper() in waiting for value in PLANTED)  # what waits there is de-identified


def test_dimse_over_tls_in_and_out(tmp_path):
    certificate, key = make_certificate(tmp_path)
    pacs_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    pacs_context.load_cert_chain(str(certificate), str(key))
    pacs = Pacs(ssl_context=pacs_context)  # a research PACS that speaks TLS only
    port = free_port()
    config = write_config(tmp_path, port, [
        {"name": "pacs", "type": "dicom", "ae_title": "PACS", "host": "localhost", "port": pacs.port,
         "tls": {"ca_certificates": str(certificate)}}],
        pipeline={"metadata-only": True}, tls={"certificate": str(certificate), "private_key": str(key)})
    with gateway(config, port, TEST_KEY, tmp_path / "gateway.log"):
        context = ssl.create_default_context(cafile=str(certificate))
        assert echo(port, tls_args=(context, "localhost")) == 0
        assert echo(port) is None  # plain DIMSE is not spoken on a TLS port
        ct = planted("CT_small.dcm", tmp_path, "a.dcm")
        assert send(port, [ct], tls_args=(ssl.create_default_context(cafile=str(certificate)), "localhost")) == [0]
        pacs.wait_for(1, timeout=60)
    pacs.close()
    assert len(pacs.received) == 1  # forwarded over TLS, the PACS's certificate checked


def test_concurrent_associations_are_limited(tmp_path):
    from pynetdicom import AE
    from pynetdicom.sop_class import Verification

    port = free_port()
    config = write_config(tmp_path, port, [{"name": "store", "type": "folder", "path": str(tmp_path / "store")}],
                          pipeline={"metadata-only": True},
                          limits={"max_associations": 1, "negotiation_timeout_seconds": 2})
    with gateway(config, port, TEST_KEY, tmp_path / "gateway.log"):
        ae = AE(ae_title="MODALITY")
        ae.add_requested_context(Verification)
        deadline = time.monotonic() + 10  # the start-up probe's bare TCP connection holds the slot 2 s
        while not (held_open := ae.associate("127.0.0.1", port, ae_title="MEDANON")).is_established and \
                time.monotonic() < deadline:
            time.sleep(0.5)
        assert held_open.is_established
        assert echo(port) is None  # a second association while the first is open: rejected
        held_open.release()
        assert echo(port) == 0


def test_a_bad_configuration_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "gateway.yaml"
    bad.write_text("ae_title: MEDANON\nport: 104\nspool: spool\nallowed: []\ndestinations: []\n")
    result = subprocess.run([sys.executable, str(REPO / "pipeline_run.py"), "gateway", "--config", str(bad)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: {bad}: allowed: list at least one caller "
                                                  "(ae_title and addresses)"]
    # The pipeline's options are checked as `run` checks them.
    write_config(tmp_path, free_port(), [{"name": "store", "type": "folder", "path": str(tmp_path / "store")}],
                 pipeline={"frames": "none"})
    result = subprocess.run([sys.executable, str(REPO / "pipeline_run.py"), "gateway", "--config", str(bad)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: {bad}: pipeline: Invalid value for --frames: use all, "
                                                  "first or a positive number"]


def test_stow_rs_over_https_is_verified_against_the_configured_ca(tmp_path):
    certificate, key = make_certificate(tmp_path)
    web = StowReceiver(certificate, key)
    port = free_port()
    config = write_config(tmp_path, port, [
        {"name": "trusted", "type": "stow-rs", "url": web.url, "ca_certificates": str(certificate)},
        {"name": "unverified", "type": "stow-rs", "url": web.url}],  # the system's store: not this certificate
        pipeline={"metadata-only": True})
    with gateway(config, port, TEST_KEY, tmp_path / "gateway.log"):
        assert send(port, [planted("CT_small.dcm", tmp_path, "a.dcm")]) == [0]
        failed = tmp_path / "spool" / "failed" / "unverified"
        deadline = time.monotonic() + 60
        while (not web.received or not list(failed.glob("*.dcm"))) and time.monotonic() < deadline:
            time.sleep(0.2)
    web.close()
    assert len(web.received) == 1  # by the destination that trusts the certificate, once
    [refused] = list(failed.glob("*.dcm"))
    assert "cannot reach the STOW-RS service (SSLError)" in (failed / f"{refused.name}.reason.txt").read_text()


def test_dimse_tls_can_require_a_client_certificate(tmp_path):
    certificate, key = make_certificate(tmp_path)
    port = free_port()
    config = write_config(tmp_path, port, [{"name": "store", "type": "folder", "path": str(tmp_path / "store")}],
                          pipeline={"metadata-only": True},
                          tls={"certificate": str(certificate), "private_key": str(key),
                               "ca_certificates": str(certificate)})  # callers must present one it signed
    with gateway(config, port, TEST_KEY, tmp_path / "gateway.log"):
        anonymous = ssl.create_default_context(cafile=str(certificate))
        assert echo(port, tls_args=(anonymous, "localhost")) is None
        identified = ssl.create_default_context(cafile=str(certificate))
        identified.load_cert_chain(str(certificate), str(key))
        assert echo(port, tls_args=(identified, "localhost")) == 0
