"""medical-anonymizer: de-identify DICOM headers and burned-in pixel text."""

__version__ = "0.1.0"
