"""pyfile: a secrethost provider written in Python.

pyfile://<name> resolves to the content of <dir>/<name>, where dir is the
provider's one configuration attribute. Names are relative paths made of
non-empty segments other than "." and ".."; a symbolic link that leads out
of dir is refused.

It implements secrethost.provider.v1.ProviderService as the contract in
shared/proto/README.md states it ("The calls" and "Contract rules").
"""

import errno
import os
import stat
import threading

from secrethost.provider.v1 import provider_pb2 as pb
from secrethost.provider.v1 import provider_pb2_grpc

NAME = "pyfile"
VERSION = "0.1.0"
SCHEME = "pyfile"  # lower case: the host lower-cases a reference's scheme to route it
PROTOCOL_VERSION = 1

SCHEMA = [
    pb.ConfigAttribute(
        name="dir",
        description="absolute path of the directory holding one file per secret",
        required=True,
        path=True,
    ),
]


def error(code, message, reference=""):
    return pb.Error(code=code, reference=reference, message=message)


def parse(ref):
    """Returns (name, None) for a well-formed reference, else (None, Error).
    Offline: it looks at the string only."""
    scheme, sep, rest = ref.partition("://")
    if not sep or scheme.lower() != SCHEME:
        return None, error(pb.CODE_INVALID_REFERENCE,
                           "not a %s:// reference" % SCHEME, ref)
    segments = rest.split("/")
    if (not rest or "\x00" in rest or "\\" in rest
            or any(s in ("", ".", "..") for s in segments)):
        return None, error(pb.CODE_INVALID_REFERENCE,
                           "expected %s://<name>, a relative path without empty, . or .. segments"
                           % SCHEME, ref)
    return rest, None


class PyFile(provider_pb2_grpc.ProviderServiceServicer):
    def __init__(self, log):
        self.log = log
        self.lock = threading.Lock()  # calls are concurrent
        self.dir = None

    def configured_dir(self):
        with self.lock:
            return self.dir

    def GetInfo(self, request, context):
        # protocol_version must be set by the plugin itself: the Go SDK fills
        # it in for Go plugins, and the host refuses anything but 1.
        return pb.GetInfoResponse(name=NAME, version=VERSION, protocol_version=PROTOCOL_VERSION,
                                  schemes=[SCHEME], config_schema=SCHEMA)

    def Configure(self, request, context):
        cfg = dict(request.config)  # values are always strings
        known = {a.name for a in SCHEMA}
        unknown = sorted(set(cfg) - known)
        if unknown:
            return pb.ConfigureResponse(error=error(
                pb.CODE_INVALID_CONFIG,
                "unknown attribute(s) %s; pyfile accepts only dir" % ", ".join(unknown)))
        d = cfg.get("dir", "")
        if not d:
            return pb.ConfigureResponse(error=error(pb.CODE_INVALID_CONFIG, "dir is required"))
        # The plugin runs in "/", so a relative path would mean nothing.
        if not os.path.isabs(d):
            return pb.ConfigureResponse(error=error(
                pb.CODE_INVALID_CONFIG, "dir %r must be an absolute path" % d))
        if not os.path.isdir(d):
            return pb.ConfigureResponse(error=error(
                pb.CODE_INVALID_CONFIG, "dir %r is not a readable directory" % d))
        warnings = []
        if os.stat(d).st_mode & stat.S_IWOTH:
            warnings.append("dir %r is writable by everyone" % d)
        with self.lock:
            self.dir = os.path.realpath(d)
        self.log.debug("configured", dir=d)
        return pb.ConfigureResponse(warnings=warnings)

    def Validate(self, request, context):
        # Works before Configure and never touches the file system.
        results = []
        for ref in request.references:
            _, err = parse(ref)
            results.append(pb.ValidateResult(reference=ref, error=err))
        return pb.ValidateResponse(results=results)

    def Resolve(self, request, context):
        d = self.configured_dir()
        if d is None:
            # Nothing could be attempted: a call-level error, as data.
            return pb.ResolveResponse(error=error(pb.CODE_INVALID_CONFIG, "pyfile is not configured"))
        # One result per reference, in order, each echoing its reference
        # exactly (duplicates included).
        return pb.ResolveResponse(results=[self.resolve_one(d, ref) for ref in request.references])

    def resolve_one(self, d, ref):
        name, err = parse(ref)
        if err is not None:
            return pb.ResolveResult(reference=ref, error=err)
        path = os.path.join(d, name)
        real = os.path.realpath(path)
        if os.path.commonpath([d, real]) != d:
            return pb.ResolveResult(reference=ref, error=error(
                pb.CODE_PERMISSION_DENIED, "%r leads out of the secrets directory" % name, ref))
        try:
            with open(real, "rb") as f:
                value = f.read()
        except FileNotFoundError:
            return pb.ResolveResult(reference=ref, error=error(
                pb.CODE_NOT_FOUND, "no file %r in the secrets directory" % name, ref))
        except IsADirectoryError:
            return pb.ResolveResult(reference=ref, error=error(
                pb.CODE_NOT_FOUND, "%r is a directory, not a secret" % name, ref))
        except PermissionError:
            return pb.ResolveResult(reference=ref, error=error(
                pb.CODE_PERMISSION_DENIED, "cannot read %r" % name, ref))
        except OSError as e:
            code = pb.CODE_NOT_FOUND if e.errno == errno.ENOTDIR else pb.CODE_INTERNAL
            return pb.ResolveResult(reference=ref, error=error(
                code, "cannot read %r: %s" % (name, os.strerror(e.errno or 0)), ref))
        return pb.ResolveResult(reference=ref, value=value)

    def Check(self, request, context):
        d = self.configured_dir()
        if d is None:
            return pb.CheckResponse(healthy=False, items=[pb.CheckItem(
                name="configured", ok=False, detail="Configure has not succeeded")])
        ok = os.access(d, os.R_OK | os.X_OK)
        return pb.CheckResponse(healthy=ok, items=[pb.CheckItem(
            name="directory readable", ok=ok, detail=d)])

    def Close(self, request, context):
        return pb.CloseResponse()
