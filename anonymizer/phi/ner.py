"""Optional transformer NER: names and places that no header value or pattern predicted.

Loaded only from a local directory (--ner-model or $ANONYMIZER_NER_MODEL) with the hub
offline; torch and transformers are imported here and only when a model is configured.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

NER_MODEL_ENV = "ANONYMIZER_NER_MODEL"
# Entity groups that identify: person, location, organisation, and the i2b2-style PHI labels.
IDENTIFYING_GROUPS = {"PER", "PERSON", "NAME", "PATIENT", "DOCTOR", "LOC", "LOCATION", "ORG", "HOSPITAL",
                      "ID", "DATE", "AGE", "PHONE", "CONTACT", "STREET", "CITY"}
MIN_SCORE = 0.5


def ner_model_dir(configured: Path | None) -> Path | None:
    if configured is not None:
        return configured
    value = os.environ.get(NER_MODEL_ENV)
    return Path(value) if value else None


@lru_cache(maxsize=2)
def load_ner(model_dir: Path):
    if not model_dir.is_dir():
        raise FileNotFoundError(f"NER model directory {model_dir} does not exist")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoModelForTokenClassification, AutoTokenizer, pipeline

    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model = AutoModelForTokenClassification.from_pretrained(model_dir, local_files_only=True)
    return pipeline("token-classification", model=model, tokenizer=tokenizer,
                    aggregation_strategy="simple", device=-1)


def identifying_entities(text: str, model_dir: Path) -> list[str]:
    """Entity groups found in ``text`` that identify (never the entity text itself)."""
    entities = load_ner(model_dir)(text)
    return [e["entity_group"] for e in entities
            if str(e.get("entity_group", "")).upper().removeprefix("B-").removeprefix("I-") in IDENTIFYING_GROUPS
            and float(e.get("score", 0)) >= MIN_SCORE]
