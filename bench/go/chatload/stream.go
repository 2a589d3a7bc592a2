package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"grpc-chat/interop/go/chatpb"
)

// Metadata keys both sides agree on (common/protocol_keys.h).
const (
	userHeader = "chat-user"
	roomHeader = "chat-room"
)

// The phases of a run. Messages, and streams that end, are counted under the
// phase the run was in when they arrived.
const (
	phaseJoin  = iota // dialing, joining, until the join traffic is quiet
	phaseLoad         // chatters send, then the drain
	phaseClose        // CloseSend, waiting for every status
	phases
)

var phaseNames = [phases]string{"join", "load", "close"}

// role says what a stream does and which metadata it sends.
type role int

const (
	member  role = iota // subscriber with chat-user (and chat-room): joins at once
	reader              // subscriber without chat-user: a reader (needs the server's support)
	chatter             // sends lines; joins with chat-user and chat-room
)

// stream is one Chat call on its own grpc.ClientConn (its own TCP
// connection, as real users have).
//
// Life: dialed -> receiving (its receive goroutine runs) -> ended (done is
// closed, end and endPhase are set). The receive goroutine is the only
// writer of the counters below; the driver reads them (atomically) while it
// waits, and plainly once done is closed.
type stream struct {
	id   int // index among subscribers, or among chatters
	role role
	name string

	conn   *grpc.ClientConn
	rpc    chatpb.ChatService_ChatClient
	cancel context.CancelFunc

	opened   time.Time     // when the call was created
	ready    atomic.Bool   // response headers arrived: the server has this stream
	done     chan struct{} // closed when the receive goroutine returns
	end      error         // io.EOF for OK; set before done is closed
	endPhase int           // phase in which it ended

	got       atomic.Int64 // chatter lines received (a chatter's own echoes included)
	echoes    atomic.Int64 // chatter: own lines back (= accepted)
	refused   atomic.Int64 // "*" lines starting "not sent:" (ERROR events, as plain text)
	reordered atomic.Int64 // lines at or below the last number seen from their chatter
	gaps      atomic.Int64 // lines skipped over (a later line of the same chatter came first)
	lastSeq   []int64      // per chatter: the highest line number seen

	sent     atomic.Int64  // chatter: lines sent
	sendDone chan struct{} // chatter: closed when its send loop returns
}

func (s *stream) ended() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// metadataFor is the request metadata of a stream, by role and option.
func (r *run) metadataFor(s *stream) metadata.MD {
	switch {
	case s.role == chatter || s.role == member:
		return metadata.Pairs(userHeader, s.name, roomHeader, r.room)
	case r.opts.subscriberMetadata == "room":
		return metadata.Pairs(roomHeader, r.room)
	default:
		return nil // "none": nothing at all, as the barest reader
	}
}

// dial connects s (bounded by --dial-timeout), opens its call and starts its
// receive goroutine.
func (r *run) dial(s *stream) error {
	dialOpts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if r.opts.noBDPProbe {
		// An explicit window turns grpc-go's BDP estimation (a PING per data
		// frame at low rates) off; 64 KiB is the HTTP/2 default anyway.
		dialOpts = append(dialOpts, grpc.WithInitialWindowSize(65535), grpc.WithInitialConnWindowSize(65535))
	}
	// passthrough: no resolver goroutine per connection, and grpc.NewClient
	// never shares a transport between ClientConns.
	conn, err := grpc.NewClient("passthrough:///"+r.opts.server, dialOpts...)
	if err != nil {
		return err
	}
	dctx, dcancel := context.WithTimeout(context.Background(), r.opts.dialTimeout)
	defer dcancel()
	conn.Connect()
	for state := conn.GetState(); state != connectivity.Ready; state = conn.GetState() {
		if !conn.WaitForStateChange(dctx, state) {
			conn.Close()
			return fmt.Errorf("not connected within %v (last state %v)", r.opts.dialTimeout, state)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	if md := r.metadataFor(s); md != nil {
		ctx = metadata.NewOutgoingContext(ctx, md)
	}
	rpc, err := chatpb.NewChatServiceClient(conn).Chat(ctx)
	if err != nil {
		cancel()
		conn.Close()
		return err
	}
	s.conn, s.rpc, s.cancel, s.opened = conn, rpc, cancel, time.Now()
	s.lastSeq = make([]int64, r.opts.chatters)
	s.done = make(chan struct{})
	go r.receive(s)
	return nil
}

// receive reads s until its call ends.
func (r *run) receive(s *stream) {
	defer close(s.done)
	// chat-server sends its headers with a stream's first message (the
	// welcome, once joined); refserver right after adding the stream. Either
	// way: from now on the stream receives the room.
	if _, err := s.rpc.Header(); err == nil {
		s.ready.Store(true)
	}
	for {
		msg, err := s.rpc.Recv()
		if err != nil {
			s.end, s.endPhase = err, int(r.phase.Load())
			return
		}
		r.count(s, msg)
	}
}

// count classifies one received message the way a two-field client can:
// only `user` and `message` are read (kind, seq and the rest are ignored).
func (r *run) count(s *stream, msg *chatpb.ChatMessage) {
	now := time.Since(r.start)
	r.phaseMsgs[r.phase.Load()].Add(1)
	r.lastMsgNs.Store(int64(now))
	if msg.GetUser() == "*" {
		// A plain client sees an ERROR event as "*" + "not sent: ..."
		// (docs/protocol.md); everything else from "*" is a notice.
		if strings.HasPrefix(msg.GetMessage(), "not sent:") {
			s.refused.Add(1)
		}
		return
	}
	id, seq, sentNs, ok := parseLine(msg.GetMessage())
	if !ok || id >= len(s.lastSeq) {
		if strings.Contains(msg.GetMessage(), " joined #") {
			r.joinEvents.Add(1)
		}
		return // JOIN, LEAVE and other room events
	}
	r.deliveries.Add(1)
	s.got.Add(1)
	latency := now - time.Duration(sentNs)
	switch {
	case s.role == chatter && id == s.id:
		s.echoes.Add(1)
		r.echoLatency.record(latency)
	case s.role != chatter:
		r.latency.record(latency)
	}
	if last := s.lastSeq[id]; seq <= last {
		s.reordered.Add(1)
	} else {
		if seq > last+1 {
			s.gaps.Add(seq - last - 1)
		}
		s.lastSeq[id] = seq
	}
}

// A line's text: "c<chatter> n<number> t<ns since the run started> xxx...",
// padded with x to --size bytes. Sender and receivers are one process, so
// the send time is on the receivers' monotonic clock.
func formatLine(buf []byte, id int, seq int64, sent time.Duration, pad string) []byte {
	buf = append(buf[:0], 'c')
	buf = strconv.AppendInt(buf, int64(id), 10)
	buf = append(buf, " n"...)
	buf = strconv.AppendInt(buf, seq, 10)
	buf = append(buf, " t"...)
	buf = strconv.AppendInt(buf, int64(sent), 10)
	if len(buf)+1 < len(pad) {
		buf = append(buf, ' ')
		buf = append(buf, pad[:len(pad)-len(buf)]...)
	}
	return buf
}

// parseLine reads what formatLine wrote; ok is false for any other text
// (a JOIN event "chat3 joined #room" included).
func parseLine(text string) (id int, seq int64, sentNs int64, ok bool) {
	next := func(prefix byte) (int64, bool) {
		if len(text) < 2 || text[0] != prefix {
			return 0, false
		}
		i := 1
		var v int64
		for ; i < len(text) && text[i] >= '0' && text[i] <= '9'; i++ {
			v = v*10 + int64(text[i]-'0')
		}
		if i == 1 || (i < len(text) && text[i] != ' ') {
			return 0, false
		}
		text = strings.TrimPrefix(text[i:], " ")
		return v, true
	}
	c, ok1 := next('c')
	n, ok2 := next('n')
	t, ok3 := next('t')
	if !ok1 || !ok2 || !ok3 {
		return 0, 0, 0, false
	}
	return int(c), n, t, true
}

// chat sends s's lines at --rate from loadStart for --duration, spread so
// that the chatters' lines interleave evenly. A chatter that falls behind
// (Send blocked on flow control, or the process was descheduled) catches up
// at once, so the average rate holds.
func (r *run) chat(s *stream, loadStart time.Time, stop <-chan struct{}) {
	defer close(s.sendDone)
	interval := float64(time.Second) / r.opts.rate
	phase := float64(s.id) / float64(r.opts.chatters)
	end := loadStart.Add(r.opts.duration)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	buf := make([]byte, 0, max(r.opts.size, 64))
	for k := int64(0); ; k++ {
		due := loadStart.Add(time.Duration((float64(k) + phase) * interval))
		if !due.Before(end) {
			return
		}
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-stop:
				return
			}
		}
		buf = formatLine(buf, s.id, k+1, time.Since(r.start), r.pad)
		if err := s.rpc.Send(&chatpb.ChatMessage{User: s.name, Message: string(buf)}); err != nil {
			return // the call ended; Recv reports its status
		}
		s.sent.Add(1)
	}
}

// statusName is how the report names the way a call ended: the canonical
// upper-case name (RESOURCE_EXHAUSTED), as the gRPC spec and chat-server's
// docs write it, rather than grpc-go's "ResourceExhausted".
func statusName(err error) string {
	if errors.Is(err, io.EOF) {
		return "OK"
	}
	var b strings.Builder
	for i, c := range status.Code(err).String() {
		if i > 0 && c >= 'A' && c <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(c))
	}
	return b.String()
}
