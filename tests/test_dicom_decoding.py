"""The fast reader builds what pydicom's dcmread builds, on pydicom's corpus."""

from __future__ import annotations

import io
import os
import struct
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file, get_testdata_files
from pydicom.dataelem import RawDataElement

from anonymizer.dicom_decoding import read_file, read_sequence, sequence_items, Unusual
from anonymizer.dicom_encoding import encode_dicom_file
from anonymizer.metadata.scrub import scrub_metadata
from anonymizer.loading import open_job

CORPUS = sorted(Path(f) for f in get_testdata_files() if os.path.isfile(f))
DATASET_RECORDS = ("is_undefined_length_sequence_item", "_read_charset", "_read_implicit", "_read_little",
                   "_parent_encoding", "seq_item_tell", "file_tell")


def assert_same_dataset(ours, theirs, where: str) -> None:
    assert list(ours._dict) == list(theirs._dict), where
    for name in DATASET_RECORDS:
        assert getattr(ours, name, None) == getattr(theirs, name, None), (where, name)
    # Every other instance attribute too (the reader sets an item's attributes itself).
    # Left out: the file object a FileDataset keeps (another BytesIO either way) and the
    # Pixel Representation pydicom hands to items it opens, which only settles ambiguous
    # VRs of implicit VR items (see sequence_items).
    skipped = {"_dict", "fileobj_type", "filename", "buffer", "_pixel_rep"}
    assert ours.__dict__.keys() - skipped == theirs.__dict__.keys() - skipped, where
    for name, value in ours.__dict__.items():
        if name not in skipped:
            assert value == theirs.__dict__[name], (where, name)
    for tag, mine in ours._dict.items():
        other = theirs._dict[tag]
        assert type(mine) is type(other), (where, tag)
        if type(mine) is RawDataElement:
            assert tuple(mine) == tuple(other), (where, tag)  # tag, VR, length, value, position, encoding
        elif mine.VR == "SQ":
            assert (mine.is_undefined_length, mine.file_tell) == (other.is_undefined_length, other.file_tell)
            assert len(mine.value) == len(other.value), (where, tag)
            for index, (a, b) in enumerate(zip(mine.value, other.value)):
                assert_same_dataset(a, b, f"{where} {tag}[{index}]")
        else:
            assert (mine.VR, mine.value) == (other.VR, other.value), (where, tag)


def compare_lazy_sequences(theirs, where: str) -> int:
    """Each defined-length sequence pydicom left raw, read by us and by pydicom."""
    compared = 0
    for tag, element in list(theirs._dict.items()):
        if type(element) is RawDataElement and element.VR == "SQ" and element.value and not element.is_implicit_VR:
            encoding = theirs.original_character_set or theirs._character_set
            try:
                ours = read_sequence(element.value, encoding, element.value_tell)
            except Unusual:
                ours = None
            items = theirs[tag].value
            if ours is not None:
                assert len(ours) == len(items), (where, tag)
                for index, (a, b) in enumerate(zip(ours, items)):
                    assert_same_dataset(a, b, f"{where} {tag}[{index}]")
                compared += 1
        element = theirs._dict[tag]
        if type(element) is not RawDataElement and element.VR == "SQ":
            for item in element.value:
                compared += compare_lazy_sequences(item, where)
    return compared


@pytest.mark.parametrize("dataset_set_up", ["from the template", "by Dataset()"])
def test_reads_the_corpus_as_pydicom_does(dataset_set_up, monkeypatch):
    if dataset_set_up == "by Dataset()":  # what the reader does under a pydicom whose Dataset it does not know
        monkeypatch.setattr("anonymizer.dicom_decoding._DATASET_TEMPLATE", None)
    files_read, sequences = 0, 0
    for path in CORPUS:
        content = path.read_bytes()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                theirs = pydicom.dcmread(io.BytesIO(content), force=True)
            except Exception:  # noqa: BLE001 - unreadable files are test_pydicom_corpus's subject
                continue
            ours = read_file(content)
            if ours is None:  # not explicit VR little endian, or something left to pydicom
                continue
            assert_same_dataset(ours, theirs, path.name)
            assert_same_dataset(ours.file_meta, theirs.file_meta, path.name + " meta")
            assert (ours.preamble, ours.file_meta, ours.original_encoding) == (
                theirs.preamble, theirs.file_meta, theirs.original_encoding), path.name
            sequences += compare_lazy_sequences(theirs, path.name)
            files_read += 1
    # 101 files of the corpus take the fast path, with 85 sequences pydicom leaves raw.
    assert files_read >= 100 and sequences >= 80


def test_scrubbed_output_does_not_depend_on_the_reader(config, monkeypatch):
    """Stage 3 and 7 after our reader write what they write after pydicom's."""
    names = ("CT_small.dcm", "test-SR.dcm", "waveform_ecg.dcm", "liver_1frame.dcm", "examples_overlay.dcm",
             "JPEG2000.dcm", "SC_rgb_rle.dcm", "MR_small_RLE.dcm")
    outputs = {}
    for reader in ("ours", "pydicom"):
        if reader == "pydicom":
            monkeypatch.setattr("anonymizer.loading.read_file", lambda content: None)
        for name in names:
            job = open_job(Path(get_testdata_file(name, download=False)))
            scrub_metadata(job, config)
            outputs[reader, name] = encode_dicom_file(job.dataset)
    for name in names:
        assert outputs["ours", name] == outputs["pydicom", name], name


def test_what_it_does_not_expect_is_left_to_pydicom():
    content = Path(get_testdata_file("test-SR.dcm", download=False)).read_bytes()  # explicit VR little endian, nested
    assert read_file(content) is not None
    assert read_file(content[:-3]) is None  # the last value runs past the end of the file
    assert read_file(b"not DICOM at all") is None
    ds = read_file(content)
    tag = next(t for t, e in ds._dict.items() if type(e) is RawDataElement and e.VR == "SQ" and e.value)
    raw = ds._dict[tag]
    # An item that switches to implicit VR: pydicom knows how to read it, so it does.
    first_element = 8
    implicit = raw.value[:first_element + 4] + struct.pack("<L", 0) + raw.value[first_element + 8:]
    try:
        read_sequence(implicit, "iso8859", raw.value_tell)
        raise AssertionError("an implicit VR item was read as explicit")
    except Unusual:
        pass
    assert len(sequence_items(ds, tag)) >= 1 and type(ds._dict[tag]) is not RawDataElement
