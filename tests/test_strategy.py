"""Issue 3, items 2 and 3: options and the YAML strategy file."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from anonymizer.config import PipelineConfig
from anonymizer.loading import open_job
from anonymizer.metadata.profile import ProfileOption
from anonymizer.metadata.scrub import scrub_metadata
from anonymizer.metadata.strategy import StrategyError, default_strategy, load_strategy, parse_strategy
from conftest import TEST_KEY, run_cli


def scrub_with(strategy_text: str, name: str = "CT_small.dcm"):
    config = PipelineConfig(key=TEST_KEY, strategy=parse_strategy(strategy_text))
    job = open_job(Path(get_testdata_file(name, download=False)))
    scrub_metadata(job, config)
    return job.dataset


def test_default_strategy_is_tcia_practice():
    assert default_strategy().options == {
        ProfileOption.RETAIN_LONGITUDINAL_MODIFIED_DATES, ProfileOption.RETAIN_PATIENT_CHARACTERISTICS,
        ProfileOption.RETAIN_DEVICE_IDENTITY, ProfileOption.CLEAN_DESCRIPTORS}
    assert load_strategy(None) == default_strategy()


def test_overrides_by_tag_keyword_vr_and_lists():
    ds = scrub_with("""
version: 1
actions:
  "(0008,1010)": X          # StationName, kept by Retain Device Identity otherwise
  PatientSex: D
  "VR:DS": Z
keep: [InstitutionName]
remove: ["0018,0050"]
""")
    original = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    assert "StationName" not in ds
    assert ds.PatientSex == "ANONYMIZED"
    assert ds.InstitutionName == original.InstitutionName
    assert "SliceThickness" not in ds
    assert ds.RescaleIntercept in (None, "")  # DS emptied by the VR rule


def test_options_change_actions():
    full = scrub_with("options: [retain-longitudinal-full-dates, retain-uids]")
    original = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    assert full.StudyDate == original.StudyDate
    assert full.SOPInstanceUID == original.SOPInstanceUID
    assert full.LongitudinalTemporalInformationModified == "UNMODIFIED"
    basic = scrub_with("options: []")
    assert basic.get("StudyDate") in (None, "")
    assert basic.StationName == "ANONYMIZED"  # X/Z/D resolves to D without the device option
    assert "PatientAge" not in basic and "StudyDescription" not in basic
    codes = {item.CodeValue for item in full.DeidentificationMethodCodeSequence}
    assert codes == {"113100", "113106", "113110"}


def test_private_creator_rule_keeps_a_block():
    ds = scrub_with('private-creators: {"GEMS_PARM_01": K}')
    original = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    kept = [e for e in ds if e.tag.is_private]
    assert kept and all(e.tag.group == 0x0043 for e in kept)
    assert len(kept) == len([e for e in original if e.tag.group == 0x0043])


@pytest.mark.parametrize("text, message", [
    ("version: 1\noptions: [retain-everything]\n", "line 2: unknown option 'retain-everything'"),
    ("actions:\n  PatientName: Q\n", "line 2: unknown action 'Q'"),
    ("actions:\n  NotAKeyword: X\n", "line 2: 'NotAKeyword' is neither a tag"),
    ("keep: [PatientName]\nremove: [PatientName]\n", "line 2: 'PatientName' is in both keep and remove"),
    ("colour: blue\n", "line 1: unknown key 'colour'"),
    ("actions: [a, b\n", "not valid YAML"),
    ("options: [retain-longitudinal-full-dates, retain-longitudinal-modified-dates]\n", "exclude each other"),
])
def test_invalid_strategy_names_line_and_reason(text, message):
    with pytest.raises(StrategyError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_strategy(text, "mine.yaml")


def test_cli_rejects_invalid_strategy_and_prints_default(tmp_path, tcia_dir):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nactions:\n  PatientName: maybe\n")
    result = run_cli(str(tcia_dir / "RGB_ORIGINAL.dcm"), str(tmp_path / "out"), "--strategy", str(bad))
    assert result.returncode == 2 and "bad.yaml: line 3: unknown action 'maybe'" in result.stderr
    printed = run_cli("--print-strategy")
    assert printed.returncode == 0
    assert parse_strategy(printed.stdout) == default_strategy()


def test_retain_safe_private_keeps_only_the_allow_list(config):
    ds = pydicom.Dataset()
    ds.PatientName = "DOE^JANE"
    block = ds.private_block(0x0019, "SIEMENS MR HEADER", create=True)
    block.add_new(0x0C, "IS", "1000")          # B_value: allow-listed
    block.add_new(0x10, "LO", "DOE JANE 1234")  # not listed
    other = ds.private_block(0x0029, "SIEMENS CSA HEADER", create=True)
    other.add_new(0x10, "OB", b"\x00\x01")
    from anonymizer.metadata.profile import load_profile_table
    from anonymizer.metadata.scrub import ScrubContext, scrub_dataset
    from anonymizer.metadata.strategy import parse_options

    strategy = parse_strategy("options: [retain-safe-private]")
    assert strategy.options == parse_options(["retain-safe-private"])
    scrub_dataset(ds, ScrubContext(load_profile_table(), strategy, TEST_KEY, "", -400))
    private = {int(e.tag): e.value for e in ds if e.tag.is_private}
    assert private == {0x00190010: "SIEMENS MR HEADER", 0x0019100C: "1000"}


def test_the_project_key_is_not_in_the_configs_repr():
    from anonymizer.config import PipelineConfig

    config = PipelineConfig(key=b"project-secret-key-0123")
    assert "project-secret-key" not in repr(config) and "project-secret-key" not in str(config)
