"""Stage 3: apply the confidentiality profile to every element, nested ones included."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pydicom import Dataset
from pydicom.dataelem import DataElement
from pydicom.tag import BaseTag
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.uid import UID_dictionary

from anonymizer import __version__
from anonymizer.config import PipelineConfig
from anonymizer.job import Job
from anonymizer.metadata.cleaning import text_cleaner
from anonymizer.metadata.dates import shift_da, shift_dt
from anonymizer.metadata.elements import element_vr
from anonymizer.metadata.dummies import dummy_value, empty_value
from anonymizer.metadata.keyed import date_offset_days, keyed_uid, pseudonym
from anonymizer.metadata.profile import (
    BASIC_PROFILE_CODE,
    CLEAN_PIXEL_DATA_CODE,
    OPTION_CODES,
    ProfileOption,
    ProfileTable,
    load_profile_table,
)
from anonymizer.metadata.strategy import Strategy, safe_private_attributes
from anonymizer.phi.hints import collect_phi_hints

TEXT_VRS = {"LO", "SH", "ST", "LT", "UT", "UC", "PN"}
PSEUDONYM_KEYWORDS = {"PatientID", "PatientName"}


@dataclass(frozen=True)
class ScrubContext:
    table: ProfileTable
    strategy: Strategy
    key: bytes
    patient_key: str  # the original PatientID (or name) that keys pseudonym and date offset
    offset_days: int
    clean_text: Callable[[str], str] = field(default=lambda text: text)
    writes_explicit_vr: bool = True

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
    job.phi_hints = collect_phi_hints(ds)
    patient_key = str(ds.get("PatientID", "") or ds.get("PatientName", "") or "")
    ctx = ScrubContext(
        table=load_profile_table(),
        strategy=config.strategy,
        key=config.key,
        patient_key=patient_key,
        offset_days=date_offset_days(config.key, patient_key),
        clean_text=text_cleaner(job.phi_hints),
        writes_explicit_vr=not ds.file_meta.TransferSyntaxUID.is_implicit_VR,
    )
    changed = scrub_dataset(ds, ctx)
    changed += _scrub_file_meta(ds, ctx)
    record_deidentification(ds, ctx.options, pixels_cleaned=False)
    job.report.attributes_cleaned = changed
    job.report.stages.append(f"scrub metadata: {changed} attributes cleaned")


def scrub_dataset(ds: Dataset, ctx: ScrubContext) -> int:
    changed = 0
    for tag in list(ds.keys()):
        vr = element_vr(ds, tag)
        action = action_for(tag, vr, ds, ctx)
        if action == "X":
            del ds[tag]
            changed += 1
            continue
        if action == "K" and vr != "SQ":
            if ctx.writes_explicit_vr and ds.get_item(tag).VR is None:
                ds[tag]  # noqa: B018 - an implicit-VR element decodes to learn its VR for writing
            continue  # kept as read: no need to decode the value at all
        element = ds[tag]
        if element.keyword in PSEUDONYM_KEYWORDS and action in ("Z", "D"):
            # Z or D either way; a keyed pseudonym keeps a patient's files together.
            changed += _set(element, pseudonym(ctx.key, ctx.patient_key))
            continue
        if action == "Z":
            changed += _set(element, empty_value(element.VR))
            continue
        if element.VR == "SQ":
            changed += sum(scrub_dataset(item, ctx) for item in element.value or [])
            continue
        if action == "D":
            changed += _set(element, _dummy_for(element, ctx))
        elif action == "U":
            changed += _set(element, _remap_uids(element.value, ctx.key))
        elif action == "C":
            changed += _set(element, _clean(element, ctx))
    return changed


def action_for(tag: BaseTag, vr: str, ds: Dataset, ctx: ScrubContext) -> str:
    """The strategy file's order: lists and tag rules, creators, VR rules, table, fallback."""
    strategy = ctx.strategy
    if int(tag) in strategy.tag_actions:
        return strategy.tag_actions[int(tag)]
    if tag.is_private:
        return _private_action(tag, ds, ctx)
    group = tag.group
    if 0x6000 <= group <= 0x60FF or 0x5000 <= group <= 0x50FF:
        # Overlay planes and curves can carry burned-in annotations of their own.
        return "K" if ctx.has(ProfileOption.CLEAN_GRAPHICS) else "X"
    if vr in strategy.vr_actions:
        return strategy.vr_actions[vr]
    row = ctx.table.lookup(int(tag))
    if row is not None:
        return row.action(ctx.options)
    return _action_for_unlisted(tag, vr, ds, ctx)


def private_creator(tag: BaseTag, ds: Dataset) -> str | None:
    if tag.element < 0x0100:  # the creator element itself, or a group length
        creator = ds[tag].value if 0x10 <= tag.element <= 0xFF else None
    else:
        creator_element = ds.get((tag.group, tag.element >> 8))
        creator = creator_element.value if creator_element is not None else None
    return str(creator).strip().upper() if creator else None


def _private_action(tag: BaseTag, ds: Dataset, ctx: ScrubContext) -> str:
    if not ctx.strategy.creator_actions and not ctx.has(ProfileOption.RETAIN_SAFE_PRIVATE):
        return "X"  # the common case: no need to read the creator
    creator = private_creator(tag, ds)
    if creator in ctx.strategy.creator_actions:
        return ctx.strategy.creator_actions[creator]
    if not ctx.has(ProfileOption.RETAIN_SAFE_PRIVATE) or creator is None:
        return "X"
    if tag.element < 0x0100:
        # Keep a creator only while an allow-listed attribute of its block is present.
        block = tag.element
        return "K" if any((creator, tag.group, e.tag.element & 0xFF) in safe_private_attributes()
                          for e in ds if e.tag.group == tag.group and e.tag.element >> 8 == block) else "X"
    return "K" if (creator, tag.group, tag.element & 0xFF) in safe_private_attributes() else "X"


def _action_for_unlisted(tag: BaseTag, vr: str, ds: Dataset, ctx: ScrubContext) -> str:
    """Public attributes the table does not list (README, "Attributes not in the table")."""
    if vr == "PN":
        return "X"
    if vr in ("DA", "DT"):
        if ctx.has(ProfileOption.RETAIN_LONGITUDINAL_FULL_DATES):
            return "K"
        return "C" if ctx.has(ProfileOption.RETAIN_LONGITUDINAL_MODIFIED_DATES) else "X"
    if vr in ("LT", "ST", "UT"):
        return "C" if ctx.has(ProfileOption.CLEAN_DESCRIPTORS) else "X"
    if vr == "UI" and not ctx.has(ProfileOption.RETAIN_UIDS):
        # Well-known UIDs name classes and syntaxes; any other UID names an instance.
        value = ds[tag].value
        values = value if isinstance(value, MultiValue) else [value]
        if any(v and str(v) not in UID_dictionary for v in values):
            return "U"
    return "K"


def _set(element: DataElement, value) -> int:
    if element.value == value:
        return 0
    element.value = value
    return 1


def _dummy_for(element: DataElement, ctx: ScrubContext):
    if element.VR == "UI":
        return _remap_uids(element.value, ctx.key)
    return dummy_value(element.VR)


def _remap_uids(value, key: bytes):
    if value in (None, ""):
        return value
    if isinstance(value, MultiValue):
        return [keyed_uid(key, str(v)) for v in value]
    return keyed_uid(key, str(value))


def _clean(element: DataElement, ctx: ScrubContext):
    """Action C: shift dates, keep times, strip identifiers from text."""
    vr, value = element.VR, element.value
    if value in (None, ""):
        return value
    values = list(value) if isinstance(value, MultiValue) else [value]
    if vr == "DA":
        cleaned = [shift_da(str(v), ctx.offset_days) for v in values]
    elif vr == "DT":
        cleaned = [shift_dt(str(v), ctx.offset_days) for v in values]
    elif vr in TEXT_VRS:
        cleaned = [ctx.clean_text(str(v)) for v in values]
    elif vr == "UI":
        return _remap_uids(value, ctx.key)
    else:
        return value  # TM, numbers, codes: identify no one once dates have moved
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
    if "SourceApplicationEntityTitle" in meta:
        del meta.SourceApplicationEntityTitle
        changed += 1
    if "MediaStorageSOPInstanceUID" in meta:
        new = ds.get("SOPInstanceUID") or _remap_uids(meta.MediaStorageSOPInstanceUID, ctx.key)
        if not ctx.has(ProfileOption.RETAIN_UIDS):
            meta.MediaStorageSOPInstanceUID = new
            changed += 1
    return changed


def record_deidentification(ds: Dataset, options: frozenset[ProfileOption], pixels_cleaned: bool) -> None:
    """PatientIdentityRemoved, DeidentificationMethod and its CID 7050 codes."""
    ds.PatientIdentityRemoved = "YES"
    codes = [BASIC_PROFILE_CODE]
    if pixels_cleaned:
        codes.append(CLEAN_PIXEL_DATA_CODE)
    codes += sorted(OPTION_CODES[o] for o in options)
    # LO is 64 characters at most, but multi-valued: one value per method applied.
    ds.DeidentificationMethod = [f"medical-anonymizer {__version__}"] + [m[:64] for _, m in codes]
    items = []
    for value, meaning in codes:
        item = Dataset()
        item.CodeValue = value
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = meaning
        items.append(item)
    ds.DeidentificationMethodCodeSequence = Sequence(items)
    if ProfileOption.RETAIN_LONGITUDINAL_FULL_DATES in options:
        ds.LongitudinalTemporalInformationModified = "UNMODIFIED"
    elif ProfileOption.RETAIN_LONGITUDINAL_MODIFIED_DATES in options:
        ds.LongitudinalTemporalInformationModified = "MODIFIED"
    else:
        ds.LongitudinalTemporalInformationModified = "REMOVED"
