"""The "ANONYMIZATION COMPLETE" box printed for each file. Carries no PHI."""

from __future__ import annotations

from anonymizer.job import FileReport

WIDTH = 64
ENGINE_NAMES = {"rapidocr": "PP-OCR", "tesseract": "Tesseract", "easyocr": "EasyOCR"}


def summary_lines(report: FileReport) -> list[str]:
    # One line per engine that ran, before the merge, as the seed's summary has them.
    per_engine = [(f"{ENGINE_NAMES.get(name, name)} regions", str(count))
                  for name, count in report.regions_per_engine.items()]
    lines = [
        ("File", report.source_name),
        ("Classification", report.classification or "-"),
        ("Format", report.file_format or "-"),
        ("Metadata attributes cleaned", str(report.attributes_cleaned)),
        ("Frames scanned", f"{report.frames_scanned} of {report.frames_total}"),
        *(per_engine or [("OCR regions", "none")]),
        ("After merge", str(report.regions_merged)),
        ("Regions redacted", str(report.regions_redacted)),
        ("Redactions verified (re-read)", f"{report.regions_verified}, {report.regions_refilled} refilled solid"),
        ("Left for a person (review)", str(report.regions_review)),
        ("Output", report.output_path or "-"),
    ]
    return [f"{label}: {value}" for label, value in lines]


def render_summary(report: FileReport) -> str:
    held = report.status == "held"
    title = "HELD FOR REVIEW" if held else "ANONYMIZATION COMPLETE"
    body = summary_lines(report)
    if held:
        body.append(f"NOT RELEASED: {report.regions_review} box(es) of text a person must decide "
                    "(medical-anonymizer review OUTPUT_DIR)")
    elif report.regions_review:
        body.append(f"REVIEW NEEDED: released with {report.regions_review} region(s) of text left unchanged")
    body += [f"Warning: {w}" for w in report.warnings]
    width = max(WIDTH, max(len(line) for line in body) + 4)
    top = "╔" + "═" * (width - 2) + "╗"
    rule = "╠" + "═" * (width - 2) + "╣"
    bottom = "╚" + "═" * (width - 2) + "╝"
    rows = [f"║ {line.ljust(width - 4)} ║" for line in body]
    return "\n".join([top, f"║ {title.center(width - 4)} ║", rule, *rows, bottom])
