// Package access holds the rules for TLS and tokens that the line clients
// (C++, Go, Python) share: which servers are on this machine (a token goes
// without TLS only to those), which name a token carries, and which
// connection errors look like a TLS problem. Pure functions, checked against
// the shared vectors interop/testdata/access.json (docs/interop.md).
package access

import (
	"encoding/base64"
	"encoding/json"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// ServerHost is the host part of a --server value: a unix: or
// unix-abstract: target whole (a socket path is no host); else, with a dns:,
// ipv4:, ipv6: or passthrough: scheme and a //authority/ dropped, the host of
// "[HOST]:PORT", "[HOST]", "HOST:PORT" or HOST (a value with more than one
// ':' and no brackets is a bare IPv6 address).
func ServerHost(target string) string {
	if isUnixSocket(target) {
		return target
	}
	for _, scheme := range []string{"dns:", "ipv4:", "ipv6:", "passthrough:"} {
		if hasPrefixFold(target, scheme) {
			target = target[len(scheme):]
			if rest, ok := strings.CutPrefix(target, "//"); ok {
				_, target, _ = strings.Cut(rest, "/")
			}
			break
		}
	}
	if rest, ok := strings.CutPrefix(target, "["); ok {
		if host, _, found := strings.Cut(rest, "]"); found {
			return host
		}
		return target
	}
	if strings.Count(target, ":") == 1 {
		host, _, _ := strings.Cut(target, ":")
		return host
	}
	return target
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func isUnixSocket(target string) bool {
	return hasPrefixFold(target, "unix:") || hasPrefixFold(target, "unix-abstract:")
}

// IsLocal says whether the server a host (from ServerHost) names is on this
// machine: a unix socket, localhost in any case, an IPv4 address in
// 127.0.0.0/8 in dotted form, or ::1 in any IPv6 spelling without a zone.
// Nothing else: not IPv4-mapped IPv6 addresses, not names that merely
// start with "127.".
func IsLocal(host string) bool {
	if isUnixSocket(host) || strings.EqualFold(host, "localhost") {
		return true
	}
	if strings.Contains(host, "%") {
		return false
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	if addr.Is4() {
		return addr.IsLoopback()
	}
	return addr == netip.IPv6Loopback()
}

// TokenSubject is the "sub" claim of a JWT's payload, without checking its
// signature (the server does): the payload is what lies between the first
// and the second '.', unpadded base64url of UTF-8 JSON, an object whose
// "sub" is a non-empty string. ok is false otherwise.
func TokenSubject(token string) (sub string, ok bool) {
	parts := strings.SplitN(token, ".", 3)
	if len(parts) != 3 {
		return "", false
	}
	payload := parts[1]
	for _, c := range payload { // the decoder would skip line ends
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", false
		}
	}
	data, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || !utf8.Valid(data) {
		return "", false
	}
	var claims map[string]any
	if json.Unmarshal(data, &claims) != nil {
		return "", false
	}
	sub, ok = claims["sub"].(string)
	return sub, ok && sub != ""
}

// The words that make a connection error read like TLS: a failed handshake,
// a certificate not trusted or for another name, a server that closed the
// connection as soon as it was made (it wants TLS, or a client certificate).
var tlsSigns = []string{
	"handshake", "certificate", "verification", "ssl", "tls:", "x509", "socket closed", "server preface",
	"broken pipe", "connection reset",
}

// LooksLikeTLSProblem says whether the text of a connection error holds one
// of the TLS signs, in any case.
func LooksLikeTLSProblem(text string) bool {
	lower := strings.ToLower(text)
	for _, sign := range tlsSigns {
		if strings.Contains(lower, sign) {
			return true
		}
	}
	return false
}

// TLSHint follows a connection error that LooksLikeTLSProblem, with TLS on or off.
func TLSHint(usingTLS bool) string {
	if usingTLS {
		return "(a TLS problem? check --tls-ca, --tls-server-name, and whether the server wants a " +
			"client certificate: --tls-cert/--tls-key)"
	}
	return "(does the server want TLS? try --tls or --tls-ca)"
}
