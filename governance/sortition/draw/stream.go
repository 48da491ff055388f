package draw

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
)

// stream is the deterministic random stream of a draw: block i is
// SHA-256(seed ‖ i as 8 big-endian bytes), read 8 bytes at a time as
// big-endian uint64. It is deliberately the simplest construction anyone can
// re-implement in any language from docs/sortition.md; SHA-256 in counter
// mode is a sound pseudo-random generator for a public seed.
type stream struct {
	seed    [32]byte
	counter uint64
	block   [32]byte
	used    int
}

func newStream(seed [32]byte) *stream {
	return &stream{seed: seed, used: len([32]byte{})}
}

func (s *stream) uint64() uint64 {
	if s.used+8 > len(s.block) {
		var in [40]byte
		copy(in[:32], s.seed[:])
		binary.BigEndian.PutUint64(in[32:], s.counter)
		s.block = sha256.Sum256(in[:])
		s.counter++
		s.used = 0
	}
	v := binary.BigEndian.Uint64(s.block[s.used:])
	s.used += 8
	return v
}

// intn returns a uniform integer in [0, n) by rejection: values at or above
// the largest multiple of n that fits in 64 bits are drawn again, so that
// no residue is favoured.
func (s *stream) intn(n int) int {
	if n <= 0 {
		panic("draw: intn of a non-positive bound")
	}
	un := uint64(n)
	rem := (math.MaxUint64%un + 1) % un // 2^64 mod n
	limit := math.MaxUint64 - rem       // accept x ≤ limit: 2^64 − rem values, a multiple of n
	for {
		x := s.uint64()
		if x <= limit {
			return int(x % un)
		}
	}
}
