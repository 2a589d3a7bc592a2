package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// sampler keeps the server's /proc samples by name ("start", "joined",
// "drained"); without --server-pid it keeps nothing.
type sampler struct {
	pid     int
	samples map[string]serverSample
	err     error
}

func newSampler(pid int) *sampler { return &sampler{pid: pid, samples: map[string]serverSample{}} }

func (s *sampler) take(name string) {
	if s.pid == 0 {
		return
	}
	sample, err := sampleServer(s.pid)
	if err != nil {
		s.err = err
		return
	}
	s.samples[name] = sample
}

// report is the result of a run; its JSON names are for scripts.
type report struct {
	Label              string  `json:"label,omitempty"`
	Server             string  `json:"server"`
	Room               string  `json:"room"`
	Mode               string  `json:"mode"` // "load" or "join-burst"
	Subscribers        int     `json:"subscribers"`
	SubscriberMetadata string  `json:"subscriber_metadata"`
	Chatters           int     `json:"chatters"`
	RatePerChatter     float64 `json:"rate_per_chatter"`
	DurationS          float64 `json:"duration_s"`
	SizeBytes          int     `json:"size_bytes"`

	DialErrors int    `json:"dial_errors"`
	FirstError string `json:"first_dial_error,omitempty"`
	WithHeader int    `json:"streams_with_headers"` // the server took them in

	JoinSeconds  float64 `json:"join_s"` // first connect to the join phase's last message
	JoinSettled  bool    `json:"join_settled"`
	JoinMessages int64   `json:"join_messages"` // everything received in the join phase
	JoinEvents   int64   `json:"join_events"`

	Sent             int64   `json:"sent"`
	Accepted         int64   `json:"accepted"` // echoes; -1 with --expect-echo=false
	Refused          int64   `json:"refused"`
	SentPerS         float64 `json:"sent_per_s"`
	AcceptedPerS     float64 `json:"accepted_per_s"`
	Expected         int64   `json:"expected_per_subscriber"`
	Delivered        int64   `json:"delivered"` // chatter lines to subscribers
	DeliveriesAll    int64   `json:"deliveries_all"`
	DeliveredPerS    float64 `json:"delivered_per_s"`
	Lost             int64   `json:"lost"`   // open subscribers: expected - got
	Missed           int64   `json:"missed"` // subscribers that ended before the drain: expected - got
	Reordered        int64   `json:"reordered"`
	Gaps             int64   `json:"gaps"`
	Drained          bool    `json:"drained"`
	P50us            float64 `json:"p50_us"`
	P99us            float64 `json:"p99_us"`
	MaxUs            float64 `json:"max_us"`
	EchoP99us        float64 `json:"echo_p99_us"`
	CloseMessages    int64   `json:"close_messages"`
	SubscribersAlive int     `json:"subscribers_open_at_end"`

	// Phase -> status -> streams that ended then; "stuck" (under close)
	// counts calls that had not ended even after being cancelled.
	Ended  map[string]map[string]int `json:"ended"`
	Forced int                       `json:"cancelled_after_close_timeout"`

	ServerCPUJoinS  float64 `json:"server_cpu_join_s,omitempty"`
	ServerCPULoadS  float64 `json:"server_cpu_load_s,omitempty"`
	ServerUsPerJoin float64 `json:"server_us_per_join_message,omitempty"`
	ServerUsPerDel  float64 `json:"server_us_per_delivery,omitempty"`
	ServerCPUPct    float64 `json:"server_cpu_pct_load,omitempty"`
	RSSStartKiB     int64   `json:"server_rss_start_kib,omitempty"`
	RSSJoinedKiB    int64   `json:"server_rss_joined_kib,omitempty"`
	RSSEndKiB       int64   `json:"server_rss_end_kib,omitempty"`
	KiBPerMember    float64 `json:"server_kib_per_member,omitempty"`
	ServerFDs       int     `json:"server_fds_joined,omitempty"`
	ServerError     string  `json:"server_sample_error,omitempty"`

	LoadCPUPct float64 `json:"chatload_cpu_pct"` // this process, over the load phase
	LoadAvg    string  `json:"loadavg_end"`
}

func newReport(o options) *report {
	mode := "load"
	if o.joinBurst {
		mode = "join-burst"
	}
	return &report{Label: o.label, Server: o.server, Room: o.room, Mode: mode, Subscribers: o.subscribers,
		SubscriberMetadata: o.subscriberMetadata, Chatters: o.chatters, RatePerChatter: o.rate,
		DurationS: o.duration.Seconds(), SizeBytes: o.size, Accepted: -1, Ended: map[string]map[string]int{}}
}

func (rep *report) join(r *run, settled bool) {
	rep.JoinSettled = settled
	rep.JoinMessages = r.phaseMsgs[phaseJoin].Load()
	rep.JoinEvents = r.joinEvents.Load()
	rep.JoinSeconds = time.Duration(r.lastMsgNs.Load()).Seconds()
	rep.WithHeader = r.readyCount()
	rep.DialErrors = int(r.dialErrors.Load())
	if r.firstDial != nil {
		rep.FirstError = r.firstDial.Error()
	}
}

func (rep *report) load(r *run, loadStart, sendEnd time.Time, drained bool) {
	rep.Drained = drained
	sendSeconds := sendEnd.Sub(loadStart).Seconds()
	var echoes int64
	for _, c := range r.chatters {
		rep.Sent += c.sent.Load()
		rep.Refused += c.refused.Load()
		echoes += c.echoes.Load()
	}
	if r.opts.expectEcho {
		rep.Accepted = echoes // else it stays -1: unknown
	}
	rep.SentPerS = float64(rep.Sent) / sendSeconds
	if rep.Accepted >= 0 {
		rep.AcceptedPerS = float64(rep.Accepted) / sendSeconds
	}
	rep.Expected = r.expected()
	for _, s := range r.subs {
		if s.rpc == nil {
			continue
		}
		got := s.got.Load()
		rep.Delivered += got
		short := max(rep.Expected-got, 0)
		if s.ended() {
			rep.Missed += short
		} else {
			rep.Lost += short
			rep.SubscribersAlive++
		}
	}
	rep.DeliveriesAll = r.deliveries.Load()
	rep.DeliveredPerS = float64(rep.Delivered) / time.Since(loadStart).Seconds()
	rep.P50us = us(r.latency.quantile(0.50))
	rep.P99us = us(r.latency.quantile(0.99))
	rep.MaxUs = us(time.Duration(r.latency.max.Load()))
	rep.EchoP99us = us(r.echoLatency.quantile(0.99))
}

func (rep *report) finish(r *run, samples *sampler, forced int, loadCPU, loadWall time.Duration) {
	rep.Forced = forced
	rep.CloseMessages = r.phaseMsgs[phaseClose].Load()
	for _, s := range append(append([]*stream{}, r.subs...), r.chatters...) {
		if s.rpc == nil {
			continue
		}
		rep.Reordered += s.reordered.Load()
		rep.Gaps += s.gaps.Load()
		phase, name := "close", "stuck"
		if s.ended() {
			phase, name = phaseNames[s.endPhase], statusName(s.end)
		}
		if rep.Ended[phase] == nil {
			rep.Ended[phase] = map[string]int{}
		}
		rep.Ended[phase][name]++
	}
	if loadWall > 0 {
		rep.LoadCPUPct = 100 * loadCPU.Seconds() / loadWall.Seconds()
	}
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		rep.LoadAvg = strings.Join(strings.Fields(string(la))[:3], " ")
	}
	if samples.err != nil {
		rep.ServerError = samples.err.Error()
	}
	start, ok0 := samples.samples["start"]
	joined, ok1 := samples.samples["joined"]
	drained, ok2 := samples.samples["drained"]
	if ok0 && ok1 {
		rep.ServerCPUJoinS = (joined.cpu - start.cpu).Seconds()
		if rep.JoinMessages > 0 {
			rep.ServerUsPerJoin = 1e6 * rep.ServerCPUJoinS / float64(rep.JoinMessages)
		}
		rep.RSSStartKiB, rep.RSSJoinedKiB, rep.ServerFDs = start.rssKiB, joined.rssKiB, joined.fds
		if members := rep.Subscribers + rep.Chatters; members > 0 {
			rep.KiBPerMember = float64(joined.rssKiB-start.rssKiB) / float64(members)
		}
	}
	if ok1 && ok2 {
		rep.ServerCPULoadS = (drained.cpu - joined.cpu).Seconds()
		rep.RSSEndKiB = drained.rssKiB
		if rep.DeliveriesAll > 0 {
			rep.ServerUsPerDel = 1e6 * rep.ServerCPULoadS / float64(rep.DeliveriesAll)
		}
		if loadWall > 0 {
			rep.ServerCPUPct = 100 * rep.ServerCPULoadS / loadWall.Seconds()
		}
	}
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// summary is the one-line human report.
func (rep *report) summary() string {
	var b strings.Builder
	if rep.Label != "" {
		fmt.Fprintf(&b, "[%s] ", rep.Label)
	}
	fmt.Fprintf(&b, "%d subs (%s) + %d chatters", rep.Subscribers, rep.SubscriberMetadata, rep.Chatters)
	if rep.DialErrors > 0 {
		fmt.Fprintf(&b, ", %d NOT CONNECTED (%s)", rep.DialErrors, rep.FirstError)
	}
	fmt.Fprintf(&b, "; join %.2fs%s: %d msgs (%d JOINs)", rep.JoinSeconds, map[bool]string{true: "", false: " NOT SETTLED"}[rep.JoinSettled],
		rep.JoinMessages, rep.JoinEvents)
	if rep.Mode == "load" && rep.Chatters > 0 {
		accepted := "n/a"
		if rep.Accepted >= 0 {
			accepted = fmt.Sprintf("%d (%.0f/s)", rep.Accepted, rep.AcceptedPerS)
		}
		fmt.Fprintf(&b, "; sent %d (%.0f/s) accepted %s refused %d; delivered %d (%.0f/s) lost %d missed %d reordered %d%s; p50 %s p99 %s max %s",
			rep.Sent, rep.SentPerS, accepted, rep.Refused, rep.Delivered, rep.DeliveredPerS, rep.Lost, rep.Missed,
			rep.Reordered, map[bool]string{true: "", false: " (NOT DRAINED)"}[rep.Drained],
			ms(rep.P50us), ms(rep.P99us), ms(rep.MaxUs))
	}
	fmt.Fprintf(&b, "; ended: %s", endedText(rep.Ended))
	if rep.Forced > 0 {
		fmt.Fprintf(&b, " (%d cancelled after close timeout)", rep.Forced)
	}
	if rep.RSSJoinedKiB > 0 {
		fmt.Fprintf(&b, "; server join CPU %.2fs (%.2f us/msg), RSS %d->%d KiB (%.1f KiB/member)",
			rep.ServerCPUJoinS, rep.ServerUsPerJoin, rep.RSSStartKiB, rep.RSSJoinedKiB, rep.KiBPerMember)
	}
	if rep.ServerUsPerDel > 0 {
		fmt.Fprintf(&b, ", load CPU %.2fs (%.0f%%, %.2f us/delivery)", rep.ServerCPULoadS, rep.ServerCPUPct, rep.ServerUsPerDel)
	}
	if rep.ServerError != "" {
		fmt.Fprintf(&b, "; server sample: %s", rep.ServerError)
	}
	fmt.Fprintf(&b, "; chatload CPU %.0f%%; loadavg %s", rep.LoadCPUPct, rep.LoadAvg)
	return b.String()
}

func ms(usec float64) string {
	if usec >= 1000 {
		return fmt.Sprintf("%.1fms", usec/1000)
	}
	return fmt.Sprintf("%.0fus", usec)
}

// endedText is "load: RESOURCE_EXHAUSTED 3; close: OK 1017", phases in order.
func endedText(ended map[string]map[string]int) string {
	var parts []string
	for _, phase := range phaseNames {
		codes := ended[phase]
		if len(codes) == 0 {
			continue
		}
		names := make([]string, 0, len(codes))
		for name := range codes {
			names = append(names, name)
		}
		sort.Strings(names)
		var items []string
		for _, name := range names {
			items = append(items, fmt.Sprintf("%s %d", name, codes[name]))
		}
		parts = append(parts, phase+": "+strings.Join(items, ", "))
	}
	return strings.Join(parts, "; ")
}

func (rep *report) write(o options) {
	line := rep.summary()
	if o.jsonPath == "-" {
		fmt.Fprintln(os.Stderr, line)
	} else {
		fmt.Println(line)
	}
	if o.jsonPath == "" {
		return
	}
	data, _ := json.Marshal(rep)
	data = append(data, '\n')
	if o.jsonPath == "-" {
		os.Stdout.Write(data)
	} else if err := os.WriteFile(o.jsonPath, data, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "chatload: %v\n", err)
	}
}
