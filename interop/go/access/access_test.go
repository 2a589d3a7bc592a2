package access

import (
	"testing"

	"grpc-chat/interop/go/internal/vectortest"
)

// The vectors every client shares (C++, Go, Python).
type vectors struct {
	Server []struct {
		Server string `json:"server"`
		Host   string `json:"host"`
		Local  bool   `json:"local"`
	} `json:"server"`
	Token []struct {
		About string  `json:"about"`
		Token string  `json:"token"`
		Sub   *string `json:"sub"`
	} `json:"token"`
	TLSProblem []struct {
		About string `json:"about"`
		Text  string `json:"text"`
		TLS   bool   `json:"tls"`
	} `json:"tls_problem"`
	TLSHint struct {
		WithTLS    string `json:"with_tls"`
		WithoutTLS string `json:"without_tls"`
	} `json:"tls_hint"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	var v vectors
	vectortest.Load(t, "access.json", &v)
	if len(v.Server) == 0 || len(v.Token) == 0 || len(v.TLSProblem) == 0 {
		t.Fatal("no vectors")
	}
	return v
}

func TestServerHostAndLocalMatchSharedVectors(t *testing.T) {
	for _, c := range loadVectors(t).Server {
		host := ServerHost(c.Server)
		if host != c.Host {
			t.Errorf("ServerHost(%q) = %q, want %q", c.Server, host, c.Host)
		}
		if got := IsLocal(host); got != c.Local {
			t.Errorf("IsLocal(%q) = %v, want %v", host, got, c.Local)
		}
	}
}

func TestTokenSubjectMatchesSharedVectors(t *testing.T) {
	for _, c := range loadVectors(t).Token {
		sub, ok := TokenSubject(c.Token)
		switch {
		case c.Sub == nil && ok:
			t.Errorf("%s: TokenSubject = %q, want none", c.About, sub)
		case c.Sub != nil && (!ok || sub != *c.Sub):
			t.Errorf("%s: TokenSubject = %q, %v; want %q", c.About, sub, ok, *c.Sub)
		}
	}
}

func TestLooksLikeTLSProblemMatchesSharedVectors(t *testing.T) {
	for _, c := range loadVectors(t).TLSProblem {
		if got := LooksLikeTLSProblem(c.Text); got != c.TLS {
			t.Errorf("%s: LooksLikeTLSProblem = %v, want %v", c.About, got, c.TLS)
		}
	}
}

func TestTLSHintsMatchSharedVectors(t *testing.T) {
	hints := loadVectors(t).TLSHint
	if got := TLSHint(true); got != hints.WithTLS {
		t.Errorf("TLSHint(true) = %q, want %q", got, hints.WithTLS)
	}
	if got := TLSHint(false); got != hints.WithoutTLS {
		t.Errorf("TLSHint(false) = %q, want %q", got, hints.WithoutTLS)
	}
}
