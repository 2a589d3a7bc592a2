// chat-client-go: a line-oriented grpc-chat client in Go.
//
// Reads lines from stdin and sends each one as a chat message (/commands pass
// through as text); prints every message it receives as one PLAIN FORMAT line
// on stdout. At the end of input it half-closes the stream once everything
// typed is sent, prints what the server still sends and exits 0 once the
// server ends the stream with OK.
//
// When the connection is lost it reconnects as chat-client does (client/session.cc,
// docs/interop.md): backoff with jitter for --retry-for seconds, resuming the
// room after the last sequence number shown, never printing a message twice,
// re-sending lines whose echo never came. Its own notices go to stderr.
//
// With --tls (or --tls-ca, ...) it connects with TLS; with a token
// (--token-file or CHAT_TOKEN) it sends "authorization: Bearer TOKEN" on every
// stream and, without --name, takes its name from the token (access.go).
//
// Exit codes: 0 done; 1 server unreachable, name or token refused,
// reconnecting failed or stream ended with an error (one line on stderr says
// which); 2 bad command line (or TLS and token files).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"grpc-chat/interop/go/access"
	"grpc-chat/interop/go/chatpb"
	"grpc-chat/interop/go/plainformat"
	"grpc-chat/interop/go/resume"
)

const (
	program       = "chat-client-go"
	defaultServer = "127.0.0.1:50051"
	// Names both sides of the wire agree on (common/protocol_keys.h).
	userHeader        = "chat-user"
	roomHeader        = "chat-room"
	resumeAfterHeader = "chat-resume-after"
	resumeEpochHeader = "chat-resume-epoch"
	batchHeader       = "chat-batch"
	authHeader        = "authorization"
	// Reconnection backoff, as chat-client's.
	backoffInitial = 250 * time.Millisecond
	backoffMax     = 10 * time.Second
)

type options struct {
	server         string
	name           string
	room           string
	connectTimeout time.Duration
	retryFor       time.Duration
	drainTimeout   time.Duration
	access         accessOptions
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
	seconds := func(target *time.Duration, fallback time.Duration, name, usage string) {
		*target = fallback
		flags.Func(name, usage+" (in `seconds`, or a Go duration: 500ms)", func(value string) error {
			parsed, err := parseSeconds(value)
			*target = parsed
			return err
		})
	}
	seconds(&opts.connectTimeout, 5*time.Second, "connect-timeout",
		"give up when the server cannot be reached within this time (default 5)")
	seconds(&opts.retryFor, 30*time.Second, "retry-for",
		"after losing the connection, keep reconnecting this long (default 30)")
	seconds(&opts.drainTimeout, 10*time.Second, "drain-timeout",
		"after end of input, wait this long for the server to finish (default 10)")
	addAccessFlags(flags, &opts.access)
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
	return opts, checkAccess(flags, &opts)
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
		grpc.WithTransportCredentials(opts.access.credentials),
		// The server accepts pings every 10 s or more.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 20 * time.Second}),
		// Our own backoff decides when to retry; keep the channel's from adding minutes to it.
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{
			BaseDelay: backoffInitial, Multiplier: 1.6, Jitter: 0.2, MaxDelay: backoffMax,
		}}))
	if err != nil {
		return fail(2, "bad --server '%s': %v", opts.server, err)
	}
	defer conn.Close()
	if err := waitUntilReady(conn, opts.connectTimeout); err != nil {
		// Say why when it looks like TLS: it will not go away by waiting.
		if last := lastConnectionError(conn); access.LooksLikeTLSProblem(last) {
			return fail(1, "cannot reach the server at %s within %s: %s%s", opts.server, opts.connectTimeout,
				last, tlsHint(last, opts.access.tls))
		}
		return fail(1, "cannot reach the server at %s within %s", opts.server, opts.connectTimeout)
	}
	s := newSession(opts, conn, os.Stdout)
	return s.run(readLines(os.Stdin))
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

// lastConnectionError is what the channel says about its last attempt to
// connect ("" if nothing): a health check fails at once with it when the
// channel is in TRANSIENT_FAILURE.
func lastConnectionError(conn *grpc.ClientConn) string {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if status.Code(err) != codes.Unavailable {
		return ""
	}
	return describe(err)
}

// readLines delivers each line of `in` (without its line end), then closes the channel.
func readLines(in io.Reader) <-chan string {
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		reader := bufio.NewReader(in)
		for {
			line, err := reader.ReadString('\n')
			line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
			if line != "" {
				lines <- plainformat.ValidUTF8(line)
			}
			if err != nil { // io.EOF, or stdin is unreadable: either way, no more input
				return
			}
		}
	}()
	return lines
}

type state int

const (
	connecting state = iota
	ready
	waitingToRetry
	closing
	finished
)

// A report from one stream's goroutine; stream tells stale streams apart.
type event struct {
	stream int
	opened chatpb.ChatService_ChatClient
	frame  *chatpb.ChatMessage
	done   error // set when the stream ended: io.EOF for OK
}

type outgoing struct {
	text string
	kind resume.LineKind
}

type pendingLine struct {
	id      string
	text    string
	private bool
}

// session is the chat session: one stream at a time, and everything that
// outlives a stream. Everything but the stream goroutines runs on run's loop.
type session struct {
	opts   options
	conn   *grpc.ClientConn
	client chatpb.ChatServiceClient
	out    *bufio.Writer
	events chan event

	streamID int
	stream   chatpb.ChatService_ChatClient // the current stream, once open
	cancel   context.CancelFunc

	state      state
	everReady  bool
	inputEnded bool
	name       string
	room       string
	positions  resume.Positions
	outbox     []outgoing    // not sent yet: not connected
	unacked    []pendingLine // sent, no echo yet

	firstAttempt      time.Time
	lostAt            time.Time
	retry             *time.Timer
	drain             *time.Timer
	backoff           time.Duration
	nameTakenReported bool
	idPrefix          string
	idCounter         uint64

	exit error // set when finished: nil for exit 0
}

func newSession(opts options, conn *grpc.ClientConn, stdout io.Writer) *session {
	return &session{
		opts:      opts,
		conn:      conn,
		client:    chatpb.NewChatServiceClient(conn),
		out:       bufio.NewWriter(stdout),
		events:    make(chan event, 256),
		name:      opts.name,
		room:      opts.room,
		positions: resume.Positions{},
		backoff:   backoffInitial,
		idPrefix:  fmt.Sprintf("%08x-", rand.Uint32()),
	}
}

func timerC(t *time.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C
}

func (s *session) run(lines <-chan string) error {
	s.firstAttempt = time.Now()
	s.connect()
	for s.state != finished {
		select {
		case line, ok := <-lines:
			if !ok {
				lines = nil
				s.endInput()
			} else {
				s.sendLine(line)
			}
		case ev := <-s.events:
			s.handle(ev)
		case <-timerC(s.retry):
			s.retry = nil
			s.connect()
		case <-timerC(s.drain):
			s.drain = nil
			s.finish(fail(1, "the server did not finish the stream within %.1fs",
				s.opts.drainTimeout.Seconds()))
		}
	}
	if s.cancel != nil {
		s.cancel()
	}
	return s.exit
}

func (s *session) status(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s: %s\n", program, plainformat.Sanitize(fmt.Sprintf(format, args...)))
}

func (s *session) connect() {
	md := metadata.Pairs(userHeader, s.name, batchHeader, "1")
	if token := s.opts.access.token; token != "" {
		md.Append(authHeader, "Bearer "+token)
	}
	if s.room != "" {
		md.Append(roomHeader, s.room)
	}
	if position, ok := s.positions[s.room]; ok {
		md.Append(resumeAfterHeader, strconv.FormatUint(position.Seq, 10))
		md.Append(resumeEpochHeader, strconv.FormatUint(position.Epoch, 10))
	}
	if s.cancel != nil {
		s.cancel()
	}
	ctx, cancel := context.WithCancel(metadata.NewOutgoingContext(context.Background(), md))
	s.cancel = cancel
	s.stream = nil
	s.state = connecting
	s.streamID++
	go func(id int) {
		stream, err := s.client.Chat(ctx)
		if err != nil {
			s.events <- event{stream: id, done: err}
			return
		}
		s.events <- event{stream: id, opened: stream}
		for {
			frame, err := stream.Recv()
			if err != nil {
				s.events <- event{stream: id, done: err}
				return
			}
			s.events <- event{stream: id, frame: frame}
		}
	}(s.streamID)
}

func (s *session) handle(ev event) {
	if ev.stream != s.streamID || s.state == finished {
		return
	}
	switch {
	case ev.opened != nil:
		s.stream = ev.opened
	case ev.frame != nil:
		s.onMessage(ev.frame)
		if err := s.out.Flush(); err != nil {
			s.finish(fail(1, "cannot write to stdout: %v", err))
		}
	case ev.done != nil:
		s.onDone(ev.done)
	}
}

func (s *session) onMessage(m *chatpb.ChatMessage) {
	if len(m.GetBatch()) > 0 {
		for _, inner := range m.GetBatch() {
			s.onMessage(inner)
		}
		return
	}
	if !s.positions.Advance(m) {
		return // shown before this reconnection
	}
	// Our own echo acknowledges a line; an ERROR carrying its id refused it.
	// Either way it is settled and never re-sent.
	if id, ok := resume.Settles(s.name, m); ok {
		for i, line := range s.unacked {
			if line.id == id {
				s.unacked = append(s.unacked[:i], s.unacked[i+1:]...)
				break
			}
		}
	}
	s.out.WriteString(plainformat.Line(m))
	s.out.WriteByte('\n')
	// Only live events change who we are: history may hold an old rename of
	// someone who had our name before.
	if m.GetReplay() {
		return
	}
	if m.GetKind() == chatpb.Kind_RENAME && resume.NameKey(m.GetUser()) == resume.NameKey(s.name) {
		s.name = m.GetSubject()
	}
	if m.GetKind() == chatpb.Kind_JOIN && resume.NameKey(m.GetSubject()) == resume.NameKey(s.name) {
		s.room = m.GetRoom()
		if s.state == connecting {
			s.onReady() // the join that completes a (re)connection
		}
	}
}

func (s *session) onReady() {
	reconnected := s.everReady
	s.state = ready
	s.everReady = true
	s.backoff = backoffInitial
	s.nameTakenReported = false
	if reconnected {
		s.status("reconnected to %s", s.opts.server)
	}
	// Lines sent before the loss and not echoed in what we just replayed go
	// first, then what was typed meanwhile.
	var resend []outgoing
	for _, line := range s.unacked {
		if line.private {
			// Private messages have no history to check against: say so
			// rather than risk sending one twice.
			s.status("not confirmed before the connection was lost (resend if needed): %s", line.text)
			continue
		}
		resend = append(resend, outgoing{line.text, resume.Room})
	}
	s.unacked = nil
	s.outbox = append(resend, s.outbox...)
	s.sendWaiting()
}

func (s *session) sendLine(line string) {
	kind := resume.Classify(line)
	if kind == resume.Blank || s.inputEnded {
		return
	}
	s.outbox = append(s.outbox, outgoing{line, kind})
	s.sendWaiting()
}

func (s *session) sendWaiting() {
	for s.state == ready && s.stream != nil && len(s.outbox) > 0 {
		next := s.outbox[0]
		message := &chatpb.ChatMessage{Message: next.text}
		tracked := next.kind == resume.Room || next.kind == resume.Private
		if tracked {
			s.idCounter++
			message.ClientMsgId = s.idPrefix + strconv.FormatUint(s.idCounter, 10)
			s.unacked = append(s.unacked, pendingLine{message.ClientMsgId, next.text, next.kind == resume.Private})
		}
		if s.stream.Send(message) != nil {
			// The stream is going away; its end follows. Send it on the next one.
			if tracked {
				s.unacked = s.unacked[:len(s.unacked)-1]
			}
			break
		}
		s.outbox = s.outbox[1:]
	}
	s.maybeHalfClose()
}

func (s *session) endInput() {
	s.inputEnded = true
	s.maybeHalfClose()
}

func (s *session) maybeHalfClose() {
	if !s.inputEnded || s.state != ready || len(s.outbox) > 0 {
		return
	}
	s.state = closing
	s.drain = time.NewTimer(s.opts.drainTimeout)
	_ = s.stream.CloseSend()
}

// Refusals that retrying cannot fix. ALREADY_EXISTS is one only on the first
// connection: after a loss it is usually our own old stream, which the
// server has not noticed is gone yet.
func isFatal(code codes.Code, everReady bool) bool {
	switch code {
	case codes.InvalidArgument, codes.PermissionDenied, codes.Unauthenticated, codes.Unimplemented,
		codes.FailedPrecondition:
		return true
	case codes.AlreadyExists:
		return !everReady
	}
	return false
}

func (s *session) onDone(err error) {
	s.stream = nil
	ok := err == io.EOF // the server ended the stream with OK
	code := status.Code(err)
	if s.state == closing {
		if ok {
			s.finish(nil)
		} else {
			s.finish(fail(1, "the server ended the stream: %s", describe(err)))
		}
		return
	}
	if ok {
		s.finish(nil)
		return
	}
	if isFatal(code, s.everReady) {
		s.finish(fail(1, "the server refused the connection: %s", describe(err)))
		return
	}
	now := time.Now()
	nameTaken := code == codes.AlreadyExists
	if nameTaken && !s.nameTakenReported {
		s.nameTakenReported = true
		s.status("the server says the name '%s' is in use: either your old connection has not timed out "+
			"yet (this clears by itself) or someone else took the name meanwhile", s.name)
	}
	if !s.everReady {
		if now.Sub(s.firstAttempt) >= s.opts.connectTimeout {
			s.finish(fail(1, "cannot reach the server at %s: %s%s", s.opts.server, describe(err),
				tlsHint(describe(err), s.opts.access.tls)))
		} else {
			s.scheduleRetry()
		}
		return
	}
	if s.state == ready {
		s.lostAt = now
		s.status("connection lost (%s); reconnecting", describe(err))
	} else if now.Sub(s.lostAt) >= s.opts.retryFor {
		suffix := ""
		if nameTaken {
			suffix = " (someone else has the name; come back with --name ANOTHER)"
		}
		s.finish(fail(1, "gave up reconnecting to %s: %s%s%s", s.opts.server, describe(err), suffix,
			tlsHint(describe(err), s.opts.access.tls)))
		return
	}
	s.scheduleRetry()
}

func (s *session) scheduleRetry() {
	s.state = waitingToRetry
	delay := time.Duration(float64(s.backoff) * (0.5 + rand.Float64()))
	s.backoff = min(2*s.backoff, backoffMax)
	if s.everReady {
		s.status("retrying in %.1fs", delay.Seconds())
	}
	// Let the channel try again as soon as we do, not on its own schedule.
	s.conn.ResetConnectBackoff()
	s.retry = time.NewTimer(delay)
}

func (s *session) finish(exit error) {
	s.state = finished
	s.exit = exit
	if s.drain != nil {
		s.drain.Stop()
	}
	if s.retry != nil {
		s.retry.Stop()
	}
	_ = s.out.Flush()
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
