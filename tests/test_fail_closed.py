"""Nothing identifying is written: corrupt inputs fail, outputs are searched and read back.

The files are pydicom's CT_small and JPEG files, cut or with one element rewritten the
way a corrupt export or a hostile sender would.
"""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from anonymizer.config import PipelineConfig
from anonymizer.errors import AnonymizerError
from anonymizer.job import PhiHints
from anonymizer.leak_check import Identifying, SealedValue, find_leak
from anonymizer.output_check import check_dicom_output, implausible_element
from anonymizer.pipeline import run_file, safe_message
from anonymizer.pixels.raster_metadata import strip_jpeg_metadata, strip_png_metadata
from conftest import TEST_KEY

CT_SMALL = Path(get_testdata_file("CT_small.dcm", download=False))
NAME = b"CompressedSamples^CT1"  # CT_small's PatientName
INSTITUTION = b"JFK IMAGING CENTER"
METADATA_ONLY = PipelineConfig(key=TEST_KEY, metadata_only=True)


def element_span(data: bytes, tag: int) -> tuple[int, int]:
    """(start, end) of a top-level explicit VR little endian element with a 2-byte length."""
    start = data.find(struct.pack("<HH", tag >> 16, tag & 0xFFFF))
    (length,) = struct.unpack_from("<H", data, start + 6)
    return start, start + 8 + length


def swallowing(data: bytes, tag: int, vr: bytes, through_tag: int) -> bytes:
    """``tag`` rewritten with ``vr`` and a length that runs on over the elements after it,
    up to the end of ``through_tag``: what a corrupt length does."""
    start, end = element_span(data, tag)
    _, through_end = element_span(data, through_tag)
    value = data[start + 8:through_end]
    if vr in (b"OB", b"UN"):
        header = struct.pack("<HH2s2xL", tag >> 16, tag & 0xFFFF, vr, len(value))
    else:
        header = struct.pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr, len(value))
    return data[:start] + header + value + data[through_end:]


def run_one(tmp_path: Path, data: bytes, config: PipelineConfig = METADATA_ONLY, name: str = "case.dcm"):
    source = tmp_path / "in" / name
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(data)
    out = tmp_path / "out"
    report = run_file(source, out, config)
    written = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
    return report, written


def assert_nothing_written(report, written, *values: bytes) -> None:
    assert report.status == "failed", report
    assert written == [], "nothing of a failed file is written, not even a partial file"
    for value in values:
        assert value.decode() not in report.reason and value.decode().lower() not in report.reason.lower()


def test_a_kept_element_swallowing_the_name_is_a_corrupt_file(tmp_path):
    data = swallowing(CT_SMALL.read_bytes(), 0x00080070, b"LO", through_tag=0x00100010)  # Manufacturer
    report, written = run_one(tmp_path, data)
    assert_nothing_written(report, written, NAME)
    assert "(0008,0070)" in report.reason and "corrupt" in report.reason


def test_a_text_element_read_as_binary_is_a_corrupt_file(tmp_path):
    data = swallowing(CT_SMALL.read_bytes(), 0x00080070, b"OB", through_tag=0x00100010)
    report, written = run_one(tmp_path, data)
    assert_nothing_written(report, written, NAME)
    assert "(0008,0070)" in report.reason


def test_a_text_element_sent_as_unknown_is_judged_by_its_dictionary_vr(tmp_path):
    data = swallowing(CT_SMALL.read_bytes(), 0x00080070, b"UN", through_tag=0x00100010)
    report, written = run_one(tmp_path, data)
    assert_nothing_written(report, written, NAME)
    assert "(0008,0070)" in report.reason


def test_the_name_hidden_in_the_pixel_data_is_found_by_the_byte_search(tmp_path):
    # Native pixel data whose length runs on over a copy of the name: --metadata-only
    # keeps pixel data byte for byte, and nothing about its header looks wrong.
    data = CT_SMALL.read_bytes()
    at = data.rfind(b"\xe0\x7f\x10\x00OW\x00\x00")
    (length,) = struct.unpack_from("<L", data, at + 8)
    tail = b"\x10\x00\x10\x00PN\x16\x00" + NAME + b" "
    end = at + 12 + length
    patched = data[:at + 8] + struct.pack("<L", length + len(tail)) + data[at + 12:end] + tail + data[end:]
    report, written = run_one(tmp_path, patched)
    assert_nothing_written(report, written, NAME)
    assert report.reason == f"the output would still hold {Identifying.PERSON_NAME.value}: not written"


def test_a_swallowed_name_is_captured_from_the_bytes():
    from anonymizer.leak_check import capture_swallowed_values

    data = swallowing(CT_SMALL.read_bytes(), 0x00080070, b"UN", through_tag=0x00100010)
    found = capture_swallowed_values(data, None)
    assert any(NAME in v.patterns for v in found)
    assert any(b"JFK IMAGING CENTER" in v.patterns for v in found)


def test_a_value_the_strategy_keeps_elsewhere_is_still_a_leak(tmp_path):
    from anonymizer.metadata.strategy import parse_strategy

    ds = pydicom.dcmread(CT_SMALL)
    ds.ProtocolName = "JFK IMAGING CENTER"
    ds.save_as(tmp_path / "protocol.dcm")
    strategy = parse_strategy('options: [retain-device-identity]\nactions:\n  "(0018,1030)": K\n')
    config = PipelineConfig(key=TEST_KEY, metadata_only=True, strategy=strategy)
    report, written = run_one(tmp_path, (tmp_path / "protocol.dcm").read_bytes(), config)
    assert_nothing_written(report, written, INSTITUTION)
    assert Identifying.INSTITUTION.value in report.reason


def test_an_identifier_with_a_numeric_vr_never_reaches_the_reason(tmp_path):
    # PatientID as US with an odd length: pydicom's error quotes the bytes it choked on.
    data = CT_SMALL.read_bytes()
    start, end = element_span(data, 0x00100020)
    patched = data[:start] + struct.pack("<HH2sH", 0x0010, 0x0020, b"US", 7) + b"PID7731" + data[end:]
    report, written = run_one(tmp_path, patched)
    assert_nothing_written(report, written, b"PID7731", b"7731")


@pytest.mark.parametrize("cut", [0.99, 0.6, 0.3, 0.05])
def test_a_truncated_image_fails_instead_of_passing_header_only(tmp_path, cut):
    data = CT_SMALL.read_bytes()
    report, written = run_one(tmp_path, data[:int(len(data) * cut)])
    assert_nothing_written(report, written, NAME)
    assert "truncated" in report.reason


def test_an_image_header_without_pixels_is_never_written_silently(tmp_path):
    # Cut exactly before its Pixel Data, a file reads like a header-only export: it is
    # written, and the report says what is missing.
    data = CT_SMALL.read_bytes()
    pixels_at = data.rfind(b"\xe0\x7f\x10\x00")
    report, written = run_one(tmp_path, data[:pixels_at])
    assert report.status == "written" and len(written) == 1
    assert any("without pixel data" in w for w in report.warnings)


def test_encapsulated_pixel_data_running_past_the_end_fails(tmp_path):
    source = Path(get_testdata_file("SC_rgb_jpeg_dcmtk.dcm", download=False))
    data = source.read_bytes()
    at = data.rfind(b"\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff")
    defined = struct.pack("<L", len(data) - at)  # longer than what follows it
    report, written = run_one(tmp_path, data[:at + 8] + defined + data[at + 12:], name="sc.dcm")
    assert_nothing_written(report, written)


def test_the_output_must_read_back_to_its_end():
    ds = pydicom.dcmread(CT_SMALL)
    from anonymizer.dicom_encoding import encode_dicom_file

    good = encode_dicom_file(ds)
    check_dicom_output(good, [])
    with pytest.raises(AnonymizerError):
        check_dicom_output(good + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00", [])  # a stray sequence delimiter
    with pytest.raises(AnonymizerError):
        check_dicom_output(good[:-100], [])


def test_text_with_control_bytes_is_implausible():
    ds = pydicom.dcmread(CT_SMALL)
    assert implausible_element(ds, top_level=True) is None
    raw = ds._dict[pydicom.tag.Tag(0x00080070)]
    ds._dict[raw.tag] = raw._replace(value=b"GE\x00\x10\x00\x10\x00PN", length=10)
    assert implausible_element(ds, top_level=True) == 0x00080070


def test_find_leak_counts_whole_values_not_fragments_of_longer_ones():
    sealed = [SealedValue(0x00100020, "LO", Identifying.IDENTIFIER, (b"4711",)),
              SealedValue(0x00100010, "PN", Identifying.PERSON_NAME, (b"DOE^JOHN",), (b"JOHN",))]
    assert find_leak(b"\x00UI\x10\x002.25.1234711999\x00", sealed, None) is None  # inside a UID's digits
    assert find_leak(b"LO\x04\x004711", sealed, None) is Identifying.IDENTIFIER
    assert find_leak(b"LO\x08\x00JOHNSTON", sealed, None) is None
    assert find_leak(b"LT\x0a\x00seen: JOHN", sealed, None) is Identifying.PERSON_NAME
    assert find_leak("JOHN".encode("utf-16-le"), [SealedValue(
        0x00100010, "PN", Identifying.PERSON_NAME, ("JOHN".encode("utf-16-le"),))], None) is Identifying.PERSON_NAME
    # Short values are not looked for inside the pixel data; long ones are.
    assert find_leak(b"\x004711\x00", sealed, (0, 6)) is None
    assert find_leak(b"\x00DOE^JOHN\x00", sealed, (0, 10)) is Identifying.PERSON_NAME


def test_safe_message_keeps_plain_text_and_drops_quoted_values():
    hints = PhiHints(names={"DOE"})
    assert safe_message(ValueError("operands could not be broadcast"), hints) == \
        "ValueError: operands could not be broadcast"
    assert safe_message(ValueError("Instead received b'PID7731' with length 7"), hints) == "ValueError"
    assert safe_message(KeyError("19700101"), hints) == "KeyError"
    assert "DOE" not in safe_message(ValueError("bad name DOE here"), hints)


def jpeg_with_metadata() -> tuple[bytes, np.ndarray]:
    image = np.zeros((64, 96, 3), np.uint8)
    image[16:48, 20:70] = (40, 160, 220)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    assert ok
    jpeg = encoded.tobytes()

    def segment(marker: int, payload: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload

    jfif_end = 2 + 2 + struct.unpack(">H", jpeg[4:6])[0]
    extra_app0 = segment(0xE0, b"JFXX\x00\x10DOE^JOHN-THUMB")
    adobe = segment(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x01" + b"DOE^JOHN-ADOBE")
    exif = segment(0xE1, b"Exif\x00\x00DOE^JOHN-EXIF")
    icc = segment(0xE2, b"ICC_PROFILE\x00\x01\x01DOE^JOHN-ICC")
    comment = segment(0xFE, b"DOE^JOHN-COMMENT")
    body = jpeg[jfif_end:-2]
    second_scan = body.find(b"\xff\xda", body.find(b"\xff\xda") + 2)  # between progressive scans
    body = body[:second_scan] + comment + exif + body[second_scan:]
    hostile = jpeg[:jfif_end] + extra_app0 + adobe + icc + body + b"\xff\xd9" + b"DOE^JOHN-TRAILER"
    return hostile, cv2.imdecode(np.frombuffer(hostile, np.uint8), cv2.IMREAD_UNCHANGED)


def test_jpeg_keeps_only_what_decoding_needs():
    hostile, decoded = jpeg_with_metadata()
    clean = strip_jpeg_metadata(hostile)
    assert b"DOE" not in clean
    assert clean.endswith(b"\xff\xd9")
    np.testing.assert_array_equal(cv2.imdecode(np.frombuffer(clean, np.uint8), cv2.IMREAD_UNCHANGED), decoded)


def test_png_keeps_only_what_decoding_needs():
    import zlib

    image = np.arange(48 * 32, dtype=np.uint16).reshape(32, 48)
    png = cv2.imencode(".png", image)[1].tobytes()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr_end = 8 + 25
    iccp = chunk(b"iCCP", b"DOE^JOHN profile\x00\x00" + zlib.compress(b"not a real profile"))
    text = chunk(b"tEXt", b"Comment\x00DOE^JOHN")
    hostile = png[:ihdr_end] + iccp + text + png[ihdr_end:] + b"DOE^JOHN-TRAILER"
    clean = strip_png_metadata(hostile)
    assert b"DOE" not in clean
    np.testing.assert_array_equal(cv2.imdecode(np.frombuffer(clean, np.uint8), cv2.IMREAD_UNCHANGED), image)


def test_bmp_trailing_bytes_are_not_copied(tmp_path):
    image = np.full((40, 60, 3), 90, np.uint8)
    bmp = cv2.imencode(".bmp", image)[1].tobytes() + b"DOE^JOHN-TRAILER"
    config = PipelineConfig(key=TEST_KEY, skip_classification=True, ocr_engines=("rapidocr",))
    report, written = run_one(tmp_path, bmp, config, name="scan.bmp")
    assert report.status == "written", report.reason
    assert b"DOE" not in written[0].read_bytes()
    np.testing.assert_array_equal(cv2.imread(str(written[0]), cv2.IMREAD_UNCHANGED), image)


def test_corpus_outputs_hold_no_identifying_value(tmp_path):
    """The byte search finds nothing in a normal file: the check costs no false failures."""
    for name in ("CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "reportsi.dcm", "rtplan.dcm"):
        report, written = run_one(tmp_path / name, Path(get_testdata_file(name, download=False)).read_bytes())
        assert report.status == "written", (name, report.reason)
