package main

// TLS and token options, with the names and rules of chat-client's
// (docs/interop.md "TLS and tokens"; the pure rules are in interop/go/access).
// The token is never printed: not in errors, not in notices.

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"io/fs"
	"os"
	"slices"
	"strings"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"grpc-chat/interop/go/access"
)

// The options that take a file or a name: given, they may not be empty.
var accessValueFlags = []string{"tls-ca", "tls-server-name", "tls-cert", "tls-key", "token-file"}

const (
	tokenSpace   = " \t\r\n" // trimmed from a token file's content, as by the other clients
	maxFileBytes = 1 << 20   // a token, CA, certificate or key file bigger than this is refused
)

type accessOptions struct {
	tls           bool
	tlsCA         string
	tlsServerName string
	tlsCert       string
	tlsKey        string
	tokenFile     string
	token         string // from --token-file or CHAT_TOKEN; never printed
	tokenSource   string // where the token came from, for messages
	credentials   credentials.TransportCredentials
}

func addAccessFlags(flags *flag.FlagSet, o *accessOptions) {
	flags.BoolVar(&o.tls, "tls", false, "connect with TLS, trusting the system's root certificates")
	flags.StringVar(&o.tlsCA, "tls-ca", "",
		"trust the CA certificate(s) in this PEM `file` instead of the system's (implies --tls)")
	flags.StringVar(&o.tlsServerName, "tls-server-name", "",
		"the `name` to check in the server's certificate instead of the host in --server (implies --tls)")
	flags.StringVar(&o.tlsCert, "tls-cert", "",
		"a client certificate (PEM `file`) for servers that require one; needs --tls-key (implies --tls)")
	flags.StringVar(&o.tlsKey, "tls-key", "", "the private key (PEM `file`) of --tls-cert")
	flags.StringVar(&o.tokenFile, "token-file", "",
		"send the signed token (JWT) in this `file` (default: env CHAT_TOKEN); "+
			"without --name, the name is the token's subject")
}

// usageError is an exit 2 with one line, as the other clients say it.
func usageError(format string, args ...any) error {
	return fail(2, format+" (see --help)", args...)
}

// checkAccess applies the TLS and token rules to parsed options: it reads the
// token, takes the name from it when none was given, refuses to send a token
// in clear text to a server that is not on this machine, and loads the TLS
// files. Every error is an exit 2 with one line.
func checkAccess(flags *flag.FlagSet, opts *options) error {
	o := &opts.access
	var err error
	flags.Visit(func(f *flag.Flag) {
		if err == nil && slices.Contains(accessValueFlags, f.Name) && f.Value.String() == "" {
			err = usageError("--%s needs a value", f.Name)
		}
	})
	if err != nil {
		return err
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return usageError("--tls-cert and --tls-key go together: give both or neither")
	}
	o.tls = o.tls || o.tlsCA != "" || o.tlsServerName != "" || o.tlsCert != ""
	if err := readToken(o); err != nil {
		return err
	}
	nameFrom := "--name"
	if opts.name == "" && o.token != "" {
		sub, ok := access.TokenSubject(o.token)
		if !ok {
			return usageError("the token names no user (no 'sub' claim)")
		}
		opts.name, nameFrom = sub, "the token's subject"
	}
	if opts.name == "" {
		return usageError("a name is needed: --name NAME, CHAT_NAME or a token (--token-file, CHAT_TOKEN)")
	}
	// Metadata values must be printable ASCII; the server checks the rest of the rules.
	for _, v := range []struct{ what, value string }{{nameFrom, opts.name}, {"--room", opts.room}} {
		if !printableASCII(v.value) {
			return usageError("%s must be printable ASCII without spaces", v.what)
		}
	}
	if o.token != "" && !o.tls {
		if host := access.ServerHost(opts.server); !access.IsLocal(host) {
			if strings.Contains(host, ":") {
				host = "[" + host + "]"
			}
			return usageError("refusing to send a token without TLS to %s: use --tls (or --tls-ca)", host)
		}
	}
	o.credentials, err = transportCredentials(o)
	return err
}

func printableASCII(value string) bool {
	for _, c := range value {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

func readToken(o *accessOptions) error {
	if o.tokenFile != "" {
		data, err := readFile("--token-file", o.tokenFile)
		if err != nil {
			return err
		}
		o.token = strings.Trim(string(data), tokenSpace)
		o.tokenSource = "--token-file " + o.tokenFile
		if o.token == "" {
			return usageError("--token-file %s is empty", o.tokenFile)
		}
	} else {
		o.token = os.Getenv("CHAT_TOKEN")
		o.tokenSource = "CHAT_TOKEN"
	}
	if o.token != "" && !printableASCII(o.token) {
		return usageError("the token in %s must be printable ASCII without spaces", o.tokenSource)
	}
	return nil
}

// readFile reads a file an option names; an error is an exit 2 saying why
// (the reason as strerror says it, as in the other clients).
func readFile(option, path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err
		}
		reason := err.Error()
		if reason != "" {
			reason = strings.ToUpper(reason[:1]) + reason[1:]
		}
		return nil, usageError("cannot read %s %s: %s", option, path, reason)
	}
	if len(data) > maxFileBytes {
		return nil, usageError("%s %s is too big (over 1 MiB)", option, path)
	}
	return data, nil
}

func transportCredentials(o *accessOptions) (credentials.TransportCredentials, error) {
	if !o.tls {
		return insecure.NewCredentials(), nil
	}
	config := &tls.Config{ServerName: o.tlsServerName, MinVersion: tls.VersionTLS12}
	if o.tlsCA != "" {
		pem, err := readFile("--tls-ca", o.tlsCA)
		if err != nil {
			return nil, err
		}
		config.RootCAs = x509.NewCertPool()
		if !config.RootCAs.AppendCertsFromPEM(pem) {
			return nil, usageError("--tls-ca %s holds no PEM certificate", o.tlsCA)
		}
	}
	if o.tlsCert != "" {
		cert, err := readFile("--tls-cert", o.tlsCert)
		if err != nil {
			return nil, err
		}
		key, err := readFile("--tls-key", o.tlsKey)
		if err != nil {
			return nil, err
		}
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, usageError("--tls-cert %s and --tls-key %s are not a PEM certificate and its private key",
				o.tlsCert, o.tlsKey)
		}
		config.Certificates = []tls.Certificate{pair}
	}
	return credentials.NewTLS(config), nil
}

// tlsHint is a space and access.TLSHint when a connection error's text looks
// like a TLS problem; "" otherwise.
func tlsHint(text string, usingTLS bool) string {
	if access.LooksLikeTLSProblem(text) {
		return " " + access.TLSHint(usingTLS)
	}
	return ""
}
