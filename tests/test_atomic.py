"""Atomic outputs: one file at a time, and in groups committed by one sync."""

from __future__ import annotations

from pathlib import Path

import pytest

from anonymizer.atomic import grouped_commits, write_bytes_atomically


def test_single_write_is_in_place_at_once(tmp_path):
    target = tmp_path / "out" / "a.dcm"
    write_bytes_atomically(target, b"DICM")
    assert target.read_bytes() == b"DICM"
    assert [p.name for p in target.parent.iterdir()] == ["a.dcm"]


def test_a_group_shows_nothing_until_its_commit_then_everything(tmp_path):
    targets = [tmp_path / f"{i}.dcm" for i in range(3)]
    with grouped_commits():
        for i, target in enumerate(targets):
            write_bytes_atomically(target, bytes([i]) * 10)
        assert not any(t.exists() for t in targets)  # only .partial temp files so far
        assert len(list(tmp_path.glob(".*.partial"))) == 3
    assert [t.read_bytes() for t in targets] == [bytes([i]) * 10 for i in range(3)]
    assert not list(tmp_path.glob(".*.partial"))


def test_a_failed_group_leaves_neither_outputs_nor_temp_files(tmp_path):
    with pytest.raises(RuntimeError):
        with grouped_commits():
            write_bytes_atomically(tmp_path / "a.dcm", b"x")
            raise RuntimeError("disk gone")
    assert list(tmp_path.iterdir()) == []


def test_metadata_only_batch_commits_in_groups_and_reports_after(tmp_path, config):
    from dataclasses import replace

    from pydicom.data import get_testdata_file

    from anonymizer.batch import METADATA_ONLY_CHUNK, run_local
    from anonymizer.inputs import InputFile

    source = Path(get_testdata_file("CT_small.dcm", download=False))
    count = METADATA_ONLY_CHUNK + 3  # two groups, the second one short
    items = [InputFile(source, Path(f"f{i:03d}.dcm")) for i in range(count)]
    seen = []

    def on_record(record):  # a report line is only ever about a file already in place
        seen.append(Path(record["output_path"]).is_file())

    records = run_local(items, tmp_path, replace(config, metadata_only=True), workers=1, overwrite=False,
                        on_record=on_record)
    assert [r["status"] for r in records] == ["written"] * count
    assert all(seen) and len(seen) == count
    assert len(list(tmp_path.glob("anonymized_*.dcm"))) == count
    assert not list(tmp_path.rglob("*.partial"))


def test_outputs_get_the_umasks_mode_not_mkstemps_0600(tmp_path):
    import os
    import stat

    from anonymizer.atomic import grouped_commits, write_bytes_atomically

    old = os.umask(0o022)
    try:
        write_bytes_atomically(tmp_path / "one.dcm", b"x")
        with grouped_commits():
            write_bytes_atomically(tmp_path / "two.dcm", b"y")
    finally:
        os.umask(old)
    for name in ("one.dcm", "two.dcm"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name
