package plainformat

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"testing"

	"grpc-chat/interop/go/chatpb"
	"grpc-chat/interop/go/internal/vectortest"
)

// The vectors every client shares (C++, Go, Python).
type vectors struct {
	Sanitize []struct {
		In    *string `json:"in"`
		InHex *string `json:"in_hex"`
		Out   string  `json:"out"`
	} `json:"sanitize"`
	Format []struct {
		Message json.RawMessage `json:"message"`
		Line    string          `json:"line"`
	} `json:"format"`
	Batch struct {
		Message json.RawMessage `json:"message"`
		Lines   []string        `json:"lines"`
	} `json:"batch"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	var v vectors
	vectortest.Load(t, "plain_format.json", &v)
	if len(v.Sanitize) == 0 || len(v.Format) == 0 {
		t.Fatal("no vectors")
	}
	return v
}

func TestSanitizeMatchesSharedVectors(t *testing.T) {
	for _, c := range loadVectors(t).Sanitize {
		in := ""
		if c.In != nil {
			in = *c.In
		} else {
			b, err := hex.DecodeString(*c.InHex)
			if err != nil {
				t.Fatal(err)
			}
			in = string(b)
		}
		if got := Sanitize(in); got != c.Out {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, c.Out)
		}
	}
}

func TestLineMatchesSharedVectors(t *testing.T) {
	extremes := 0 // the vector with seq 2^64-1 and time 0 (CJK, bidi controls, ESC)
	for _, c := range loadVectors(t).Format {
		m := vectortest.ParseMessage(t, c.Message)
		if m.GetSeq() == math.MaxUint64 {
			extremes++
		}
		if got := Line(m); got != c.Line {
			t.Errorf("Line(%s)\n got %q\nwant %q", c.Message, got, c.Line)
		}
	}
	if extremes != 1 {
		t.Errorf("%d vectors with seq 2^64-1 arrived intact, want 1", extremes)
	}
}

func TestBatchPrintsEachInnerMessage(t *testing.T) {
	v := loadVectors(t)
	got := Lines(vectortest.ParseMessage(t, v.Batch.Message))
	if len(got) != len(v.Batch.Lines) {
		t.Fatalf("got %d lines, want %d: %q", len(got), len(v.Batch.Lines), got)
	}
	for i := range got {
		if got[i] != v.Batch.Lines[i] {
			t.Errorf("line %d: got %q, want %q", i, got[i], v.Batch.Lines[i])
		}
	}
}

func TestUnknownKindReadsAsChat(t *testing.T) {
	if got := KindName(chatpb.Kind(42)); got != "chat" {
		t.Errorf("KindName(42) = %q", got)
	}
}

func TestValidUTF8ReplacesEachInvalidByte(t *testing.T) {
	for in, want := range map[string]string{
		"ok 日本":         "ok 日本",
		"a\xe3\x81":     "a\uFFFD\uFFFD",
		"\xffb\xc0\xaf": "\uFFFDb\uFFFD\uFFFD",
		"\x1b[0m":       "\x1b[0m", // controls are the server's business
	} {
		if got := ValidUTF8(in); got != want {
			t.Errorf("ValidUTF8(%q) = %q, want %q", in, got, want)
		}
	}
}
