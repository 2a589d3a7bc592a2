package main

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// histogram counts durations in log-linear buckets: exact below 64 ns, then
// 32 buckets per power of two (at most 3% wide), up to 2^63 ns. Fixed size and
// lock-free, so thousands of receive goroutines record into one histogram
// without allocating per sample (a run can have tens of millions).
type histogram struct {
	buckets [64 + 58*32]atomic.Uint64
	count   atomic.Uint64
	max     atomic.Int64
}

func bucketOf(v int64) int {
	if v < 64 {
		if v < 0 {
			return 0 // clocks are monotonic; a negative value cannot happen
		}
		return int(v)
	}
	msb := bits.Len64(uint64(v)) - 1 // >= 6
	shift := msb - 5
	sub := int(uint64(v)>>shift) & 31
	return 64 + (msb-6)*32 + sub
}

// upperBound is the largest value bucket i holds: what a quantile reports,
// so a quantile is never better than the truth.
func upperBound(i int) int64 {
	if i < 64 {
		return int64(i)
	}
	msb := (i-64)/32 + 6
	sub := int64((i - 64) % 32)
	shift := msb - 5
	return (32+sub+1)<<shift - 1
}

func (h *histogram) record(d time.Duration) {
	v := int64(d)
	h.buckets[bucketOf(v)].Add(1)
	h.count.Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// quantile returns the value at or below which a fraction q of the samples
// lie (bucket upper bound, capped at the exact maximum); 0 when empty.
func (h *histogram) quantile(q float64) time.Duration {
	n := h.count.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q * float64(n))
	if float64(rank) < q*float64(n) || rank == 0 {
		rank++
	}
	var seen uint64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= rank {
			return time.Duration(min(upperBound(i), h.max.Load()))
		}
	}
	return time.Duration(h.max.Load())
}
