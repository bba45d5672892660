"""Stage 3: apply the confidentiality profile to every element, nested ones included."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, field
from enum import Enum
from functools import cache

from pydicom import Dataset, config
from pydicom.datadict import dictionary_has_tag, keyword_for_tag, private_dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag
from pydicom.uid import UID_dictionary

from anonymizer import __version__
from anonymizer.config import PipelineConfig
from anonymizer.dicom_decoding import sequence_items, store, store_text
from anonymizer.job import Job
from anonymizer.metadata.cleaning import text_cleaner
from anonymizer.metadata.dates import shift_da, shift_dt
from anonymizer.metadata.dummies import dummy_value, empty_value
from anonymizer.metadata.elements import ASCII_VRS, element_vr, keyword_text, text_values
from anonymizer.metadata.keyed import date_offset_days, keyed_uid, pseudonym
from anonymizer.metadata.profile import (
    BASIC_PROFILE_CODE,
    CLEAN_PIXEL_DATA_CODE,
    OPTION_CODES,
    ProfileOption,
    ProfileTable,
    device_identity_tags,
    load_profile_table,
)
from anonymizer.metadata.strategy import Strategy, safe_private_attributes

TEXT_VRS = {"LO", "SH", "ST", "LT", "UT", "UC", "PN"}
PSEUDONYM_TAGS = {0x00100020, 0x00100010}  # PatientID, PatientName
MEDIA_STORAGE_SOP_INSTANCE_UID = BaseTag(0x00020003)
SOURCE_APPLICATION_ENTITY_TITLE = BaseTag(0x00020016)
IMPLEMENTATION_CLASS_UID = BaseTag(0x00020012)
IMPLEMENTATION_VERSION_NAME = BaseTag(0x00020013)
# PS3.7 D.3.3.2: the UID and name of the implementation that wrote the file: this tool, never
# the input's writer (which can name a site's own software and version). The UID is
# 2.25 + UUID v5 of the project's PyPI address: fixed, and unique to this implementation.
OUR_IMPLEMENTATION_CLASS_UID = "2.25.4295474494537373921052310465301227450"
OUR_IMPLEMENTATION_VERSION_NAME = ("MEDANON_" + __version__.replace(".", "_"))[:16]
UNCHANGED = object()  # what action C returns for a value it leaves as it is


@dataclass(frozen=True)
class ScrubContext:
    table: ProfileTable
    strategy: Strategy
    key: bytes
    patient_key: str  # the original PatientID (or name) that keys pseudonym and date offset
    offset_days: int
    clean_text: Callable[[str], str] = field(default=lambda text: text)
    # The header-hint check for kept device fields: hints from every other attribute.
    clean_device_text: Callable[[str], str] = field(default=lambda text: text)
    # The same check for safe private text kept under Retain Safe Private.
    clean_private_text: Callable[[str], str] = field(default=lambda text: text)
    writes_explicit_vr: bool = True
    device_fields_cleaned: set[str] = field(default_factory=set)  # keywords, never values
    private_fields_cleaned: set[str] = field(default_factory=set)  # "(gggg,xxee) CREATOR"

    @property
    def options(self) -> frozenset[ProfileOption]:
        return self.strategy.options

    def has(self, option: ProfileOption) -> bool:
        return option in self.strategy.options


def scrub_metadata(job: Job, config: PipelineConfig) -> None:
    ds = job.dataset
    if ds is None:
        job.report.stages.append("scrub metadata: not DICOM, nothing to scrub")
        return
    patient_key = str(ds.get("PatientID", "") or ds.get("PatientName", "") or "")
    ctx = ScrubContext(
        table=load_profile_table(),
        strategy=config.strategy,
        key=config.key,
        patient_key=patient_key,
        offset_days=date_offset_days(config.key, patient_key),
        clean_text=text_cleaner(job.phi_hints),
        clean_device_text=_device_cleaner(job, config.strategy),
        clean_private_text=(text_cleaner(job.phi_hints, patterns=False)
                            if ProfileOption.RETAIN_SAFE_PRIVATE in config.strategy.options else lambda text: text),
        writes_explicit_vr=not ds.file_meta.TransferSyntaxUID.is_implicit_VR,
    )
    # What the strategy keeps on purpose is not a leak when the output holds it.
    job.sealed_values = [v for v in job.sealed_values if action_for(BaseTag(v.tag), v.vr, ds, ctx) != "K"]
    changed = scrub_dataset(ds, ctx)
    changed += _scrub_file_meta(ds, ctx)
    record_deidentification(ds, ctx.options, pixels_cleaned=False)
    if ctx.device_fields_cleaned:
        job.report.warnings.append(
            "Retain Device Identity: " + ", ".join(sorted(ctx.device_fields_cleaned))
            + " held an identifier from the header (an institution, a name or an ID) and were cleaned")
    if ctx.private_fields_cleaned:
        job.report.warnings.append(
            "Retain Safe Private: " + ", ".join(sorted(ctx.private_fields_cleaned))
            + " held an identifier from the header (an institution, a name or an ID) and were cleaned")
    job.report.attributes_cleaned = changed
    job.report.stages.append(f"scrub metadata: {changed} attributes cleaned")


def scrub_dataset(ds: Dataset, ctx: ScrubContext) -> int:
    """Apply each element's action; values are decoded only where an action needs them."""
    changed = 0
    known = _static_actions(ctx.strategy)
    elements = ds._dict
    for tag, element in list(elements.items()):
        number = int(tag)  # a plain int: BaseTag compares in Python, slowly
        vr = element_vr(element, number)
        action = known.get((number, vr))
        if action is None or action in _DYNAMIC:
            action = action_for(tag, vr, ds, ctx)
        if action == "X":
            if number & 0x10000 and 0x10 <= number & 0xFFFF <= 0xFF or number >> 16 == 0x7FE0:
                del ds[tag]  # a private creator or pixel data: pydicom resets its caches
            else:
                del elements[tag]
            changed += 1
            continue
        if ctx.writes_explicit_vr and element.VR is None:
            ds[tag]  # noqa: B018 - an implicit-VR element decodes to learn its VR for writing
        if action == _SAFE_CONTAINER:
            items = sequence_items(ds, tag)
            changed += sum(scrub_dataset(item, ctx) for item in items)
            if not any(_holds_private_data(item) for item in items):
                del ds[tag]
                changed += 1
            continue
        if action == "K" and vr != "SQ":
            pass  # kept as read: no need to decode the value at all
        elif action in _CHECKED_TEXT:
            device = action == _KEPT_DEVICE_TEXT
            clean = ctx.clean_device_text if device else ctx.clean_private_text
            if any(clean(v) != v for v in text_values(ds, tag)):
                changed += _replace(ds, tag, vr, _clean(ds, tag, vr, ctx, clean))
                if device:
                    ctx.device_fields_cleaned.add(keyword_for_tag(tag) or f"{number:08X}")
                else:
                    ctx.private_fields_cleaned.add(
                        f"({tag.group:04X},xx{tag.element & 0xFF:02X}) {private_creator(tag, ds)}")
        elif number in PSEUDONYM_TAGS and action in ("Z", "D"):
            # Z or D either way; a keyed pseudonym keeps a patient's files together.
            changed += _replace(ds, tag, vr, pseudonym(ctx.key, ctx.patient_key))
        elif action == "Z":
            changed += _replace(ds, tag, vr, empty_value(vr))
        elif vr == "SQ":
            changed += sum(scrub_dataset(item, ctx) for item in sequence_items(ds, tag))
        elif action == "D":
            changed += _replace(ds, tag, vr, _remap_uids(ds, tag, ctx.key) if vr == "UI" else dummy_value(vr))
        elif action == "U":
            changed += _replace(ds, tag, vr, _remap_uids(ds, tag, ctx.key))
        elif action == "C":
            changed += _replace(ds, tag, vr, _clean(ds, tag, vr, ctx))
    if ctx.has(ProfileOption.RETAIN_SAFE_PRIVATE):
        changed += _drop_empty_private_blocks(ds)
    return changed


def _holds_private_data(ds: Dataset) -> bool:
    return any(e.tag.is_private and e.tag.element >= 0x100 for e in ds)


def _drop_empty_private_blocks(ds: Dataset) -> int:
    """A creator whose block lost every attribute (a container that held nothing safe)."""
    blocks = {(int(t) >> 16, (int(t) & 0xFFFF) >> 8) for t in ds._dict if t.is_private and t.element >= 0x100}
    empty = [t for t in ds._dict if t.is_private and 0x10 <= t.element <= 0xFF and (t.group, t.element) not in blocks]
    for tag in empty:
        del ds[tag]
    return len(empty)


def action_for(tag: BaseTag, vr: str, ds: Dataset, ctx: ScrubContext) -> str:
    """The action for one element; what depends on the tag and VR alone is worked out once."""
    known = _static_actions(ctx.strategy)
    key = (int(tag), vr)  # a plain int: BaseTag compares in Python, slowly
    action = known.get(key)
    if action is None:
        action = known[key] = _static_action(tag, vr, ctx)
    if action == _BY_CREATOR:
        return _private_action(tag, vr, ds, ctx)
    if action == _BY_UID_VALUE:
        return _unlisted_uid_action(ds, tag)
    return action


# Actions that depend on more than the tag and VR: the block's private creator, or
# whether an unlisted UID is a well-known one.
_BY_CREATOR = "by private creator"
_BY_UID_VALUE = "by UID value"
_DYNAMIC = (_BY_CREATOR, _BY_UID_VALUE)
_KEPT_DEVICE_TEXT = "kept device text, cleaned of header identifiers"
_KEPT_PRIVATE_TEXT = "kept safe private text, cleaned of header identifiers"
_CHECKED_TEXT = (_KEPT_DEVICE_TEXT, _KEPT_PRIVATE_TEXT)
_SAFE_CONTAINER = "private sequence kept only while it holds a safe private attribute"
_STATIC_ACTIONS: dict[int, tuple[Strategy, dict[tuple[int, str], str]]] = {}


def _static_actions(strategy: Strategy) -> dict[tuple[int, str], str]:
    """One cache per strategy (kept alive beside it, so its id is not reused)."""
    entry = _STATIC_ACTIONS.get(id(strategy))
    if entry is None or entry[0] is not strategy:
        entry = _STATIC_ACTIONS[id(strategy)] = (strategy, {})
    return entry[1]


def _static_action(tag: BaseTag, vr: str, ctx: ScrubContext) -> str:
    """The strategy file's order: lists and tag rules, creators, VR rules, table, fallback."""
    strategy = ctx.strategy
    if int(tag) in strategy.tag_actions:
        return strategy.tag_actions[int(tag)]
    if tag.is_private:
        if not strategy.creator_actions and not ctx.has(ProfileOption.RETAIN_SAFE_PRIVATE):
            return "X"  # the common case: no need to read the creator
        return _BY_CREATOR
    group = tag.group
    if 0x6000 <= group <= 0x60FF or 0x5000 <= group <= 0x50FF:
        # Overlay planes and curves can carry burned-in annotations of their own.
        return "K" if ctx.has(ProfileOption.CLEAN_GRAPHICS) else "X"
    if vr in strategy.vr_actions:
        return strategy.vr_actions[vr]
    row = ctx.table.lookup(int(tag))
    if row is not None:
        action = row.action(ctx.options)
        if (action == "K" and vr in TEXT_VRS and ctx.has(ProfileOption.RETAIN_DEVICE_IDENTITY)
                and row.options.get(ProfileOption.RETAIN_DEVICE_IDENTITY.value) == "K"):
            # A device field is kept for the device, not for what a site typed into it: a
            # serial number or station name holding the institution's name, a person or an
            # ID from the header goes through Clean Descriptors' header-hint check.
            return _KEPT_DEVICE_TEXT
        return action
    return _action_for_unlisted(tag, vr, ctx)


def private_creator(tag: BaseTag, ds: Dataset) -> str | None:
    if tag.element < 0x0100:  # the creator element itself, or a group length
        creator = ds[tag].value if 0x10 <= tag.element <= 0xFF else None
    else:
        creator_element = ds.get((tag.group, tag.element >> 8))
        creator = creator_element.value if creator_element is not None else None
    return str(creator).strip().upper() if creator else None


def _private_action(tag: BaseTag, vr: str, ds: Dataset, ctx: ScrubContext) -> str:
    creator = private_creator(tag, ds)
    if creator in ctx.strategy.creator_actions:
        return ctx.strategy.creator_actions[creator]
    if not ctx.has(ProfileOption.RETAIN_SAFE_PRIVATE) or creator is None:
        return "X"
    if tag.element < 0x0100:
        # Keep a creator only while an attribute of its block is kept.
        block = tag.element
        return "K" if any(_safe_private_action(e.tag, element_vr(e, int(e.tag)), creator, ds, ctx) != "X"
                          for e in ds if e.tag.group == tag.group and e.tag.element >> 8 == block) else "X"
    return _safe_private_action(tag, vr, creator, ds, ctx)


def _safe_private_action(tag: BaseTag, vr: str, creator: str, ds: Dataset, ctx: ScrubContext) -> str:
    """Retain Safe Private (PS3.15 E.3.10): the standard's Table E.3.10-1 and the strategy's
    own additions are kept. Kept text still goes through the header-hint check, and a kept
    UID that names an instance is replaced like any other, so that a safe attribute never
    carries the input's identity."""
    key = (creator, tag.group, tag.element & 0xFF)
    listed_vr = safe_private_attributes().get(key)
    if listed_vr is None and key not in ctx.strategy.safe_private:
        # A private sequence the table does not list can still hold one it lists, as
        # Philips enhanced MR nests its scale slope in a private per-frame sequence: it is
        # kept as a container while a listed attribute survives in it, and goes otherwise.
        return _SAFE_CONTAINER if vr == "SQ" else "X"
    if vr == "UN":
        # Implicit VR: the VR comes from the table, or from pydicom's private dictionary
        # for the strategy's additions. Text or a UID would be kept unread, unchecked, so
        # only what is known to be neither is kept.
        listed = (listed_vr or _private_dictionary_vr(tag, creator)).split("/")[0] or "UN"
        return "X" if listed in TEXT_VRS or listed in ("UI", "UN") else "K"
    if vr == "PN":
        return "X"
    if vr in TEXT_VRS:
        return _KEPT_PRIVATE_TEXT
    if vr == "UI":
        return _unlisted_uid_action(ds, tag)
    return "K"


def _private_dictionary_vr(tag: BaseTag, creator: str) -> str:
    try:
        return private_dictionary_VR(int(tag), creator)
    except KeyError:
        return "UN"


def _action_for_unlisted(tag: BaseTag, vr: str, ctx: ScrubContext) -> str:
    """Public attributes the table does not list (README, "Attributes not in the table")."""
    if tag.group == 0x0000 or not dictionary_has_tag(tag):
        # A command group element, or a tag no edition of the standard defines: nothing
        # says what it holds (in a corrupt file, the bytes of the elements around it).
        return "X"
    if vr == "PN":
        return "X"
    if vr in ("DA", "DT"):
        if ctx.has(ProfileOption.RETAIN_LONGITUDINAL_FULL_DATES):
            return "K"
        return "C" if ctx.has(ProfileOption.RETAIN_LONGITUDINAL_MODIFIED_DATES) else "X"
    if vr in ("LT", "ST", "UT"):
        return "C" if ctx.has(ProfileOption.CLEAN_DESCRIPTORS) else "X"
    if vr == "UI" and not ctx.has(ProfileOption.RETAIN_UIDS):
        return "K" if names_a_registry_entry(keyword_for_tag(tag)) else _BY_UID_VALUE
    return "K"


# UID attributes that name something registered, the same for every patient and needed to
# read the file: a SOP class, a transfer syntax, a coding scheme (a vendor's own
# included), a context group or its extension's creator, a mapping resource, a creator's
# version, an implementation, a template. Any other UID attribute the table does not list
# identifies an instance, a frame of reference or a concept made for this patient.
REGISTRY_UID_KEYWORDS = frozenset({
    "CodingSchemeUID", "ContextUID", "ContextGroupExtensionCreatorUID", "MappingResourceUID",
    "CreatorVersionUID", "ImplementationClassUID", "PrivateInformationCreatorUID", "SegmentationTemplateUID",
})
DICOM_UID_ROOT = "1.2.840.10008."


def names_a_registry_entry(keyword: str) -> bool:
    return keyword in REGISTRY_UID_KEYWORDS or "SOPClass" in keyword or "TransferSyntaxUID" in keyword


def _device_cleaner(job: Job, strategy: Strategy) -> Callable[[str], str]:
    """Hints from every attribute but the kept device fields themselves (each is a hint
    for the pixels, and would otherwise erase itself): gathered beside the full hints in
    the same walk of the header. Only when the option is on and a device field is present."""
    if ProfileOption.RETAIN_DEVICE_IDENTITY not in strategy.options or job.dataset is None \
            or not any(t in job.dataset._dict for t in device_identity_tags()):
        return lambda text: text
    return text_cleaner(job.hints_beside_device_fields, patterns=False)


def _unlisted_uid_action(ds: Dataset, tag: BaseTag) -> str:
    """A UID DICOM registered (pydicom's dictionary, or anything under DICOM's own root:
    context groups, mapping resources) is kept wherever it stands; any other value of an
    attribute that is not a registry entry names an instance."""
    return "U" if any(v and v not in UID_dictionary and not v.startswith(DICOM_UID_ROOT)
                      for v in text_values(ds, tag)) else "K"


def _replace(ds: Dataset, tag: BaseTag, vr: str, value) -> int:
    """Put a new value in place of an element, raw or decoded; 1 when that changed it."""
    if value is UNCHANGED:
        return 0
    old = ds._dict[tag]
    if type(old) is RawDataElement:
        if old.length == 0 and _empty(value):
            return 0
        if vr in ASCII_VRS and not isinstance(value, bytes):
            if text_values(ds, tag) == (value if isinstance(value, list) else [value]):
                return 0
        # Values made here are valid for their VR by construction (dciodvfy checks the
        # output in the tests); pydicom's validation of each would double stage 3's time.
        if not store_text(ds, tag, vr, value):
            store(ds, DataElement(tag, vr, value, validation_mode=config.IGNORE))
        return 1
    if old.value == value or (_empty(old.value) and _empty(value)):
        return 0
    old.value = value  # type: ignore[misc]  # a decoded DataElement here: raw ones returned above
    return 1


def _empty(value) -> bool:
    return value is None or (isinstance(value, (str, bytes, list)) and len(value) == 0)


def _remap_uids(ds: Dataset, tag: BaseTag, key: bytes):
    values = [keyed_uid(key, v) for v in text_values(ds, tag) if v]
    if not values:
        return None
    return values if len(values) > 1 else values[0]


def _clean(ds: Dataset, tag: BaseTag, vr: str, ctx: ScrubContext, clean_text: Callable[[str], str] | None = None):
    """Action C: shift dates, keep times, strip identifiers from text; UNCHANGED otherwise."""
    clean_text = clean_text or ctx.clean_text
    if vr == "UI":
        return _remap_uids(ds, tag, ctx.key)
    if vr not in ("DA", "DT") and vr not in TEXT_VRS:
        return UNCHANGED  # TM, numbers, codes: identify no one once dates have moved
    values = text_values(ds, tag)
    if not any(values):
        return UNCHANGED
    if vr == "DA":
        cleaned = [shift_da(v, ctx.offset_days) for v in values]
    elif vr == "DT":
        cleaned = [shift_dt(v, ctx.offset_days) for v in values]
    else:
        cleaned = [clean_text(v) for v in values]
    kept = [v for v in cleaned if v]
    if not kept:
        # Text that was all identifier becomes a dummy, not empty: Type 1C attributes
        # such as an SR TextValue must keep a value to stay valid.
        return dummy_value(vr) if vr in TEXT_VRS else empty_value(vr)
    return kept if len(kept) > 1 else kept[0]


def _scrub_file_meta(ds: Dataset, ctx: ScrubContext) -> int:
    meta = getattr(ds, "file_meta", None)
    if meta is None:
        return 0
    changed = 0
    if SOURCE_APPLICATION_ENTITY_TITLE in meta._dict:
        del meta[SOURCE_APPLICATION_ENTITY_TITLE]
        changed += 1
    for tag, vr, ours in ((IMPLEMENTATION_CLASS_UID, "UI", OUR_IMPLEMENTATION_CLASS_UID),
                          (IMPLEMENTATION_VERSION_NAME, "SH", OUR_IMPLEMENTATION_VERSION_NAME)):
        if meta.get(tag) is None or meta[tag].value != ours:
            meta[tag] = DataElement(tag, vr, ours)
            changed += 1
    if MEDIA_STORAGE_SOP_INSTANCE_UID in meta._dict:
        new = keyword_text(ds, "SOPInstanceUID") or _remap_uids(meta, MEDIA_STORAGE_SOP_INSTANCE_UID, ctx.key)
        if not ctx.has(ProfileOption.RETAIN_UIDS):
            # A keyed UID (or the one stage 3 already gave the SOP instance): valid by construction.
            meta[MEDIA_STORAGE_SOP_INSTANCE_UID] = DataElement(MEDIA_STORAGE_SOP_INSTANCE_UID, "UI", new,
                                                               validation_mode=config.IGNORE)
            changed += 1
    return changed


class PixelStatus(str, Enum):
    """What is known of the pixels when the output is written; the header says no more."""

    NONE = "no pixel data"
    CLEAN = "scanned: no identifying text left"
    REVIEW = "scanned: text left for review"
    UNSCANNED = "not scanned"


def record_pixel_status(ds: Dataset, status: PixelStatus, burned_in_before: str) -> None:
    """PatientIdentityRemoved (PS3.3: removed from the attributes *and* the pixel data)
    and BurnedInAnnotation tell what was done. Unscanned pixels are vouched for only by
    the equipment's own BurnedInAnnotation NO."""
    # New elements, never a change of value: record_deidentification's elements are
    # shared by every file of the run.
    if status is PixelStatus.CLEAN:
        ds[BURNED_IN_ANNOTATION] = DataElement(BURNED_IN_ANNOTATION, "CS", "NO")
    elif status is PixelStatus.REVIEW:
        ds[BURNED_IN_ANNOTATION] = DataElement(BURNED_IN_ANNOTATION, "CS", "YES")
    removed = status in (PixelStatus.NONE, PixelStatus.CLEAN) or (
        status is PixelStatus.UNSCANNED and burned_in_before == "NO")
    ds[PATIENT_IDENTITY_REMOVED] = DataElement(PATIENT_IDENTITY_REMOVED, "CS", "YES" if removed else "NO")


BURNED_IN_ANNOTATION, PATIENT_IDENTITY_REMOVED = 0x00280301, 0x00120062


DEIDENTIFICATION_METHOD = BaseTag(0x00120063)
DEIDENTIFICATION_METHOD_CODES = BaseTag(0x00120064)
LONGITUDINAL_MODIFIED = BaseTag(0x00280303)
# What a file's dates have been through, least changed first: an earlier step's stronger
# change stays recorded.
LONGITUDINAL_ORDER = ("UNMODIFIED", "MODIFIED", "REMOVED")


def record_deidentification(ds: Dataset, options: frozenset[ProfileOption], pixels_cleaned: bool) -> None:
    """PatientIdentityRemoved, DeidentificationMethod and its CID 7050 codes. A file that
    an earlier step de-identified (defaced, an earlier profile run) keeps that record and
    gains this run's methods and codes after it (PS3.15 E.1.1: each step is added)."""
    ours = _deidentification_elements(options, pixels_cleaned)
    earlier_methods = text_values(ds, DEIDENTIFICATION_METHOD) if DEIDENTIFICATION_METHOD in ds._dict else []
    earlier_items = list(ds[DEIDENTIFICATION_METHOD_CODES].value or []) if DEIDENTIFICATION_METHOD_CODES in ds else []
    earlier_dates = text_values(ds, LONGITUDINAL_MODIFIED) if LONGITUDINAL_MODIFIED in ds._dict else []
    for element in ours:
        ds[element.tag] = element
    if earlier_methods:
        methods = earlier_methods + [m for m in ds[DEIDENTIFICATION_METHOD].value if m not in earlier_methods]
        ds[DEIDENTIFICATION_METHOD] = DataElement(DEIDENTIFICATION_METHOD, "LO", methods)
    if earlier_items:
        seen = {_code_of(item) for item in earlier_items}
        added = [deepcopy(item) for item in ds[DEIDENTIFICATION_METHOD_CODES].value if _code_of(item) not in seen]
        ds[DEIDENTIFICATION_METHOD_CODES] = DataElement(
            DEIDENTIFICATION_METHOD_CODES, "SQ", Sequence([deepcopy(item) for item in earlier_items] + added))
    if earlier_dates and earlier_dates[0] in LONGITUDINAL_ORDER:
        strongest = max(earlier_dates[0], ds[LONGITUDINAL_MODIFIED].value, key=LONGITUDINAL_ORDER.index)
        ds[LONGITUDINAL_MODIFIED] = DataElement(LONGITUDINAL_MODIFIED, "CS", strongest)


def _code_of(item: Dataset) -> tuple[str, str]:
    return str(item.get("CodeValue", "")), str(item.get("CodingSchemeDesignator", ""))


@cache
def _deidentification_elements(options: frozenset[ProfileOption], pixels_cleaned: bool) -> tuple[DataElement, ...]:
    """Built once per option set: the same for every file, and only read after stage 3
    (a new record replaces these elements, it never changes them)."""
    codes = [BASIC_PROFILE_CODE]
    if pixels_cleaned:
        codes.append(CLEAN_PIXEL_DATA_CODE)
    codes += sorted(OPTION_CODES[o] for o in options)
    items = []
    for value, meaning in codes:
        item = Dataset()
        item.CodeValue = value
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = meaning
        items.append(item)
    if ProfileOption.RETAIN_LONGITUDINAL_FULL_DATES in options:
        longitudinal = "UNMODIFIED"
    elif ProfileOption.RETAIN_LONGITUDINAL_MODIFIED_DATES in options:
        longitudinal = "MODIFIED"
    else:
        longitudinal = "REMOVED"
    # LO is 64 characters at most, but multi-valued: one value per method applied.
    methods = [f"medical-anonymizer {__version__}"] + [m[:64] for _, m in codes]
    return (
        DataElement(0x00120062, "CS", "YES"),  # PatientIdentityRemoved
        DataElement(0x00120063, "LO", methods),  # DeidentificationMethod
        DataElement(0x00120064, "SQ", Sequence(items)),  # DeidentificationMethodCodeSequence
        DataElement(0x00280303, "CS", longitudinal),  # LongitudinalTemporalInformationModified
    )


def add_clean_pixel_code(ds: Dataset) -> None:
    """Record the Clean Pixel Data Option (113101) on a file whose pixels were cleaned
    after stage 3 wrote its record (a reviewer's decision): added, nothing replaced."""
    value, meaning = CLEAN_PIXEL_DATA_CODE
    items = [deepcopy(item) for item in ds.get("DeidentificationMethodCodeSequence", [])]
    if any(item.get("CodeValue") == value for item in items):
        return
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "DCM", meaning
    ds[0x00120064] = DataElement(0x00120064, "SQ", Sequence([*items, item]))
    methods = text_values(ds, BaseTag(0x00120063)) if 0x00120063 in ds._dict else []
    if meaning not in methods:
        ds[0x00120063] = DataElement(0x00120063, "LO", [*methods, meaning])

