// Package resume holds the reconnection rules chat-client-go shares with the
// C++ and Python clients (docs/interop.md, interop/testdata/resume.json):
// where the client is in each room's log, which typed lines are tracked by
// client_msg_id, and which incoming message settles a tracked line.
package resume

import (
	"strings"

	"grpc-chat/interop/go/chatpb"
)

// Position is the last sequence number shown in a room, within its epoch.
type Position struct {
	Epoch uint64 `json:"epoch"`
	Seq   uint64 `json:"seq"`
}

// Positions maps a room (as the server names it) to its Position.
type Positions map[string]Position

// Advance applies one incoming message (not a batch: unpack batches first and
// pass each inner message in order) and says whether to show it. A GAP sets
// the room's position to its (epoch, seq); a room message from another epoch
// starts a new life of the room (position (epoch, 0)); a room message whose
// seq is not above the position was shown before and is dropped.
func (p Positions) Advance(m *chatpb.ChatMessage) bool {
	if m.GetKind() == chatpb.Kind_GAP {
		p[m.GetRoom()] = Position{m.GetEpoch(), m.GetSeq()}
		return true
	}
	if m.GetSeq() == 0 || m.GetRoom() == "" {
		return true
	}
	position := p[m.GetRoom()]
	if m.GetEpoch() != position.Epoch {
		position = Position{Epoch: m.GetEpoch()}
	}
	if m.GetSeq() <= position.Seq {
		return false
	}
	position.Seq = m.GetSeq()
	p[m.GetRoom()] = position
	return true
}

// LineKind says how a typed line is sent.
type LineKind int

const (
	Blank   LineKind = iota // spaces and tabs only: not sent
	Command                 // a command or a malformed /me or /msg: sent, not tracked
	Room                    // said in the room (text, //text, /me): tracked, re-sent when unconfirmed
	Private                 // /msg NAME TEXT: tracked, reported (never re-sent) when unconfirmed
)

func (k LineKind) String() string {
	return [...]string{"blank", "command", "room", "private"}[k]
}

// Classify reads a line as the server's command parser does (common/command.cc).
func Classify(line string) LineKind {
	if strings.Trim(line, " \t") == "" {
		return Blank
	}
	if !strings.HasPrefix(line, "/") || strings.HasPrefix(line, "//") {
		return Room
	}
	name, rest, _ := strings.Cut(line[1:], " ")
	rest = strings.Trim(rest, " ")
	switch NameKey(name) {
	case "me":
		if rest != "" {
			return Room
		}
	case "msg":
		if _, text, found := strings.Cut(rest, " "); found && strings.Trim(text, " ") != "" {
			return Private
		}
	}
	return Command
}

// Settles returns the client_msg_id that m settles for a client named name:
// its own echo (the same name, ignoring case) or an ERROR carrying the id.
func Settles(name string, m *chatpb.ChatMessage) (string, bool) {
	id := m.GetClientMsgId()
	if id == "" {
		return "", false
	}
	if m.GetKind() == chatpb.Kind_ERROR || NameKey(m.GetUser()) == NameKey(name) {
		return id, true
	}
	return "", false
}

// NameKey is the key that makes names unique regardless of case (ASCII only,
// as common/text_rules.cc).
func NameKey(name string) string {
	b := []byte(name)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}
