"""Command line: python pipeline_run.py INPUT OUTPUT_DIR [options] (or medical-anonymizer).

Exit codes: 0 done; 1 a single file rejected as non-medical; 2 usage error or invalid
input; 3 some files of a batch failed.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from anonymizer.config import DEFAULT_OCR_ENGINES, PipelineConfig

EXIT_OK, EXIT_NON_MEDICAL, EXIT_INVALID, EXIT_BATCH_FAILURES = 0, 1, 2, 3


def _print_strategy(ctx: click.Context, _param, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from anonymizer.metadata.strategy import default_strategy_text

    click.echo(default_strategy_text(), nl=False)
    ctx.exit(0)


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("input_path", metavar="INPUT", type=click.Path(exists=True, path_type=Path))
@click.argument("output_dir", metavar="OUTPUT_DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option("--confidence", default=0.1, show_default=True, type=click.FloatRange(0, 1),
              help="Lowest OCR confidence (0-1) for a text box to count.")
@click.option("--padding", default=5, show_default=True, type=click.IntRange(0),
              help="Pixels added on every side of a text box before it is redacted.")
@click.option("--margin", default=100, show_default=True, type=click.IntRange(0),
              help="Width in pixels of the border band; text touching it is redacted, text inside is listed for review.")
@click.option("--fill", type=click.Choice(["inpaint", "solid"]), default="inpaint", show_default=True,
              help="inpaint: TELEA inpainting (radius 3) from the surroundings; solid: a value that renders black.")
@click.option("--scope", type=click.Choice(["border", "everywhere"]), default="border", show_default=True,
              help="border: redact PHI touching the margin band only; everywhere: redact PHI wherever it is.")
@click.option("--text-policy", type=click.Choice(["phi", "all"]), default="phi", show_default=True,
              help="phi: redact a text box unless every word is known clinical/technical vocabulary; "
                   "all: redact every text box in scope.")
@click.option("--ner-model", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Local token-classification model directory used as extra PHI evidence (or $ANONYMIZER_NER_MODEL).")
@click.option("--frames", default="all", show_default=True, metavar="all|first|N",
              help="Frames of a multi-frame file that OCR reads: all, the first, or at most N spread evenly. "
                   "Text found is redacted on every frame that shows it.")
@click.option("--frame-stride", default=1, show_default=True, type=click.IntRange(1),
              help="Read every k-th frame of long cine loops.")
@click.option("--ocr-engines", default=",".join(DEFAULT_OCR_ENGINES), show_default=True,
              help="Comma-separated OCR engines: rapidocr, tesseract, easyocr (optional, needs its weights).")
@click.option("--easyocr-models", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory with EasyOCR weights (default: $EASYOCR_MODULE_PATH/model or ~/.EasyOCR/model).")
@click.option("--clip-model", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Local CLIP model directory for classifying raster images (or $ANONYMIZER_CLIP_MODEL).")
@click.option("--skip-classification", is_flag=True, help="Do not classify; process every file as medical.")
@click.option("--strategy", "strategy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="YAML strategy file (actions per tag, keyword, VR or private creator; "
                                 "keep/remove lists; options). Default: the shipped strategy.")
@click.option("--options", "profile_options", default=None, metavar="NAME[,NAME...]",
              help="PS3.15 options in force, replacing the strategy's (e.g. retain-uids,clean-descriptors; "
                   "'none' for the Basic Profile alone).")
@click.option("--print-strategy", is_flag=True, expose_value=False, is_eager=True, callback=_print_strategy,
              help="Print the shipped default strategy file and exit.")
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Project key for UIDs, pseudonyms and date shifts (or $ANONYMIZER_KEY / $ANONYMIZER_KEY_FILE). "
                   "Without one a random key is used and re-runs will not match.")
@click.option("--metadata-only", is_flag=True,
              help="De-identify DICOM headers only: pixels are kept byte for byte and NOT scanned for burned-in text.")
@click.option("--allow-unscanned", is_flag=True,
              help="Write a file even when no OCR engine could scan its pixels (privacy risk; off by default).")
@click.option("-v", "--verbose", is_flag=True, help="Print what each stage did (never identifying values).")
def main(input_path: Path, output_dir: Path, confidence, padding, margin, fill, scope, text_policy,
         ner_model, frames, frame_stride, ocr_engines, easyocr_models, clip_model, skip_classification, strategy_file, profile_options,
         key_file, metadata_only, allow_unscanned, verbose) -> None:
    """De-identify INPUT (a DICOM or image file, or a folder of them) into OUTPUT_DIR.

    Each file goes through seven stages: classify, validate, scrub metadata (DICOM
    PS3.15 profile), enhance (CLAHE on the border bands), detect text (PP-OCRv4 and
    Tesseract, merged by IoU), redact (in the stored pixel values) and save, as
    OUTPUT_DIR/anonymized_<name>. The input is never modified.
    """
    from anonymizer.metadata.keyed import load_key
    from anonymizer.metadata.strategy import StrategyError, load_strategy, parse_options

    engines = tuple(e.strip() for e in ocr_engines.split(",") if e.strip())
    unknown = set(engines) - set(DEFAULT_OCR_ENGINES)
    if unknown or not engines:
        raise click.BadParameter(f"unknown engine(s): {', '.join(sorted(unknown)) or 'none given'}",
                                 param_hint="--ocr-engines")
    if frames not in ("all", "first") and not (frames.isdigit() and int(frames) > 0):
        raise click.BadParameter("use all, first or a positive number", param_hint="--frames")
    try:
        key, key_warning = load_key(key_file)
    except (OSError, ValueError) as exc:
        raise click.BadParameter(str(exc), param_hint="--key-file") from None
    try:
        strategy = load_strategy(strategy_file)
        if profile_options is not None:
            names = [n.strip() for n in profile_options.split(",") if n.strip() and n.strip() != "none"]
            strategy = replace(strategy, options=parse_options(names))
    except StrategyError as exc:
        raise click.BadParameter(str(exc), param_hint="--strategy/--options") from None
    if key_warning:
        click.echo(f"warning: {key_warning}", err=True)
    config = PipelineConfig(
        confidence=confidence, padding=padding, margin=margin, fill=fill, scope=scope,
        text_policy=text_policy, ner_model=ner_model, frames=frames, frame_stride=frame_stride, ocr_engines=engines, easyocr_model_dir=easyocr_models,
        clip_model=clip_model, skip_classification=skip_classification, key=key, strategy=strategy,
        allow_unscanned_pixels=allow_unscanned, metadata_only=metadata_only, verbose=verbose,
    )
    sys.exit(run(input_path, output_dir, config))


def run(input_path: Path, output_dir: Path, config: PipelineConfig) -> int:
    from anonymizer.pipeline import run_file
    from anonymizer.summary import render_summary

    files = sorted(p for p in input_path.rglob("*") if p.is_file()) if input_path.is_dir() else [input_path]
    statuses = []
    for source in files:
        report = run_file(source, output_dir, config)
        statuses.append(report.status)
        if config.verbose:
            for line in report.stages:
                click.echo(f"[{report.source_name}] {line}", err=True)
        if report.status == "written":
            click.echo(render_summary(report))
        else:
            click.echo(f"error: {source}: {report.reason}", err=True)
    if len(files) == 1:
        return {"written": EXIT_OK, "rejected": EXIT_NON_MEDICAL}.get(statuses[0], EXIT_INVALID)
    return EXIT_OK if all(s == "written" for s in statuses) else EXIT_BATCH_FAILURES
