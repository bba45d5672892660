"""spark-submit entry: the same command line as pipeline_run.py, on the cluster's Spark.

    spark-submit --py-files medical_anonymizer.zip anonymizer/spark_job.py INPUT OUTPUT_DIR [options]

INPUT and OUTPUT_DIR must be visible to every executor (a shared filesystem).
"""

import sys

from anonymizer.cli import main

if __name__ == "__main__":
    main(args=[*sys.argv[1:], "--engine", "spark"], prog_name="spark_job.py")
