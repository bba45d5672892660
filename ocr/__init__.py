"""OCR engines, their merge, and the CLAHE pre-processing that helps them read."""
