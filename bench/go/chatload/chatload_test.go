package main

// Run with: cd bench/go && go test ./... (not part of ctest).

import (
	"io"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestLineRoundTripsAndPadsToSize(t *testing.T) {
	pad := "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" // 64
	line := string(formatLine(nil, 7, 1234, 98765*time.Nanosecond, pad))
	if len(line) != 64 {
		t.Fatalf("len %d, want 64: %q", len(line), line)
	}
	id, seq, sent, ok := parseLine(line)
	if !ok || id != 7 || seq != 1234 || sent != 98765 {
		t.Fatalf("parseLine(%q) = %d %d %d %v", line, id, seq, sent, ok)
	}
	short := string(formatLine(nil, 1, 2, 3, "x"))
	if _, _, _, ok := parseLine(short); !ok || short != "c1 n2 t3" {
		t.Fatalf("unpadded line %q not read back", short)
	}
}

func TestParseLineRejectsRoomEvents(t *testing.T) {
	for _, text := range []string{"chat3 joined #room", "c3 left #room", "c n1 t2", "c1 n1", "", "c1 n2 t3x"} {
		if _, _, _, ok := parseLine(text); ok {
			t.Errorf("parseLine(%q) accepted", text)
		}
	}
}

func TestHistogramQuantilesWithinABucket(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {1, 1000 * time.Microsecond}} {
		got := h.quantile(c.q)
		if got < c.want || float64(got) > float64(c.want)*1.035 {
			t.Errorf("q%.2f = %v, want %v (+3.5%%)", c.q, got, c.want)
		}
	}
	for v := int64(0); v < 1<<20; v = v*3 + 1 {
		if b := bucketOf(v); upperBound(b) < v || (b > 0 && upperBound(b-1) >= v) {
			t.Fatalf("value %d in bucket %d [%d, %d]", v, b, upperBound(b-1)+1, upperBound(b))
		}
	}
}

func TestStatusNamesAreCanonical(t *testing.T) {
	if got := statusName(status.Error(codes.ResourceExhausted, "slow")); got != "RESOURCE_EXHAUSTED" {
		t.Errorf("got %q", got)
	}
	if got := statusName(io.EOF); got != "OK" {
		t.Errorf("got %q", got)
	}
}
