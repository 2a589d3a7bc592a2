// chat-client-go: a line-oriented grpc-chat client in Go.
//
// Reads lines from stdin and sends each one as a chat message (/commands pass
// through as text); prints every message it receives as one PLAIN FORMAT line
// on stdout. At the end of input it half-closes the stream, prints what the
// server still sends and exits 0 once the server ends the stream with OK.
//
// Exit codes: 0 done; 1 server unreachable, name refused or stream ended with
// an error (one line on stderr says which); 2 bad command line.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"grpc-chat/interop/go/chatpb"
	"grpc-chat/interop/go/plainformat"
)

const (
	program       = "chat-client-go"
	defaultServer = "127.0.0.1:50051"
	// Names both sides of the wire agree on (common/protocol_keys.h).
	userHeader = "chat-user"
	roomHeader = "chat-room"
)

type options struct {
	server         string
	name           string
	room           string
	connectTimeout time.Duration
}

// exitError ends the program with a one-line reason on stderr.
type exitError struct {
	code   int
	reason string
}

func (e *exitError) Error() string { return e.reason }

func fail(code int, format string, args ...any) *exitError {
	return &exitError{code, plainformat.Sanitize(fmt.Sprintf(format, args...))}
}

func main() {
	opts, err := parseOptions(os.Args[1:])
	if err == nil {
		err = run(opts)
	}
	var exit *exitError
	switch {
	case err == nil:
		os.Exit(0)
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.As(err, &exit):
		fmt.Fprintf(os.Stderr, "%s: %s\n", program, exit.reason)
		os.Exit(exit.code)
	default:
		fmt.Fprintf(os.Stderr, "%s: %s\n", program, plainformat.Sanitize(err.Error()))
		os.Exit(1)
	}
}

func envOr(key, fallback string) string {
	if value := os.Getenv(key); value != "" {
		return value
	}
	return fallback
}

func parseOptions(args []string) (options, error) {
	var opts options
	flags := flag.NewFlagSet(program, flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	flags.StringVar(&opts.server, "server", envOr("CHAT_SERVER", defaultServer),
		"`HOST:PORT` of the chat server (env CHAT_SERVER)")
	flags.StringVar(&opts.name, "name", os.Getenv("CHAT_NAME"), "your user `name` (env CHAT_NAME)")
	flags.StringVar(&opts.room, "room", os.Getenv("CHAT_ROOM"),
		"`room` to join first (env CHAT_ROOM; default: the server's lobby)")
	opts.connectTimeout = 5 * time.Second
	flags.Func("connect-timeout",
		"give up when the server cannot be reached within this many `seconds` (or a Go duration: 500ms) (default 5)",
		func(value string) error {
			timeout, err := parseSeconds(value)
			opts.connectTimeout = timeout
			return err
		})
	usage := func(format string, args ...any) error {
		return fail(2, format+" (see --help)", args...)
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Printf("Usage: %s [options] < lines\n"+
				"Line-oriented grpc-chat client: stdin lines are sent, received messages\n"+
				"are printed in the plain format (docs/interop.md).\n\nOptions:\n", program)
			flags.SetOutput(os.Stdout)
			flags.PrintDefaults()
			return opts, err
		}
		return opts, usage("%v", err)
	}
	if flags.NArg() > 0 {
		return opts, usage("unexpected argument '%s'", flags.Arg(0))
	}
	if opts.name == "" {
		return opts, usage("a name is needed: --name NAME or CHAT_NAME")
	}
	// Metadata values must be printable ASCII; the server checks the rest of the rules.
	for option, value := range map[string]string{"--name": opts.name, "--room": opts.room} {
		for _, c := range value {
			if c <= ' ' || c > '~' {
				return opts, usage("%s must be printable ASCII without spaces", option)
			}
		}
	}
	return opts, nil
}

// parseSeconds reads "3" or "2.5" as seconds, as the other clients do, or a Go duration ("500ms").
func parseSeconds(value string) (time.Duration, error) {
	if seconds, err := strconv.ParseFloat(value, 64); err == nil {
		if seconds <= 0 || seconds > 86400 {
			return 0, errors.New("must be between 0 and 86400 seconds")
		}
		return time.Duration(seconds * float64(time.Second)), nil
	}
	duration, err := time.ParseDuration(value)
	if err != nil || duration <= 0 {
		return 0, errors.New("want seconds, e.g. 5 or 0.5")
	}
	return duration, nil
}

func run(opts options) error {
	conn, err := grpc.NewClient(opts.server,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		// The server accepts pings every 10 s or more.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 20 * time.Second}))
	if err != nil {
		return fail(2, "bad --server '%s': %v", opts.server, err)
	}
	defer conn.Close()
	if err := waitUntilReady(conn, opts.connectTimeout); err != nil {
		return fail(1, "cannot reach the server at %s within %s", opts.server, opts.connectTimeout)
	}

	md := metadata.Pairs(userHeader, opts.name)
	if opts.room != "" {
		md.Append(roomHeader, opts.room)
	}
	ctx, cancel := context.WithCancel(metadata.NewOutgoingContext(context.Background(), md))
	defer cancel()
	stream, err := chatpb.NewChatServiceClient(conn).Chat(ctx)
	if err != nil {
		return fail(1, "cannot open the chat stream: %s", describe(err))
	}
	go sendLines(stream, os.Stdin)
	return printReceived(stream, os.Stdout)
}

// waitUntilReady connects, waiting at most `timeout` for the connection to be up.
func waitUntilReady(conn *grpc.ClientConn, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn.Connect()
	for state := conn.GetState(); state != connectivity.Ready; state = conn.GetState() {
		if !conn.WaitForStateChange(ctx, state) {
			return ctx.Err()
		}
	}
	return nil
}

// sendLines sends each non-empty line of `in`, then half-closes the stream.
// It stops early when the stream is gone (printReceived reports why).
func sendLines(stream chatpb.ChatService_ChatClient, in io.Reader) {
	reader := bufio.NewReader(in)
	for {
		line, err := reader.ReadString('\n')
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line != "" {
			if stream.Send(&chatpb.ChatMessage{Message: plainformat.ValidUTF8(line)}) != nil {
				return
			}
		}
		if err != nil { // io.EOF, or stdin is unreadable: either way, no more input
			break
		}
	}
	_ = stream.CloseSend()
}

// printReceived prints every frame until the server ends the stream.
func printReceived(stream chatpb.ChatService_ChatClient, stdout io.Writer) error {
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	for received := 0; ; received++ {
		frame, err := stream.Recv()
		if err == io.EOF {
			return nil // the server ended the stream with OK
		}
		if err != nil {
			if received == 0 {
				return fail(1, "the server refused the connection: %s", describe(err))
			}
			return fail(1, "the server ended the stream: %s", describe(err))
		}
		for _, line := range plainformat.Lines(frame) {
			out.WriteString(line)
			out.WriteByte('\n')
		}
		if err := out.Flush(); err != nil {
			return fail(1, "cannot write to stdout: %v", err)
		}
	}
}

// Canonical status code names, as the other clients print them.
var codeNames = map[codes.Code]string{
	codes.OK: "OK", codes.Canceled: "CANCELLED", codes.Unknown: "UNKNOWN",
	codes.InvalidArgument: "INVALID_ARGUMENT", codes.DeadlineExceeded: "DEADLINE_EXCEEDED",
	codes.NotFound: "NOT_FOUND", codes.AlreadyExists: "ALREADY_EXISTS",
	codes.PermissionDenied: "PERMISSION_DENIED", codes.ResourceExhausted: "RESOURCE_EXHAUSTED",
	codes.FailedPrecondition: "FAILED_PRECONDITION", codes.Aborted: "ABORTED",
	codes.OutOfRange: "OUT_OF_RANGE", codes.Unimplemented: "UNIMPLEMENTED",
	codes.Internal: "INTERNAL", codes.Unavailable: "UNAVAILABLE", codes.DataLoss: "DATA_LOSS",
	codes.Unauthenticated: "UNAUTHENTICATED",
}

func describe(err error) string {
	st := status.Convert(err)
	name, ok := codeNames[st.Code()]
	if !ok {
		name = st.Code().String()
	}
	details := st.Message()
	if details == "" {
		details = "(no details)"
	}
	return name + ": " + details
}
