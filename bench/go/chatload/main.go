// chatload: a grpc-go load generator for chat.ChatService (issue 12).
//
// It is a plain client: what it sends sets only `user` (1) and `message` (2),
// and what it receives is read only through those two fields, so it measures
// what every two-field client gets. Each stream has its own grpc.ClientConn
// (its own TCP connection, as real users have).
//
// A run: subscribers connect (paced over --join-within, at most
// --dial-concurrency at a time), then chatters; the join phase ends when no
// message has arrived for --settle-quiet. Then (unless --join-burst) every
// chatter sends --rate lines a second for --duration, and the drain waits
// until every open subscriber got every accepted line. Then every stream
// half-closes and its status is awaited. Every wait is bounded.
//
// Exit codes: 0 measured; 1 the set-up failed (a stream could not connect,
// descriptors would not fit); 2 bad command line.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type options struct {
	server             string
	subscribers        int
	subscriberMetadata string
	chatters           int
	rate               float64
	duration           time.Duration
	room               string
	size               int
	namePrefix         string
	joinBurst          bool
	joinWithin         time.Duration
	dialConcurrency    int
	dialTimeout        time.Duration
	joinTimeout        time.Duration
	settleQuiet        time.Duration
	readerWait         time.Duration
	drainTimeout       time.Duration
	closeTimeout       time.Duration
	expectEcho         bool
	noBDPProbe         bool
	serverPID          int
	jsonPath           string
	label              string
}

const usageHead = `usage: chatload [options]

A grpc-go load generator for chat.ChatService that speaks only the two
fields of the compatibility promise (user, message), one TCP connection per
stream. Examples:

  chatload --subscribers 100 --chatters 1 --rate 1000 --duration 10s --server-pid PID
  chatload --join-burst --subscribers 1000 --join-within 2s --server-pid PID
  chatload --subscribers 1000 --subscriber-metadata none --chatters 20 --rate 20

Streams:
  subscribers never send. With --subscriber-metadata user (the default) they
  send chat-user: subN and chat-room and join at once; "room" sends only
  chat-room, "none" no metadata at all: pure readers, which need a server that
  lets a stream without a name receive its room (with "none" that is the
  server's default room, so --room defaults to lobby).
  chatters join with chat-user: chatN and send lines
  "c<id> n<number> t<send time> xxx..." (--size bytes), from which every
  subscriber measures send-to-delivery latency, loss and order.

Report (one line on stdout; --json FILE for scripts, "-" = stdout instead):
  sent, accepted (a chatter's own line coming back), refused ("*" lines
  "not sent: ..."), delivered (chatter lines to subscribers), lost (per open
  subscriber: lines sent and not refused that it never got), missed (the
  same, for subscribers that ended early), reordered, p50/p99/max latency,
  the join phase's messages, how many streams ended in each phase with which
  status (RESOURCE_EXHAUSTED: cut as too slow), and with --server-pid the
  server's CPU per delivery and RSS per member.

Every wait is bounded (dial, join, drain, close timeouts). Exit 0 measured,
1 set-up failed (a stream could not connect), 2 bad command line.

Options:
`

func parseOptions() options {
	var o options
	flag.StringVar(&o.server, "server", "127.0.0.1:50051", "server address (host:port)")
	flag.IntVar(&o.subscribers, "subscribers", 0, "streams that never send")
	flag.StringVar(&o.subscriberMetadata, "subscriber-metadata", "user", "what subscribers send as metadata: user (chat-user subN + chat-room), room (chat-room only) or none")
	flag.IntVar(&o.chatters, "chatters", 0, "streams that send lines")
	flag.Float64Var(&o.rate, "rate", 10, "lines per second, each chatter")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long the chatters send")
	flag.StringVar(&o.room, "room", "", "room (default: a fresh room named after the run; lobby with --subscriber-metadata none)")
	flag.IntVar(&o.size, "size", 64, "bytes per line (at least the line's header, about 30)")
	flag.StringVar(&o.namePrefix, "name-prefix", "", "prefix for the names subN and chatN (to share a server between runs)")
	flag.BoolVar(&o.joinBurst, "join-burst", false, "only the join phase: subscribers join, count what the joins cause, close (no chatters)")
	flag.DurationVar(&o.joinWithin, "join-within", 0, "spread the subscribers' connects evenly over this time (0: as fast as --dial-concurrency allows)")
	flag.IntVar(&o.dialConcurrency, "dial-concurrency", 64, "connects in progress at once")
	flag.DurationVar(&o.dialTimeout, "dial-timeout", 10*time.Second, "bound on one connect")
	flag.DurationVar(&o.joinTimeout, "join-timeout", 60*time.Second, "bound on the join phase (connects, headers, join traffic settling)")
	flag.DurationVar(&o.settleQuiet, "settle-quiet", 500*time.Millisecond, "the join phase ends when no message arrived for this long")
	flag.DurationVar(&o.readerWait, "reader-wait", 2*time.Second, "how long to wait for readers' (no chat-user) headers; a server without readers never sends them")
	flag.DurationVar(&o.drainTimeout, "drain-timeout", 5*time.Second, "bound on waiting for lines still on their way after --duration")
	flag.DurationVar(&o.closeTimeout, "close-timeout", 10*time.Second, "bound on waiting for the statuses after CloseSend; then calls are cancelled")
	flag.BoolVar(&o.expectEcho, "expect-echo", true, "the server echoes a chatter's own line (chat-server does; refserver does not: pass --expect-echo=false)")
	flag.BoolVar(&o.noBDPProbe, "no-bdp-probe", false, "fixed 64 KiB HTTP/2 windows: no BDP pings from the clients")
	flag.IntVar(&o.serverPID, "server-pid", 0, "server process to sample in /proc (CPU, RSS, descriptors)")
	flag.StringVar(&o.jsonPath, "json", "", "also write the report as JSON to this file (\"-\": stdout, the summary line then goes to stderr)")
	flag.StringVar(&o.label, "label", "", "a name for the run, copied into the report")
	flag.Usage = func() {
		fmt.Fprint(os.Stderr, usageHead)
		flag.PrintDefaults()
	}
	flag.Parse()

	bad := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "chatload: "+format+" (see --help)\n", args...)
		os.Exit(2)
	}
	switch {
	case flag.NArg() != 0:
		bad("unexpected argument %q", flag.Arg(0))
	case o.subscribers < 0 || o.chatters < 0:
		bad("--subscribers and --chatters cannot be negative")
	case o.subscriberMetadata != "user" && o.subscriberMetadata != "room" && o.subscriberMetadata != "none":
		bad("--subscriber-metadata is user, room or none, not %q", o.subscriberMetadata)
	case o.joinBurst && o.chatters > 0:
		bad("--join-burst has no chatters")
	case o.joinBurst && o.subscribers == 0:
		bad("--join-burst needs --subscribers")
	case !o.joinBurst && o.chatters > 0 && o.rate <= 0:
		bad("--rate must be above 0")
	case o.size < 1 || o.size > 1<<20:
		bad("--size must be 1..1048576")
	case o.dialConcurrency < 1:
		bad("--dial-concurrency must be at least 1")
	case o.subscribers+o.chatters == 0:
		bad("nothing to do: give --subscribers and/or --chatters")
	}
	if o.room == "" {
		if o.subscriberMetadata == "none" {
			o.room = "lobby"
		} else {
			o.room = fmt.Sprintf("load-%d-%d", os.Getpid(), time.Now().Unix()%100000)
		}
	}
	if o.subscriberMetadata == "none" && o.subscribers > 0 && !strings.EqualFold(o.room, "lobby") {
		fmt.Fprintf(os.Stderr, "chatload: note: readers without metadata are in the server's default room, not #%s\n", o.room)
	}
	return o
}

// run is one load run: its streams and everything counted across them.
type run struct {
	opts  options
	room  string
	pad   string
	start time.Time // the zero of every timestamp in lines

	subs     []*stream
	chatters []*stream

	phase       atomic.Int32
	phaseMsgs   [phases]atomic.Int64 // every message received, by phase
	lastMsgNs   atomic.Int64         // when the last message arrived (since start)
	joinEvents  atomic.Int64         // "NAME joined #room" events received
	deliveries  atomic.Int64         // chatter lines received by anyone (echoes too)
	latency     histogram            // subscribers' send-to-delivery
	echoLatency histogram            // chatters' send-to-own-echo

	dialErrors  atomic.Int64
	firstDialMu sync.Mutex
	firstDial   error
}

func main() {
	opts := parseOptions()
	// Many small messages, plenty of memory: collect less often, so the
	// load generator's own core goes to reading.
	debug.SetGCPercent(400)
	limit, err := raiseFileLimit()
	if err != nil {
		fmt.Fprintf(os.Stderr, "chatload: RLIMIT_NOFILE: %v\n", err)
		os.Exit(1)
	}
	if need := uint64(opts.subscribers+opts.chatters) + 64; need > limit {
		fmt.Fprintf(os.Stderr, "chatload: %d streams need about %d descriptors; the limit is %d\n",
			opts.subscribers+opts.chatters, need, limit)
		os.Exit(1)
	}
	r := &run{opts: opts, room: opts.room, pad: strings.Repeat("x", opts.size), start: time.Now()}
	rep := r.execute()
	rep.write(opts)
	if rep.DialErrors > 0 {
		os.Exit(1)
	}
}

func (r *run) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "chatload: %6.2fs "+format+"\n", append([]any{time.Since(r.start).Seconds()}, args...)...)
}

// execute runs the phases and returns the report.
func (r *run) execute() *report {
	o := r.opts
	rep := newReport(o)
	samples := newSampler(o.serverPID)
	samples.take("start")
	cpu0 := selfCPU()

	// Join phase: subscribers, then chatters.
	joinDeadline := r.start.Add(o.joinTimeout)
	subRole := member
	if o.subscriberMetadata != "user" {
		subRole = reader
	}
	for i := range o.subscribers {
		r.subs = append(r.subs, &stream{id: i, role: subRole, name: fmt.Sprintf("%ssub%d", o.namePrefix, i)})
	}
	for i := range o.chatters {
		r.chatters = append(r.chatters, &stream{id: i, role: chatter, name: fmt.Sprintf("%schat%d", o.namePrefix, i),
			sendDone: make(chan struct{})})
	}
	r.dialAll(r.subs, o.joinWithin)
	r.waitReady(r.subs, joinDeadline)
	r.dialAll(r.chatters, 0)
	r.waitReady(r.chatters, joinDeadline)
	r.logf("%d/%d streams connected, %d with headers", r.connected(), len(r.subs)+len(r.chatters), r.readyCount())
	settled := r.waitQuiet(joinDeadline)
	rep.join(r, settled)
	samples.take("joined")
	r.logf("join phase over at %.2fs (settled: %v): %d messages, %d JOIN events",
		rep.JoinSeconds, settled, rep.JoinMessages, rep.JoinEvents)

	// Load phase.
	var loadCPU, loadWall time.Duration
	if !o.joinBurst && len(r.chatters) > 0 {
		cpu1 := selfCPU()
		loadStart := time.Now()
		r.phase.Store(phaseLoad)
		stop := make(chan struct{})
		for _, c := range r.chatters {
			if c.rpc != nil && !c.ended() {
				go r.chat(c, loadStart, stop)
			} else {
				close(c.sendDone)
			}
		}
		r.logf("chatters sending for %v", o.duration)
		sendDeadline := loadStart.Add(o.duration + o.drainTimeout)
		for _, c := range r.chatters {
			select {
			case <-c.sendDone:
			case <-time.After(time.Until(sendDeadline)):
			}
		}
		close(stop) // a chatter still blocked in Send is cancelled at close
		sendEnd := time.Now()
		drained := r.waitDrained(sendEnd.Add(o.drainTimeout))
		loadWall = time.Since(loadStart)
		loadCPU = selfCPU() - cpu1
		samples.take("drained")
		rep.load(r, loadStart, sendEnd, drained)
		r.logf("load over: sent %d, drained: %v", rep.Sent, drained)
	} else {
		loadWall = time.Since(r.start)
		loadCPU = selfCPU() - cpu0
	}

	// Close phase.
	r.phase.Store(phaseClose)
	forced := r.closeAll()
	rep.finish(r, samples, forced, loadCPU, loadWall)
	return rep
}

// dialAll connects streams with at most --dial-concurrency connects at once;
// with within > 0, stream i starts no earlier than i/len of the way through
// it. Returns when every connect has succeeded or failed (each is bounded).
func (r *run) dialAll(streams []*stream, within time.Duration) {
	if len(streams) == 0 {
		return
	}
	begin := time.Now()
	slots := make(chan struct{}, r.opts.dialConcurrency)
	var wg sync.WaitGroup
	for i, s := range streams {
		if within > 0 {
			time.Sleep(time.Until(begin.Add(within * time.Duration(i) / time.Duration(len(streams)))))
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			if err := r.dial(s); err != nil {
				r.dialErrors.Add(1)
				r.firstDialMu.Lock()
				if r.firstDial == nil {
					r.firstDial = fmt.Errorf("%s: %w", s.name, err)
				}
				r.firstDialMu.Unlock()
			}
		}()
	}
	wg.Wait()
	r.logf("%d streams connected in %.2fs", len(streams), time.Since(begin).Seconds())
}

// The waits below poll every 10 ms: each waits on a condition over
// thousands of streams, a poll costs next to nothing, and every one is
// bounded by a deadline.
const pollEvery = 10 * time.Millisecond

// waitReady waits until every connected stream has its headers or has ended
// (readers: at most --reader-wait, as a server without readers never sends
// them), or the deadline passes.
func (r *run) waitReady(streams []*stream, deadline time.Time) {
	readerDeadline := time.Now().Add(r.opts.readerWait)
	for time.Now().Before(deadline) {
		waiting := false
		for _, s := range streams {
			if s.rpc == nil || s.ready.Load() || s.ended() {
				continue
			}
			if s.role == reader && !time.Now().Before(readerDeadline) {
				continue
			}
			waiting = true
			break
		}
		if !waiting {
			return
		}
		time.Sleep(pollEvery)
	}
}

// waitQuiet waits until no message has arrived for --settle-quiet (the join
// traffic is over); false when the deadline came first.
func (r *run) waitQuiet(deadline time.Time) bool {
	for {
		last := r.start.Add(time.Duration(r.lastMsgNs.Load()))
		if time.Since(last) >= r.opts.settleQuiet {
			return true
		}
		if !time.Now().Before(deadline) {
			return false
		}
		time.Sleep(pollEvery)
	}
}

// expected is how many lines every subscriber should receive: all that were
// sent and not refused.
func (r *run) expected() int64 {
	var n int64
	for _, c := range r.chatters {
		n += c.sent.Load() - c.refused.Load()
	}
	return n
}

// waitDrained waits until every open chatter has its echoes (when the server
// echoes) and every open subscriber has every expected line; false when the
// deadline came first.
func (r *run) waitDrained(deadline time.Time) bool {
	for {
		done := true
		for _, c := range r.chatters {
			if r.opts.expectEcho && c.rpc != nil && !c.ended() && c.echoes.Load()+c.refused.Load() < c.sent.Load() {
				done = false
				break
			}
		}
		if done {
			want := r.expected()
			for _, s := range r.subs {
				if s.rpc != nil && !s.ended() && s.got.Load() < want {
					done = false
					break
				}
			}
		}
		if done {
			return true
		}
		if !time.Now().Before(deadline) {
			return false
		}
		time.Sleep(pollEvery)
	}
}

// closeAll half-closes every open stream and waits (at most --close-timeout)
// for their statuses, then cancels what is left and closes the connections.
// Returns how many calls had to be cancelled.
func (r *run) closeAll() int {
	all := append(append([]*stream{}, r.subs...), r.chatters...)
	for _, s := range all {
		if s.rpc == nil || s.ended() {
			continue
		}
		// CloseSend must not run concurrently with Send: a chatter whose
		// send loop is still stuck is cancelled below instead.
		if s.sendDone != nil {
			select {
			case <-s.sendDone:
			default:
				continue
			}
		}
		_ = s.rpc.CloseSend()
	}
	deadline := time.After(r.opts.closeTimeout)
	forced := 0
	for _, s := range all {
		if s.rpc == nil {
			continue
		}
		select {
		case <-s.done:
		case <-deadline:
		}
	}
	for _, s := range all {
		if s.rpc != nil && !s.ended() {
			forced++
			s.cancel()
		}
	}
	grace := time.After(2 * time.Second) // a cancelled call ends at once
	for _, s := range all {
		if s.rpc == nil {
			continue
		}
		select {
		case <-s.done:
		case <-grace:
		}
		s.cancel()
		s.conn.Close()
	}
	if forced > 0 {
		r.logf("%d calls did not end within %v of CloseSend; cancelled", forced, r.opts.closeTimeout)
	}
	return forced
}

func (r *run) connected() int {
	n := 0
	for _, s := range append(append([]*stream{}, r.subs...), r.chatters...) {
		if s.rpc != nil {
			n++
		}
	}
	return n
}

func (r *run) readyCount() int {
	n := 0
	for _, s := range append(append([]*stream{}, r.subs...), r.chatters...) {
		if s.rpc != nil && s.ready.Load() {
			n++
		}
	}
	return n
}
