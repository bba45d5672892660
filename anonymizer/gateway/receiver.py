"""The Storage SCP: C-STORE of any storage SOP class in any transfer syntax, and C-ECHO.

A caller must be on the allow-list twice over: its address when the connection opens
(anything else is closed before a byte of DICOM is read), and its AE title with that
address when the association asks (an unknown AE title is rejected). An instance is
acknowledged with success only once it is flushed to disk in the spool."""

from __future__ import annotations

import logging
import ssl

from anonymizer.gateway.config import GatewayConfig
from anonymizer.gateway.spool import Spool

LOG = logging.getLogger(__name__)
SUCCESS = 0x0000
OUT_OF_RESOURCES = 0xA700  # too large for the configured limit, or the spool cannot take it
NOT_AUTHORIZED = 0x0124  # the AE title does not call from this address


def admitted(config: GatewayConfig, ae_title: str, address: str) -> bool:
    return any(caller.admits(ae_title, address) for caller in config.allowed)


def address_allowed(config: GatewayConfig, address: str) -> bool:
    return any(caller.calls_from(address) for caller in config.allowed)


def server_ssl_context(config: GatewayConfig) -> ssl.SSLContext | None:
    tls = config.tls
    if tls is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(tls.certificate), str(tls.private_key))
    if tls.ca_certificates is not None:  # callers must prove who they are with a certificate
        context.load_verify_locations(cafile=str(tls.ca_certificates))
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def start_receiver(config: GatewayConfig, spool: Spool, on_received=lambda: None):
    """The listening server (pynetdicom's threaded AssociationServer), already serving."""
    from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, evt
    from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

    ae = AE(ae_title=config.ae_title)
    ae.maximum_associations = config.max_associations
    ae.maximum_pdu_size = config.max_pdu_bytes
    ae.acse_timeout = config.negotiation_timeout_seconds
    ae.require_calling_aet = sorted({caller.ae_title for caller in config.allowed})
    for context in AllStoragePresentationContexts:
        ae.add_supported_context(context.abstract_syntax, ALL_TRANSFER_SYNTAXES)
    ae.add_supported_context(Verification)

    def caller_of(event) -> tuple[str, str]:
        requestor = event.assoc.requestor
        return str(requestor.ae_title).strip(), str(requestor.address)

    def handle_echo(event) -> int:
        return SUCCESS if admitted(config, *caller_of(event)) else NOT_AUTHORIZED

    def handle_store(event) -> int:
        if not admitted(config, *caller_of(event)):
            LOG.warning("C-STORE refused: the calling AE title is not allowed from its address")
            return NOT_AUTHORIZED
        data = event.encoded_dataset(include_meta=True)
        if len(data) > config.max_instance_bytes:
            LOG.warning("C-STORE refused: %d bytes, over the limit of %d", len(data), config.max_instance_bytes)
            return OUT_OF_RESOURCES
        try:
            kept = spool.receive(data)
        except OSError as exc:
            LOG.error("C-STORE refused: the spool cannot take it (%s)", exc.strerror or type(exc).__name__)
            return OUT_OF_RESOURCES
        LOG.info("received %s", kept.name)
        on_received()
        return SUCCESS

    server = ae.start_server((config.host, config.port), block=False, ssl_context=server_ssl_context(config),
                             evt_handlers=[(evt.EVT_C_STORE, handle_store), (evt.EVT_C_ECHO, handle_echo)])

    def verify_request(_request, client_address) -> bool:
        allowed = address_allowed(config, str(client_address[0]))
        if not allowed:
            LOG.warning("connection refused: the address is not on the allow-list")
        return allowed

    # socketserver asks this before handing a connection to pynetdicom.
    server.verify_request = verify_request  # type: ignore[method-assign, assignment]
    return server
