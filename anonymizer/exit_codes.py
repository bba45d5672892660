"""Exit codes of every command (README, "Usage"): a script gates on them."""

EXIT_OK = 0
EXIT_NON_MEDICAL = 1  # a single file judged non-medical
EXIT_INVALID = 2  # usage error, or a single file that cannot be de-identified
EXIT_BATCH_FAILURES = 3  # some files of a batch failed
EXIT_HELD = 4  # files held for review under OUTPUT_DIR/review, not released
EXIT_INTERNAL = 5  # a defect of this tool, or the report could not be written
EXIT_RELEASED_FOR_REVIEW = 6  # written under --review release with text left for review
