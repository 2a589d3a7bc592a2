"""The rules for TLS and tokens that chat_client.py shares with the C++ and Go
clients (docs/interop.md, interop/testdata/access.json): which --server hosts
are loopback (a token goes without TLS only to those), which name a token
carries, and which connection errors look like a TLS problem. Pure
functions; no gRPC needed."""

import base64
import ipaddress
import json
import re

TLS_HINT = (
    "(this looks like a TLS problem: check --tls-ca, --tls-server-name and that the server uses TLS)"
)
_TLS_WORDS = ("handshake", "certificate", "verification", "ssl", "tls:", "x509")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def _has_prefix_fold(text, prefix):
    return text[: len(prefix)].lower() == prefix


def server_host(target):
    """The host part of a --server value: a unix: or unix-abstract: target
    whole (a socket path is no host); else, a dns: or passthrough: scheme and
    its //authority/ dropped, the host of "[HOST]:PORT", "[HOST]",
    "HOST:PORT" or HOST (a value with more than one ':' and no brackets is a
    bare IPv6 address)."""
    if _has_prefix_fold(target, "unix:") or _has_prefix_fold(target, "unix-abstract:"):
        return target
    for scheme in ("dns:", "passthrough:"):
        if _has_prefix_fold(target, scheme):
            target = target[len(scheme) :]
            if target.startswith("//"):
                target = target[2:].partition("/")[2]
            break
    if target.startswith("["):
        host, found, _ = target[1:].partition("]")
        return host if found else target
    if target.count(":") == 1:
        return target.partition(":")[0]
    return target


def is_loopback(host):
    """localhost in any case, an IPv4 address in 127.0.0.0/8 in dotted form,
    or ::1 in any IPv6 spelling without a zone. Nothing else, IPv4-mapped
    IPv6 addresses included."""
    if host.lower() == "localhost":
        return True
    if "%" in host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if address.version == 4:
        return address.is_loopback
    return address.ipv4_mapped is None and address == ipaddress.IPv6Address("::1")


def _no_constants(name):
    raise ValueError("not JSON: " + name)


def token_subject(token):
    """The "sub" claim of a JWT's payload, without checking its signature (the
    server does): the token must have exactly three '.'-separated parts, the
    second base64url (padding allowed) of UTF-8 JSON, an object whose "sub"
    is a non-empty string. None otherwise."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1].rstrip("=")
    if not _BASE64URL.fullmatch(payload) or len(payload) % 4 == 1:
        return None
    try:
        data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(data.decode("utf-8"), parse_constant=_no_constants)
    except ValueError:  # binascii.Error, UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    if not isinstance(claims, dict):
        return None
    sub = claims.get("sub")
    return sub if isinstance(sub, str) and sub else None


def looks_like_tls_problem(text):
    """Whether the text of a connection error points at TLS (a failed
    handshake, a certificate not trusted, a server without TLS)."""
    lower = text.lower()
    return any(word in lower for word in _TLS_WORDS)
