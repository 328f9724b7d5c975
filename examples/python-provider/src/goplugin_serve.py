"""The go-plugin side of a secrethost plugin, in Python.

Everything here follows shared/proto/README.md, and the words quoted in the
comments ("Environment", "Handshake", ...) name the part of it that says why.
It knows nothing about secrets: serve() takes a ProviderService servicer and does the
rest (environment, logging, certificate, socket, handshake, health,
controller, stdio, shutdown).
"""

import base64
import datetime
import json
import os
import signal
import sys
import threading
import time
from concurrent import futures

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from goplugin import grpc_controller_pb2, grpc_controller_pb2_grpc
from goplugin import grpc_stdio_pb2_grpc
from goplugin import health_pb2, health_pb2_grpc
from secrethost.provider.v1 import provider_pb2_grpc

# "Environment": the handshake's constants.
MAGIC_COOKIE_KEY = "SECRETHOST_PLUGIN"
MAGIC_COOKIE_VALUE = "b1c4a7e2-secret-provider"
CORE_PROTOCOL_VERSION = 1  # go-plugin's own protocol
PROTOCOL_VERSION = 1  # secrethost.provider.v1
LOG_LEVEL_ENV = "SECRETHOST_PLUGIN_LOG_LEVEL"

# "Message size": the host accepts any size; gRPC's default receive limit
# of 4 MiB is raised to what the Go SDK allows.
MAX_MESSAGE = 256 << 20

# "Socket": sun_path holds 108 bytes with the terminating NUL.
MAX_SOCKET_PATH = 107


class Logger:
    """hclog JSON lines on stderr ("Logs"). The host parses each line and
    re-emits it at its own level; a line it cannot parse is logged at debug
    as plain text, which at the default level means not at all."""

    LEVELS = {"trace": 0, "debug": 1, "info": 2, "warn": 3, "error": 4, "off": 5}

    def __init__(self, level):
        level = (level or "").strip().lower()
        # "none" (no level chosen) and anything unknown mean info, as in the
        # Go SDK.
        self.threshold = self.LEVELS.get(level, self.LEVELS["info"])
        self.lock = threading.Lock()

    def enabled(self, level):
        return self.LEVELS[level] >= self.threshold

    def log(self, level, message, **kv):
        if not self.enabled(level):
            return
        now = datetime.datetime.now(datetime.timezone.utc)
        entry = {
            "@level": level,
            "@message": message,
            # Exactly hclog's layout 2006-01-02T15:04:05.000000Z07:00: six
            # fractional digits always (isoformat drops them when the
            # microseconds are 0, and the line would become plain text).
            "@timestamp": now.isoformat(timespec="microseconds"),
        }
        for k, v in kv.items():
            entry[k] = v if isinstance(v, (str, int, float, bool, type(None))) else str(v)
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self.lock:
            try:
                sys.stderr.write(line)
                sys.stderr.flush()
            except (BrokenPipeError, ValueError):
                pass  # the host is gone; SIGKILL follows

    def trace(self, m, **kv):
        self.log("trace", m, **kv)

    def debug(self, m, **kv):
        self.log("debug", m, **kv)

    def info(self, m, **kv):
        self.log("info", m, **kv)

    def warn(self, m, **kv):
        self.log("warn", m, **kv)

    def error(self, m, **kv):
        self.log("error", m, **kv)


def make_certificate():
    """Returns (cert_pem, key_pem, cert_der) of a fresh self-signed server
    certificate ("AutoMTLS"): the host verifies it against itself with
    ServerName "localhost", so it needs the DNS SAN localhost; Go ignores
    the common name."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "secrethost plugin"),
    ])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(seconds=30))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True,
            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([
            ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return cert_pem, key_pem, cert.public_bytes(serialization.Encoding.DER)


def socket_path(log):
    """A fresh path for the Unix socket, in PLUGIN_UNIX_SOCKET_DIR ("Socket")."""
    base = os.environ.get("PLUGIN_UNIX_SOCKET_DIR") or "/tmp"
    for _ in range(100):
        path = os.path.join(base, "plugin%d" % int.from_bytes(os.urandom(4), "big"))
        if len(path.encode()) > MAX_SOCKET_PATH:
            raise RuntimeError("socket path %s is too long for a Unix socket" % path)
        if not os.path.lexists(path):
            return path
    raise RuntimeError("no free socket name in %s" % base)


class Health(health_pb2_grpc.HealthServicer):
    """grpc.health.v1.Health: the service "plugin" (and the server as a
    whole, "") is SERVING."""

    def Check(self, request, context):
        if request.service in ("", "plugin"):
            return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)
        context.abort(grpc.StatusCode.NOT_FOUND, "unknown service %r" % request.service)


class Controller(grpc_controller_pb2_grpc.GRPCControllerServicer):
    """plugin.GRPCController: Shutdown is how the host stops the plugin. It
    waits 2 s for the process to exit after calling it, then kills it."""

    def __init__(self, stop):
        self.stop = stop

    def Shutdown(self, request, context):
        self.stop.set()
        return grpc_controller_pb2.Empty()


class Stdio(grpc_stdio_pb2_grpc.GRPCStdioServicer):
    """plugin.GRPCStdio: the host opens this stream once per connection and
    discards what arrives. This plugin sends nothing (its stdout is
    redirected to stderr after the handshake), so the stream ends at once."""

    def StreamStdio(self, request, context):
        return iter(())


def serve(provider_servicer, log):
    """Runs the plugin until the host shuts it down. Never returns."""
    # "Process": the plugin shares the host's process group, so a Ctrl-C at
    # the terminal reaches it too; the host decides when it stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    if os.environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        sys.stderr.write(
            "This binary is a secrethost plugin. It is not meant to be executed directly:\n"
            "configure it in secrethost's config.hcl and secrethost starts it.\n")
        sys.exit(1)

    versions = [v for v in os.environ.get("PLUGIN_PROTOCOL_VERSIONS", "").split(",") if v]
    if str(PROTOCOL_VERSION) not in versions:
        # Answer with ours anyway; the host reports the mismatch.
        log.error("the host does not speak this plugin's protocol version",
                  plugin_version=PROTOCOL_VERSION, host_versions=",".join(versions))

    client_pem = os.environ.get("PLUGIN_CLIENT_CERT", "")
    if not client_pem:
        log.error("PLUGIN_CLIENT_CERT is not set; this plugin only serves over mutual TLS")
        sys.exit(1)

    log.debug("plugin environment", names=",".join(sorted(os.environ)))

    cert_pem, key_pem, cert_der = make_certificate()
    creds = grpc.ssl_server_credentials(
        [(key_pem, cert_pem)], root_certificates=client_pem.encode(), require_client_auth=True)

    stop = threading.Event()
    server = grpc.server(
        # The host may call concurrently (the conformance kit does, from 16
        # goroutines).
        futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="rpc"),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE),
            ("grpc.max_send_message_length", MAX_MESSAGE),
        ])
    provider_pb2_grpc.add_ProviderServiceServicer_to_server(provider_servicer, server)
    health_pb2_grpc.add_HealthServicer_to_server(Health(), server)
    grpc_controller_pb2_grpc.add_GRPCControllerServicer_to_server(Controller(stop), server)
    grpc_stdio_pb2_grpc.add_GRPCStdioServicer_to_server(Stdio(), server)

    path = socket_path(log)
    if server.add_secure_port("unix:" + path, creds) == 0:
        log.error("cannot listen on the Unix socket", path=path)
        sys.exit(1)
    server.start()

    # "Handshake": one line on stdout, flushed (a pipe is block-buffered).
    # The certificate is base64 of the DER *without padding*: go-plugin
    # decodes it with Go's RawStdEncoding.
    cert_b64 = base64.b64encode(cert_der).decode().rstrip("=")
    sys.stdout.write("%d|%d|unix|%s|grpc|%s\n" % (
        CORE_PROTOCOL_VERSION, PROTOCOL_VERSION, path, cert_b64))
    sys.stdout.flush()
    # "Stdout": nothing else may go to stdout; a stray print() goes to
    # stderr from now on, where the host logs it at debug.
    os.dup2(2, 1)
    log.debug("plugin serving", network="unix", address=path)

    stop.wait()
    log.debug("plugin shutting down")
    # Give the Shutdown reply a moment to leave, then stop at once.
    time.sleep(0.05)
    server.stop(grace=None).wait(1)
    try:
        os.unlink(path)
    except OSError:
        pass
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
