"""`medical-anonymizer gateway --config gateway.yaml`: receive, de-identify, forward, until
stopped (SIGTERM or Ctrl-C). Heavy imports happen inside, so `--help` stays quick."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from anonymizer.exit_codes import EXIT_INVALID
from anonymizer.pipeline_options import build_config, pipeline_options


@click.command("pipeline", add_help_option=False)
@pipeline_options
def _pipeline(**values):
    return build_config(**values)


def pipeline_config(args: tuple[str, ...]):
    """The pipeline options of the configuration file, parsed and checked as `run` does."""
    from anonymizer.gateway.config import GatewayConfigError

    try:
        return _pipeline.main(list(args), standalone_mode=False)
    except click.ClickException as exc:
        raise GatewayConfigError(f"pipeline: {exc.format_message()}") from None


@click.command("gateway", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True, help="The gateway's YAML configuration (see the README).")
@click.option("-v", "--verbose", is_flag=True, help="Log each instance's spool name as it moves (never a value).")
def gateway(config_file: Path, verbose: bool) -> None:
    """Receive instances by C-STORE, de-identify them with the pipeline, and forward them
    to every configured destination (a remote AE, a STOW-RS service, a folder)."""
    import logging
    import signal
    import threading

    from anonymizer.gateway.config import GatewayConfigError, load_config
    from anonymizer.gateway.receiver import start_receiver
    from anonymizer.gateway.runner import Deidentifier, Forwarder, Router
    from anonymizer.gateway.sockets import enable_tcp_nodelay
    from anonymizer.gateway.spool import Spool
    from anonymizer.logs import cli_log_handler

    logging.getLogger().addHandler(cli_log_handler(verbose))
    logging.getLogger().setLevel(logging.INFO if verbose else logging.WARNING)
    # pynetdicom logs what it receives at INFO and DEBUG (identifiers of queries too, unless
    # told not to); above that it names no value.
    logging.getLogger("pynetdicom").setLevel(logging.WARNING)
    from pynetdicom import _config as pynetdicom_config

    pynetdicom_config.LOG_REQUEST_IDENTIFIERS = pynetdicom_config.LOG_RESPONSE_IDENTIFIERS = False
    enable_tcp_nodelay()
    try:
        config = load_config(config_file)
        pipeline = pipeline_config(config.pipeline_args)
    except GatewayConfigError as exc:
        click.echo(f"error: {config_file}: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    spool = Spool(config.spool)
    try:
        spool.create([d.name for d in config.destinations])
    except OSError as exc:
        click.echo(f"error: {config.spool}: cannot make the spool there ({exc.strerror or type(exc).__name__})",
                   err=True)
        sys.exit(EXIT_INVALID)
    stopping = threading.Event()
    deidentifier = Deidentifier(spool, pipeline, config.workers, stopping)
    forwarders = [Forwarder(spool, destination, config, stopping) for destination in config.destinations]

    def wake_forwarders() -> None:
        for forwarder in forwarders:
            forwarder.wake.set()

    router = Router(spool, config.destinations, config.study_quiet_seconds, stopping, on_routed=wake_forwarders)
    workers = [deidentifier, router, *forwarders]
    for worker in workers:
        worker.start()
    try:
        server = start_receiver(config, spool, on_received=deidentifier.wake.set)
    except OSError as exc:
        click.echo(f"error: cannot listen on {config.host}:{config.port} ({exc.strerror or exc})", err=True)
        sys.exit(EXIT_INVALID)
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    click.echo(f"medical-anonymizer gateway {config.ae_title} on {config.host}:{config.port}, "
               f"forwarding to {', '.join(d.name for d in config.destinations)} (spool {config.spool})", err=True)
    try:
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        stopping.set()
    server.shutdown()
    for worker in workers:
        worker.join(timeout=30)
    if deidentifier.pool is not None:
        deidentifier.pool.close()
