"""The strategy file: a privacy officer's readable statement of what happens to each attribute.

Loaded from YAML with line numbers kept, so an invalid file is rejected naming the line
and the reason. The shipped default lives in data/default-strategy.yaml.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from pydicom.datadict import tag_for_keyword

from anonymizer.metadata.profile import ProfileOption

ACTIONS = {"X", "Z", "D", "K", "C", "U"}
OPTION_NAMES: dict[str, ProfileOption] = {
    "retain-safe-private": ProfileOption.RETAIN_SAFE_PRIVATE,
    "retain-uids": ProfileOption.RETAIN_UIDS,
    "retain-device-identity": ProfileOption.RETAIN_DEVICE_IDENTITY,
    "retain-institution-identity": ProfileOption.RETAIN_INSTITUTION_IDENTITY,
    "retain-patient-characteristics": ProfileOption.RETAIN_PATIENT_CHARACTERISTICS,
    "retain-longitudinal-full-dates": ProfileOption.RETAIN_LONGITUDINAL_FULL_DATES,
    "retain-longitudinal-modified-dates": ProfileOption.RETAIN_LONGITUDINAL_MODIFIED_DATES,
    "clean-descriptors": ProfileOption.CLEAN_DESCRIPTORS,
    "clean-structured-content": ProfileOption.CLEAN_STRUCTURED_CONTENT,
    "clean-graphics": ProfileOption.CLEAN_GRAPHICS,
}
TOP_LEVEL_KEYS = {"version", "options", "actions", "private-creators", "safe-private", "keep", "remove"}
_TAG = re.compile(r"^\(?([0-9A-Fa-f]{4}),?([0-9A-Fa-f]{4})\)?$")
# A private attribute as PS3.15 Table E.3.10-1 writes it: group, "xx" for the block, element.
_PRIVATE_TAG = re.compile(r"^\(([0-9A-Fa-f]{4}),xx([0-9A-Fa-f]{2})\)$", re.IGNORECASE)
SafePrivateKey = tuple[str, int, int]  # (creator in upper case, group, element within the block)
VR_PREFIX = "VR:"


class StrategyError(ValueError):
    """An invalid strategy file; the message names the line and the reason."""


@dataclass(frozen=True)
class Strategy:
    options: frozenset[ProfileOption]
    tag_actions: dict[int, str] = field(default_factory=dict)
    vr_actions: dict[str, str] = field(default_factory=dict)
    creator_actions: dict[str, str] = field(default_factory=dict)
    # Private attributes this site also holds safe under Retain Safe Private, beyond the
    # standard's table (each one is the site's promise that it identifies no one).
    safe_private: frozenset[SafePrivateKey] = frozenset()


def parse_options(names, where: str = "") -> frozenset[ProfileOption]:
    options = set()
    for name in names:
        if name not in OPTION_NAMES:
            raise StrategyError(f"{where}unknown option {name!r} (known: {', '.join(OPTION_NAMES)})")
        options.add(OPTION_NAMES[name])
    if {ProfileOption.RETAIN_LONGITUDINAL_FULL_DATES, ProfileOption.RETAIN_LONGITUDINAL_MODIFIED_DATES} <= options:
        raise StrategyError(f"{where}retain-longitudinal-full-dates and -modified-dates exclude each other")
    return frozenset(options)


def parse_tag(text: str) -> int | None:
    """A tag as "(gggg,eeee)", "gggg,eeee" or "ggggeeee", or a DICOM keyword."""
    match = _TAG.match(text.strip())
    if match:
        return int(match.group(1) + match.group(2), 16)
    tag = tag_for_keyword(text.strip())
    return int(tag) if tag is not None else None


def _line(node: yaml.Node) -> str:
    return f"line {node.start_mark.line + 1}: "


def _mapping(node: yaml.Node, what: str) -> list[tuple[yaml.Node, yaml.Node]]:
    if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
        return []
    if not isinstance(node, yaml.MappingNode):
        raise StrategyError(f"{_line(node)}{what} must be a mapping")
    return node.value


def _sequence(node: yaml.Node, what: str) -> list[yaml.Node]:
    if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
        return []
    if not isinstance(node, yaml.SequenceNode):
        raise StrategyError(f"{_line(node)}{what} must be a list")
    return node.value


def _scalar(node: yaml.Node, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise StrategyError(f"{_line(node)}{what} must be a single value")
    return node.value


def _action(node: yaml.Node) -> str:
    value = _scalar(node, "an action").upper()
    if value not in ACTIONS:
        raise StrategyError(f"{_line(node)}unknown action {node.value!r} (use X, Z, D, K, C or U)")
    return value


def parse_strategy(text: str, source: str = "strategy") -> Strategy:
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise StrategyError(f"{source}: {where}not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if root is None:
        raise StrategyError(f"{source}: the file is empty")
    try:
        return _build(root)
    except StrategyError as exc:
        raise StrategyError(f"{source}: {exc}") from None


def _build(root: yaml.Node) -> Strategy:
    options = None
    tag_actions: dict[int, str] = {}
    vr_actions: dict[str, str] = {}
    creator_actions: dict[str, str] = {}
    safe_private: set[SafePrivateKey] = set()
    listed: dict[int, tuple[str, yaml.Node]] = {}
    for key_node, value_node in _mapping(root, "the strategy"):
        key = _scalar(key_node, "a key")
        if key not in TOP_LEVEL_KEYS:
            raise StrategyError(f"{_line(key_node)}unknown key {key!r} (known: {', '.join(sorted(TOP_LEVEL_KEYS))})")
        if key == "version":
            if _scalar(value_node, "version") != "1":
                raise StrategyError(f"{_line(value_node)}only version 1 is understood")
        elif key == "options":
            names = [_scalar(n, "an option") for n in _sequence(value_node, "options")]
            options = parse_options(names, _line(value_node))
        elif key == "actions":
            for name_node, action_node in _mapping(value_node, "actions"):
                name = _scalar(name_node, "a tag, keyword or VR")
                if name.upper().startswith(VR_PREFIX):
                    vr = name[len(VR_PREFIX):].strip().upper()
                    if not re.fullmatch(r"[A-Z]{2}", vr):
                        raise StrategyError(f"{_line(name_node)}{name!r} is not a VR")
                    vr_actions[vr] = _action(action_node)
                    continue
                tag = parse_tag(name)
                if tag is None:
                    raise StrategyError(f"{_line(name_node)}{name!r} is neither a tag, a DICOM keyword nor VR:XX")
                tag_actions[tag] = _action(action_node)
        elif key == "private-creators":
            for creator_node, action_node in _mapping(value_node, "private-creators"):
                creator_actions[_scalar(creator_node, "a creator").strip().upper()] = _action(action_node)
        elif key == "safe-private":
            safe_private.update(_safe_private_entries(value_node))
        else:  # keep / remove
            action = "K" if key == "keep" else "X"
            for item in _sequence(value_node, key):
                name = _scalar(item, "a tag or keyword")
                tag = parse_tag(name)
                if tag is None:
                    raise StrategyError(f"{_line(item)}{name!r} is neither a tag nor a DICOM keyword")
                if tag in listed and listed[tag][0] != action:
                    raise StrategyError(f"{_line(item)}{name!r} is in both keep and remove")
                listed[tag] = (action, item)
    tag_actions.update({tag: action for tag, (action, _) in listed.items()})
    if options is None:
        options = default_strategy().options
    return Strategy(options, tag_actions, vr_actions, creator_actions, frozenset(safe_private))


def _safe_private_entries(node: yaml.Node) -> set[SafePrivateKey]:
    """`safe-private: {CREATOR: ["(gggg,xxee)", ...]}`, in the standard table's notation."""
    entries = set()
    for creator_node, tags_node in _mapping(node, "safe-private"):
        creator = _scalar(creator_node, "a creator").strip().upper()
        for tag_node in _sequence(tags_node, "the attributes of a creator"):
            match = _PRIVATE_TAG.match(_scalar(tag_node, "a private attribute").strip())
            if not match or int(match.group(1), 16) % 2 == 0:
                raise StrategyError(f"{_line(tag_node)}{tag_node.value!r} is not a private attribute "
                                    "written as (gggg,xxee) with an odd group")
            entries.add((creator, int(match.group(1), 16), int(match.group(2), 16)))
    return entries


def default_strategy_text() -> str:
    return resources.files("anonymizer.metadata").joinpath("data/default-strategy.yaml").read_text()


@lru_cache(maxsize=1)
def default_strategy() -> Strategy:
    root = yaml.compose(default_strategy_text())
    names = []
    for key_node, value_node in root.value:
        if key_node.value == "options":
            names = [n.value for n in value_node.value]
    return Strategy(parse_options(names))


def load_strategy(path: Path | None) -> Strategy:
    if path is None:
        return parse_strategy(default_strategy_text(), "default strategy")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StrategyError(f"{path.name}: cannot be read ({type(exc).__name__})") from None
    return parse_strategy(text, path.name)


@lru_cache(maxsize=1)
def safe_private_attributes() -> dict[SafePrivateKey, str]:
    """PS3.15 Table E.3.10-1, every row: (creator, group, element within the block) -> VR."""
    text = resources.files("anonymizer.metadata").joinpath("data/ps3.15-table-e3.10-1.json").read_text()
    table = {}
    for row in json.loads(text)["rows"]:
        match = _PRIVATE_TAG.match(row["tag"])
        if match is None:
            raise ValueError(f"Table E.3.10-1: {row['tag']!r} is not a private attribute")
        table[(row["creator"].strip().upper(), int(match.group(1), 16), int(match.group(2), 16))] = row["vr"]
    return table
