// Package access holds the rules for TLS and tokens that the line clients
// (C++, Go, Python) share: which --server hosts are loopback (a token goes
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
// unix-abstract: target whole (a socket path is no host); else, a dns: or
// passthrough: scheme and its //authority/ dropped, the host of
// "[HOST]:PORT", "[HOST]", "HOST:PORT" or HOST (a value with more than one
// ':' and no brackets is a bare IPv6 address).
func ServerHost(target string) string {
	if hasPrefixFold(target, "unix:") || hasPrefixFold(target, "unix-abstract:") {
		return target
	}
	for _, scheme := range []string{"dns:", "passthrough:"} {
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

// IsLoopback says whether host is loopback: localhost in any case, an IPv4
// address in 127.0.0.0/8 in dotted form, or ::1 in any IPv6 spelling
// without a zone. Nothing else, IPv4-mapped IPv6 addresses included.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
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
// signature (the server does): the token must have exactly three
// '.'-separated parts, the second base64url (padding allowed) of UTF-8 JSON,
// an object whose "sub" is a non-empty string. ok is false otherwise.
func TokenSubject(token string) (sub string, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", false
	}
	payload := strings.TrimRight(parts[1], "=")
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

// LooksLikeTLSProblem says whether the text of a connection error points at
// TLS (a failed handshake, a certificate not trusted, a server without TLS).
func LooksLikeTLSProblem(text string) bool {
	lower := strings.ToLower(text)
	for _, word := range []string{"handshake", "certificate", "verification", "ssl", "tls:", "x509"} {
		if strings.Contains(lower, word) {
			return true
		}
	}
	return false
}

// TLSHint follows a connection error that LooksLikeTLSProblem.
const TLSHint = "(this looks like a TLS problem: check --tls-ca, --tls-server-name and that the server uses TLS)"
