package web

import (
	"testing"
	"time"
)

func TestFrenchDate(t *testing.T) {
	cases := map[time.Time]string{
		time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC):    "1er mars 2025",
		time.Date(2025, 8, 15, 12, 0, 0, 0, time.UTC):   "15 août 2025",
		time.Date(2025, 12, 31, 23, 30, 0, 0, time.UTC): "1er janvier 2026", // already the next day in Paris
		{}: "",
	}
	for in, want := range cases {
		if got := FrenchDate(in); got != want {
			t.Errorf("FrenchDate(%v) = %q, want %q", in, got, want)
		}
	}
}
