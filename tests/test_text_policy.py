"""The text policy: thresholds and word lists of stages 5 and 6 in a YAML file that a
privacy officer can read (--print-text-policy) and a site can override."""

from __future__ import annotations

import subprocess
import sys

import pytest

from anonymizer.job import PhiHints, Verdict
from anonymizer.phi.classify import classify_text
from anonymizer.text_policy import TextPolicyError, activate, load_text_policy
from anonymizer.text_rules import Reason
from conftest import REPO, central_text_dicom


@pytest.fixture
def policy_file(tmp_path):
    def write(text: str):
        path = tmp_path / "policy.yaml"
        path.write_text(text)
        return path

    yield write
    activate(None)


def test_the_shipped_policy_holds_every_key():
    policy = load_text_policy(None)
    assert policy.band_fraction == 0.2 and policy.min_identifying_characters == 2
    assert policy.extra_safe_words == frozenset() and policy.extra_identifier_labels == ()


def test_a_site_policy_adds_vocabulary_and_labels(policy_file):
    assert classify_text("NORTHFIELD", PhiHints(), "phi") == (Verdict.PHI, Reason.UNRECOGNISED)
    # An unknown word, no evidence: held in the middle of an image rather than painted.
    assert classify_text("KVNR 12", PhiHints(), "phi") == (Verdict.PHI, Reason.UNRECOGNISED)
    activate(policy_file("reading:\n  extra_safe_words: [Northfield]\n  extra_identifier_labels: [KVNR]\n"))
    assert classify_text("NORTHFIELD", PhiHints(), "phi") == (Verdict.SAFE, Reason.CLINICAL_VOCABULARY)
    assert classify_text("KVNR 12", PhiHints(), "phi") == (Verdict.PHI, Reason.IDENTIFIER_LABEL)


@pytest.mark.parametrize("text, message", [
    ("border:\n  band_fraction: 0.9\n", "border.band_fraction must lie in 0.0-0.5"),
    ("border:\n  width: 3\n", "unknown key border.width"),
    ("reading:\n  extra_safe_words: SMITH\n", "reading.extra_safe_words must be a list of words"),
    ("- a\n- b\n", "expected sections"),
])
def test_a_policy_that_cannot_be_used_is_refused_naming_the_key(policy_file, text, message):
    with pytest.raises(TextPolicyError, match=message):
        load_text_policy(policy_file(text))


def test_the_band_of_the_policy_decides_what_is_held(tmp_path):
    """A name of unknown words in an MR's middle is held with the shipped band (a fifth of
    each side); with a band reaching the middle it is painted and the file released."""
    source = central_text_dicom(tmp_path / "in", "JOHN SMITHSON")
    (tmp_path / "wide.yaml").write_text("border:\n  band_fraction: 0.5\n")
    run = [sys.executable, str(REPO / "pipeline_run.py"), str(source), "--ocr-engines", "rapidocr"]
    shipped = subprocess.run([*run[:3], str(tmp_path / "a"), *run[3:]], capture_output=True, text=True, timeout=300)
    wide = subprocess.run([*run[:3], str(tmp_path / "b"), *run[3:], "--text-policy-file", str(tmp_path / "wide.yaml")],
                          capture_output=True, text=True, timeout=300)
    assert shipped.returncode == 4, shipped.stdout + shipped.stderr
    assert wide.returncode == 0 and (tmp_path / "b" / "anonymized_central.dcm").is_file(), wide.stdout + wide.stderr


def test_print_text_policy_prints_the_shipped_file():
    result = subprocess.run([sys.executable, str(REPO / "pipeline_run.py"), "--print-text-policy"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "band_fraction: 0.2" in result.stdout
    assert load_text_policy(None) is not None
