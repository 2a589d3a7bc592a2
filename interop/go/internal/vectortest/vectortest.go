// Package vectortest reads the vectors every client shares (C++, Go, Python)
// from interop/testdata, for the Go packages' tests.
package vectortest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"grpc-chat/interop/go/chatpb"
)

// Load decodes interop/testdata/NAME into v; tests run in their package's
// directory, two levels below interop/.
func Load(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

// ParseMessage reads one vector's message in protobuf's JSON form.
func ParseMessage(t *testing.T, raw json.RawMessage) *chatpb.ChatMessage {
	t.Helper()
	m := &chatpb.ChatMessage{}
	if err := protojson.Unmarshal(raw, m); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return m
}
