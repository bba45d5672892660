"""Known burned-in annotation areas, by device and image size (a declarative file).

Some screens put the patient's identity in the same place on every image: an ultrasound
system's header band, a dose report's table. Their areas are painted in addition to what
OCR finds, so a font or contrast no engine reads there cannot keep a name. The shipped
file (anonymizer/pixels/data/pixel-rules.yaml) holds entries from public sources; users
add theirs with --pixel-rules FILE. The format is documented in the file itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from pydicom import Dataset

from anonymizer.job import Box
from anonymizer.metadata.elements import keyword_text

NUMBER_KEYWORDS = frozenset({"Rows", "Columns"})


class PixelRulesError(ValueError):
    """A pixel-rules file that cannot be used; the message names the file and the rule."""


@dataclass(frozen=True)
class PixelRule:
    name: str
    text: tuple[tuple[str, tuple[str, ...]], ...]  # keyword, alternatives (upper case)
    numbers: tuple[tuple[str, tuple[int, ...]], ...]
    boxes: tuple[Box, ...]

    def matches(self, ds: Dataset) -> bool:
        for keyword, choices in self.numbers:
            value = keyword_text(ds, keyword)
            if not value.strip().isdigit() or int(value) not in choices:
                return False
        for keyword, alternatives in self.text:
            value = keyword_text(ds, keyword).upper()
            if not any(alternative in value for alternative in alternatives):
                return False
        return True


def parse_pixel_rules(text: str, source: str) -> tuple[PixelRule, ...]:
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise PixelRulesError(f"{source}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    rules = []
    for number, entry in enumerate(document.get("rules") or [], 1):
        where = f"{source}: rule {number}"
        try:
            match = dict(entry["match"])
            boxes = tuple(Box(*(int(v) for v in box)) for box in entry["boxes"])
        except (KeyError, TypeError, ValueError):
            raise PixelRulesError(f"{where}: needs 'match' (keyword: value) and 'boxes' ([left, top, width, "
                                  "height], ...)") from None
        if not boxes or any(b.width <= 0 or b.height <= 0 or b.left < 0 or b.top < 0 for b in boxes):
            raise PixelRulesError(f"{where}: every box needs a positive width and height inside the image")
        numbers = tuple((k, tuple(int(v) for v in (value if isinstance(value, list) else [value])))
                        for k, value in match.items() if k in NUMBER_KEYWORDS)
        contains = tuple((k, tuple(a.strip().upper() for a in str(value).split("|") if a.strip()))
                         for k, value in match.items() if k not in NUMBER_KEYWORDS)
        rules.append(PixelRule(str(entry.get("name", where)), contains, numbers, boxes))
    return tuple(rules)


@lru_cache(maxsize=8)
def load_pixel_rules(path: Path | None = None) -> tuple[PixelRule, ...]:
    """The shipped rules, and the user's file beside them."""
    shipped = resources.files("anonymizer.pixels").joinpath("data/pixel-rules.yaml").read_text()
    rules = parse_pixel_rules(shipped, "pixel-rules.yaml")
    if path is not None:
        try:
            rules += parse_pixel_rules(Path(path).read_text(encoding="utf-8"), Path(path).name)
        except OSError as exc:
            raise PixelRulesError(f"{Path(path).name}: cannot be read ({exc.strerror})") from None
    return rules


def known_areas(ds: Dataset | None, rows: int, cols: int, path: Path | None) -> list[tuple[str, Box]]:
    """(rule name, box clipped to the image) of every rule the header matches."""
    if ds is None:
        return []
    found = []
    for rule in load_pixel_rules(path):
        if rule.matches(ds):
            for box in rule.boxes:
                right, bottom = min(box.right, cols), min(box.bottom, rows)
                if right > box.left and bottom > box.top:
                    found.append((rule.name, Box(box.left, box.top, right - box.left, bottom - box.top)))
    return found
