"""The pipeline's options, one set for every command that runs it: `run` on files, and
`serve`, whose jobs use exactly the CLI's options, strategy, key file and text policy."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from anonymizer.config import DEFAULT_OCR_ENGINES, KNOWN_OCR_ENGINES, PipelineConfig, parse_engine_list


def _print_text_policy(ctx: click.Context, _param, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from anonymizer.text_policy import shipped_text

    click.echo(shipped_text(), nl=False)
    ctx.exit(0)


def _print_strategy(ctx: click.Context, _param, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from anonymizer.metadata.strategy import default_strategy_text

    click.echo(default_strategy_text(), nl=False)
    ctx.exit(0)


OPTIONS = [
    click.option("--confidence", default=0.1, show_default=True, type=click.FloatRange(0, 1),
                 help="Lowest OCR confidence (0-1) for a text box to count."),
    click.option("--padding", default=5, show_default=True, type=click.IntRange(0),
                 help="Pixels added on every side of a text box before it is redacted."),
    click.option("--margin", default=None, type=click.IntRange(0),
                 help="Width in pixels of the border band (default: a fifth of the image's height along the top "
                      "and bottom, of its width along the sides); PHI touching it is redacted."),
    click.option("--fill", type=click.Choice(["inpaint", "solid"]), default="inpaint", show_default=True,
                 help="inpaint: TELEA inpainting (radius 3) from the surroundings; solid: a value that renders black."),
    click.option("--scope", type=click.Choice(["evidence", "border", "everywhere"]), default="evidence",
                 show_default=True,
                 help="evidence: PHI touching the margin band, and PHI on evidence (header value, date, ID, label) "
                      "anywhere; border: the band only; everywhere: all PHI wherever it is."),
    click.option("--text-policy", type=click.Choice(["phi", "all"]), default="phi", show_default=True,
                 help="phi: redact a text box unless every word is known clinical/technical vocabulary; "
                      "all: redact every text box in scope."),
    click.option("--text-policy-file", "text_policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 default=None, help="YAML file overriding thresholds and word lists of stages 5 and 6 "
                                    "(see --print-text-policy)."),
    click.option("--print-text-policy", is_flag=True, expose_value=False, is_eager=True, callback=_print_text_policy,
                 help="Print the shipped text policy (thresholds and word lists of stages 5 and 6) and exit."),
    click.option("--ner-model", type=click.Path(file_okay=False, path_type=Path), default=None,
                 help="Local token-classification model directory used as extra PHI evidence "
                      "(or $ANONYMIZER_NER_MODEL)."),
    click.option("--frames", default="all", show_default=True, metavar="all|first|N",
                 help="Frames of a multi-frame file that OCR reads: all, the first, or at most N spread evenly. "
                      "Text found is redacted on every frame that shows it."),
    click.option("--frame-stride", default=1, show_default=True, type=click.IntRange(1),
                 help="Read every k-th frame of long cine loops."),
    click.option("--ocr-engines", default=",".join(DEFAULT_OCR_ENGINES), show_default=True,
                 help="Comma-separated OCR engines: rapidocr, tesseract, easyocr (opt-in: its exported models)."),
    click.option("--easyocr-models", type=click.Path(file_okay=False, path_type=Path), default=None,
                 help="EasyOCR's models exported to ONNX by tools/export_easyocr_onnx.py "
                      "(default: $ANONYMIZER_EASYOCR_MODELS or ~/.cache/medical-anonymizer/easyocr-onnx)."),
    click.option("--clip-model", type=click.Path(file_okay=False, path_type=Path), default=None,
                 help="Local CLIP model directory for classifying raster images (or $ANONYMIZER_CLIP_MODEL)."),
    click.option("--skip-classification", is_flag=True, help="Do not classify; process every file as medical."),
    click.option("--strategy", "strategy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 default=None, help="YAML strategy file (actions per tag, keyword, VR or private creator; "
                                    "keep/remove lists; options). Default: the shipped strategy."),
    click.option("--options", "profile_options", default=None, metavar="NAME[,NAME...]",
                 help="PS3.15 options in force, replacing the strategy's (e.g. retain-uids,clean-descriptors; "
                      "'none' for the Basic Profile alone)."),
    click.option("--pixel-rules", "pixel_rules", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 default=None, help="YAML file of known burned-in annotation areas (by Manufacturer, model, size), "
                                    "painted beside the shipped ones and what OCR finds."),
    click.option("--print-strategy", is_flag=True, expose_value=False, is_eager=True, callback=_print_strategy,
                 help="Print the shipped default strategy file and exit."),
    click.option("--key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                 help="Project key for UIDs, pseudonyms and date shifts (or $ANONYMIZER_KEY / $ANONYMIZER_KEY_FILE). "
                      "Without one a random key is used and re-runs will not match."),
    click.option("--metadata-only", is_flag=True,
                 help="De-identify DICOM headers only: pixels are kept byte for byte and NOT scanned for "
                      "burned-in text."),
    click.option("--allow-unscanned", is_flag=True,
                 help="Write a file even when no OCR engine could scan its pixels (privacy risk; off by default)."),
    click.option("--layout", type=click.Choice(["mirror", "uid"]), default="mirror", show_default=True,
                 help="mirror: the input tree under OUTPUT_DIR (folder and file names come from the input); "
                      "uid: OUTPUT_DIR/<patient>/<study>/<series>/, every name from the new identifiers."),
    click.option("--rename", type=click.Choice(["keep", "uid"]), default="keep", show_default=True,
                 help="keep: anonymized_<input name>; uid: anonymized_<new SOP Instance UID>.dcm (images: a keyed "
                      "digest of the name). --layout uid always renames."),
    click.option("--max-decoded-gib", type=click.FloatRange(0.01), default=2.0, show_default=True,
                 help="Refuse a file whose decoded pixels would take more memory than this (GiB)."),
    click.option("--file-timeout", type=click.IntRange(0), default=600, show_default=True,
                 help="In a batch, fail a file that takes longer than this many seconds (0: no limit)."),
    click.option("--review", "review", type=click.Choice(["hold", "release"]), default="hold", show_default=True,
                 help="Text left for a person: hold the file under OUTPUT_DIR/review/ (not released) until "
                      "'medical-anonymizer review' decides it; release: write it as it is, the text unchanged."),
]
def pipeline_options(command):
    """Add the pipeline's options to a click command; they arrive as keyword arguments
    named as build_config's parameters."""
    for option in reversed(OPTIONS):
        command = option(command)
    return command


def build_config(confidence, padding, margin, fill, scope, text_policy, text_policy_file, ner_model, frames,
                 frame_stride, ocr_engines, easyocr_models, clip_model, skip_classification, strategy_file,
                 profile_options, pixel_rules, key_file, metadata_only, allow_unscanned, layout, rename,
                 max_decoded_gib, file_timeout, review, verbose: bool = False) -> PipelineConfig:
    """The options checked and turned into the pipeline's configuration; a bad one raises
    click.BadParameter naming it."""
    from anonymizer.metadata.keyed import load_key
    from anonymizer.metadata.strategy import StrategyError, load_strategy, parse_options

    engines = parse_engine_list(ocr_engines)
    unknown = set(engines) - set(KNOWN_OCR_ENGINES)
    if unknown or not engines:
        raise click.BadParameter(f"unknown engine(s): {', '.join(sorted(unknown)) or 'none given'}",
                                 param_hint="--ocr-engines")
    if "easyocr" in engines:
        # Asked for by name: models that are missing or altered stop the run before any file.
        from ocr.easyocr_onnx import ModelFolderError, easyocr_model_dir, verified_models

        try:
            verified_models(easyocr_model_dir(easyocr_models))
        except ModelFolderError as exc:
            raise click.BadParameter(str(exc), param_hint="--easyocr-models") from exc
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
    from anonymizer.pixel_rules import PixelRulesError, load_pixel_rules

    try:
        load_pixel_rules(pixel_rules)
    except PixelRulesError as exc:
        raise click.BadParameter(str(exc), param_hint="--pixel-rules") from None
    from anonymizer.text_policy import TextPolicyError, load_text_policy

    try:
        load_text_policy(text_policy_file)
    except TextPolicyError as exc:
        raise click.BadParameter(str(exc), param_hint="--text-policy-file") from None
    if key_warning:
        click.echo(f"warning: {key_warning}", err=True)
    return PipelineConfig(
        confidence=confidence, padding=padding, margin=margin, fill=fill, scope=scope,
        text_policy=text_policy, text_policy_file=text_policy_file, ner_model=ner_model, frames=frames,
        frame_stride=frame_stride,
        ocr_engines=engines, easyocr_model_dir=easyocr_models,
        clip_model=clip_model, skip_classification=skip_classification, key=key, strategy=strategy,
        allow_unscanned_pixels=allow_unscanned, metadata_only=metadata_only, verbose=verbose, layout=layout,
        pixel_rules=pixel_rules, rename=rename, max_decoded_bytes=int(max_decoded_gib * 1024 ** 3),
        file_timeout=file_timeout, review=review,
    )
