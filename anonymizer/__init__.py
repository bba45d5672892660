"""medical-anonymizer: de-identify DICOM headers and burned-in pixel text.

The Python API is in anonymizer.api: ``deidentify_dataset(ds, config)`` and
``deidentify_file(path, output_dir, config)``.
"""

import logging

__version__ = "0.1.0"

# A library logs nowhere unless its host configures logging (the stdlib convention).
logging.getLogger(__name__).addHandler(logging.NullHandler())
