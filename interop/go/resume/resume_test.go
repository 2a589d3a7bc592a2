package resume

import (
	"encoding/json"
	"maps"
	"testing"

	"grpc-chat/interop/go/internal/vectortest"
)

// The vectors every client shares (C++, Go, Python).
type vectors struct {
	Position []struct {
		About   string          `json:"about"`
		Before  Positions       `json:"before"`
		Message json.RawMessage `json:"message"`
		Show    bool            `json:"show"`
		After   Positions       `json:"after"`
	} `json:"position"`
	Line []struct {
		Line string `json:"line"`
		Kind string `json:"kind"`
	} `json:"line"`
	Settle []struct {
		About   string          `json:"about"`
		Name    string          `json:"name"`
		Message json.RawMessage `json:"message"`
		Settles *string         `json:"settles"`
	} `json:"settle"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	var v vectors
	vectortest.Load(t, "resume.json", &v)
	if len(v.Position) == 0 || len(v.Line) == 0 || len(v.Settle) == 0 {
		t.Fatal("no vectors")
	}
	return v
}

func TestPositionMatchesSharedVectors(t *testing.T) {
	for _, c := range loadVectors(t).Position {
		positions := maps.Clone(c.Before)
		if positions == nil {
			positions = Positions{}
		}
		show := positions.Advance(vectortest.ParseMessage(t, c.Message))
		if show != c.Show || !maps.Equal(positions, c.After) {
			t.Errorf("%s: Advance(%v, %s) = %v, %v; want %v, %v",
				c.About, c.Before, c.Message, show, positions, c.Show, c.After)
		}
	}
}

func TestClassifyMatchesSharedVectors(t *testing.T) {
	for _, c := range loadVectors(t).Line {
		if got := Classify(c.Line).String(); got != c.Kind {
			t.Errorf("Classify(%q) = %s, want %s", c.Line, got, c.Kind)
		}
	}
}

func TestSettlesMatchesSharedVectors(t *testing.T) {
	for _, c := range loadVectors(t).Settle {
		id, ok := Settles(c.Name, vectortest.ParseMessage(t, c.Message))
		want := ""
		if c.Settles != nil {
			want = *c.Settles
		}
		if ok != (c.Settles != nil) || id != want {
			t.Errorf("%s: Settles(%q, %s) = %q, %v; want %v", c.About, c.Name, c.Message, id, ok, c.Settles)
		}
	}
}
