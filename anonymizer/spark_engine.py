"""The identical per-file pipeline on Apache Spark, for archives that outgrow one machine.

Each partition processes its files with run_file; OCR models load once per Python
worker (the engine cache lives in the worker process). Keyed mappings need no shared
state, so the outputs are byte-identical to the local engine's. Executors write to
OUTPUT_DIR directly: on a cluster it must be a shared filesystem.

    python pipeline_run.py INPUT OUTPUT_DIR --engine spark [--workers N]     # local[N]
    spark-submit --py-files medical_anonymizer.zip anonymizer/spark_job.py INPUT OUTPUT_DIR
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from anonymizer.batch import chunk_size, chunks, process_chunk, skip_done, worker_config
from anonymizer.config import PipelineConfig
from anonymizer.inputs import InputFile
from anonymizer.metadata.keyed import export_key


def _partition(rows, output_dir: str, config: PipelineConfig):
    items = [InputFile(Path(path), Path(relative)) for path, relative in rows]
    for chunk in chunks(items, chunk_size(config)):
        yield from process_chunk(chunk, Path(output_dir), config)


def spark_session(workers: int):
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("medical-anonymizer")
    if not SparkConf().contains("spark.master"):  # spark-submit sets it; a plain run is local
        builder = builder.master(f"local[{max(workers, 1)}]")
    builder = builder.config("spark.ui.enabled", "false").config("spark.python.worker.reuse", "true")
    return builder.getOrCreate()


def run_spark(items: list[InputFile], output_dir: Path, config: PipelineConfig, workers: int,
              overwrite: bool, on_record: Callable[[dict], None]) -> list[dict]:
    records, remaining = skip_done(items, output_dir, config, overwrite, on_record)
    todo = [(str(i.path.resolve()), str(i.relative)) for i in remaining]
    if not todo:
        return records
    export_key(config.key)  # before the JVM starts: its Python workers inherit it, no pickle carries it
    spark = spark_session(workers)
    config = worker_config(config)
    slices = min(len(todo), max(spark.sparkContext.defaultParallelism * 4, 1))
    out = str(output_dir.resolve())
    rdd = spark.sparkContext.parallelize(todo, slices)
    # collect(), not toLocalIterator(): the latter runs one partition at a time.
    for record in rdd.mapPartitions(lambda rows: _partition(rows, out, config)).collect():
        records.append(record)
        on_record(record)
    return records
