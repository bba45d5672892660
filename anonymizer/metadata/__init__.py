"""Stage 3: header de-identification per DICOM PS3.15 Annex E."""
