"""The rules for TLS and tokens that chat_client.py shares with the C++ and Go
clients (docs/interop.md, interop/testdata/access.json): which servers are on
this machine (a token goes without TLS only to those), which name a token
carries, and which connection errors look like a TLS problem. Pure
functions; no gRPC needed."""

import base64
import ipaddress
import json
import re

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")

# The words that make a connection error read like TLS: a failed handshake, a
# certificate not trusted or for another name, a server that closed the
# connection as soon as it was made (it wants TLS, or a client certificate).
_TLS_SIGNS = (
    "handshake", "certificate", "verification", "ssl", "tls:", "x509", "socket closed",
    "server preface", "broken pipe", "connection reset",
)


def _has_prefix_fold(text, prefix):
    return text[: len(prefix)].lower() == prefix


def _is_unix_socket(target):
    return _has_prefix_fold(target, "unix:") or _has_prefix_fold(target, "unix-abstract:")


def server_host(target):
    """The host part of a --server value: a unix: or unix-abstract: target
    whole (a socket path is no host); else, with a dns:, ipv4:, ipv6: or
    passthrough: scheme and a //authority/ dropped, the host of
    "[HOST]:PORT", "[HOST]", "HOST:PORT" or HOST (a value with more than one
    ':' and no brackets is a bare IPv6 address)."""
    if _is_unix_socket(target):
        return target
    for scheme in ("dns:", "ipv4:", "ipv6:", "passthrough:"):
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


def is_local(host):
    """Whether the server a host (from server_host) names is on this machine:
    a unix socket, localhost in any case, an IPv4 address in 127.0.0.0/8 in
    dotted form, or ::1 in any IPv6 spelling without a zone. Nothing else:
    not IPv4-mapped IPv6 addresses, not names that merely start with "127."."""
    if _is_unix_socket(host) or host.lower() == "localhost":
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
    server does): the payload is what lies between the first and the second
    '.', unpadded base64url of UTF-8 JSON, an object whose "sub" is a
    non-empty string. None otherwise."""
    parts = token.split(".", 2)
    if len(parts) != 3:
        return None
    payload = parts[1]
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
    """Whether the text of a connection error holds one of the TLS signs, in any case."""
    lower = text.lower()
    return any(sign in lower for sign in _TLS_SIGNS)


def tls_hint(using_tls):
    """What follows a connection error that looks_like_tls_problem, with TLS on or off."""
    if using_tls:
        return (
            "(a TLS problem? check --tls-ca, --tls-server-name, and whether the server wants a "
            "client certificate: --tls-cert/--tls-key)"
        )
    return "(does the server want TLS? try --tls or --tls-ca)"
