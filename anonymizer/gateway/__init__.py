"""The DICOM gateway: receive with C-STORE, de-identify, forward (DIMSE, STOW-RS, folder)."""
