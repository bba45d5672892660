"""The "ANONYMIZATION COMPLETE" box printed for each file. Carries no PHI."""

from __future__ import annotations

from anonymizer.job import FileReport

WIDTH = 64


def summary_lines(report: FileReport) -> list[str]:
    engines = ", ".join(f"{name} {count}" for name, count in report.regions_per_engine.items()) or "none"
    lines = [
        ("File", report.source_name),
        ("Classification", report.classification or "-"),
        ("Format", report.file_format or "-"),
        ("Metadata attributes cleaned", str(report.attributes_cleaned)),
        ("Frames scanned", f"{report.frames_scanned} of {report.frames_total}"),
        ("Text regions per engine", engines),
        ("Regions after merge", str(report.regions_merged)),
        ("Regions redacted", str(report.regions_redacted)),
        ("Redactions verified (re-read)", f"{report.regions_verified}, {report.regions_refilled} refilled solid"),
        ("Skipped central (review)", str(report.regions_review)),
        ("Output", report.output_path or "-"),
    ]
    return [f"{label}: {value}" for label, value in lines]


def render_summary(report: FileReport) -> str:
    title = "ANONYMIZATION COMPLETE"
    body = summary_lines(report)
    if report.regions_review:
        body.append(f"REVIEW NEEDED: {report.regions_review} central region(s) of unknown words were not changed")
    body += [f"Warning: {w}" for w in report.warnings]
    width = max(WIDTH, max(len(line) for line in body) + 4)
    top = "╔" + "═" * (width - 2) + "╗"
    rule = "╠" + "═" * (width - 2) + "╣"
    bottom = "╚" + "═" * (width - 2) + "╝"
    rows = [f"║ {line.ljust(width - 4)} ║" for line in body]
    return "\n".join([top, f"║ {title.center(width - 4)} ║", rule, *rows, bottom])
