"""Entry point: python pipeline_run.py INPUT OUTPUT_DIR [options]. See --help."""

from anonymizer.cli import main

if __name__ == "__main__":
    main()
