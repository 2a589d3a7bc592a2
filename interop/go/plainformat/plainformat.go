// Package plainformat prints received chat messages in the PLAIN FORMAT, one
// line each:
//
//	TIME ROOM SEQ KIND SENDER TEXT
//
// The same rules as the C++ and Python clients', checked against the shared
// vectors in interop/testdata/. Pure functions, no gRPC. See docs/interop.md.
package plainformat

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"grpc-chat/interop/go/chatpb"
)

// Sanitize makes text from the network safe to print on a terminal: C0
// controls become ^X (ESC is ^[), DEL ^?, C1 and bidi controls <U+XXXX>, and
// each byte that is not part of valid UTF-8 becomes U+FFFD. Everything else
// passes unchanged.
func Sanitize(text string) string {
	var out strings.Builder
	out.Grow(len(text))
	for offset := 0; offset < len(text); {
		r, size := utf8.DecodeRuneInString(text[offset:])
		switch {
		case r == utf8.RuneError && size == 1:
			out.WriteRune(utf8.RuneError)
		case r < 0x20:
			out.WriteByte('^')
			out.WriteByte(byte(r) + 0x40)
		case r == 0x7F:
			out.WriteString("^?")
		case (r >= 0x80 && r <= 0x9F) || isBidiControl(r):
			fmt.Fprintf(&out, "<U+%04X>", r)
		default:
			out.WriteString(text[offset : offset+size])
		}
		offset += size
	}
	return out.String()
}

func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) ||
		r == 0x200E || r == 0x200F || r == 0x061C
}

// FormatTime gives milliseconds since the epoch as UTC, e.g. 2026-11-24T22:32:37.970Z.
func FormatTime(unixMs int64) string {
	return time.UnixMilli(unixMs).UTC().Format("2006-01-02T15:04:05.000Z")
}

var kindNames = map[chatpb.Kind]string{
	chatpb.Kind_KIND_UNSPECIFIED: "chat",
	chatpb.Kind_CHAT:             "chat",
	chatpb.Kind_ACTION:           "action",
	chatpb.Kind_PRIVATE:          "private",
	chatpb.Kind_JOIN:             "join",
	chatpb.Kind_LEAVE:            "leave",
	chatpb.Kind_RENAME:           "rename",
	chatpb.Kind_NOTICE:           "notice",
	chatpb.Kind_ERROR:            "error",
	chatpb.Kind_GAP:              "gap",
	chatpb.Kind_PRESENCE:         "presence",
}

// KindName is the lower-case name of a kind; unset and unknown (newer) kinds
// read "chat", as in the C++ client.
func KindName(kind chatpb.Kind) string {
	if name, ok := kindNames[kind]; ok {
		return name
	}
	return "chat"
}

// Line formats one message (its batch, if any, is ignored: see Lines).
func Line(m *chatpb.ChatMessage) string {
	room := "-"
	if m.GetRoom() != "" {
		room = "#" + Sanitize(m.GetRoom())
	}
	sender := "-"
	if m.GetUser() != "" {
		sender = Sanitize(m.GetUser())
	}
	if m.GetKind() == chatpb.Kind_PRIVATE {
		sender += ">" + Sanitize(m.GetSubject())
	}
	return strings.Join([]string{
		FormatTime(m.GetTimeUnixMs()),
		room,
		strconv.FormatUint(m.GetSeq(), 10),
		KindName(m.GetKind()),
		sender,
		Sanitize(m.GetMessage()),
	}, " ")
}

// Lines gives the lines for one received frame: one per message of its batch
// when it has one, else the frame's own line.
func Lines(frame *chatpb.ChatMessage) []string {
	if batch := frame.GetBatch(); len(batch) > 0 {
		lines := make([]string, 0, len(batch))
		for _, m := range batch {
			lines = append(lines, Line(m))
		}
		return lines
	}
	return []string{Line(frame)}
}

// ValidUTF8 replaces each byte that is not part of valid UTF-8 with U+FFFD
// (one per byte, as the other clients do), so that any input line can be sent.
func ValidUTF8(text string) string {
	if utf8.ValidString(text) {
		return text
	}
	var out strings.Builder
	for offset := 0; offset < len(text); {
		r, size := utf8.DecodeRuneInString(text[offset:])
		if r == utf8.RuneError && size == 1 {
			out.WriteRune(utf8.RuneError)
		} else {
			out.WriteString(text[offset : offset+size])
		}
		offset += size
	}
	return out.String()
}
