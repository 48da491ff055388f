package drand_test

import (
	"strings"
	"testing"
	"time"

	"cla/governance/sortition/drand"
)

// Published quicknet rounds (signature and randomness as the beacon served
// them); a pairing check cannot pass on made-up values.
var published = []struct {
	round      uint64
	sig        string
	randomness string
}{
	{1000, "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125e342b73a8dd2bacbe47e4b6b63ed5e39", ""},
	{12040883, "929906c959032ab363c9f26570d215d66f5c06cb0c44fe508c12bb5839f04ec895bb6868e5b9ff13ab289bdb5266b394", ""},
	{32281667, "b0f5ae301358ff87a9d3dd539ed4a07c0148b1ab4f7b61a8ca43c7e9ca7ca9553e4faae9188deb30b2cd1a7f447e3e5b", "4fd2fc55983dbfa3f446d8a0bd56f16cc8c5e76afd1ec154b60d477cbabed13b"},
	{32285085, "81dbce51d584d90d618547f4b50391d53ace6f6b9aeb8fb67e1879427af9d0310ac0ec6f519271d9a313ee84b378d416", ""},
	{32285086, "a64d99fd7fa3e48912be7209c7b69c72c88fc5224be2516949b6f29f3a4b7e3fa069dd58b2bbb4bf2c34ae61ef631a44", ""},
}

func TestPublishedRoundsVerify(t *testing.T) {
	for _, r := range published {
		if err := drand.Quicknet.Verify(r.round, r.sig); err != nil {
			t.Errorf("round %d: %v", r.round, err)
		}
		if r.randomness != "" {
			if got, _ := drand.Randomness(r.sig); got != r.randomness {
				t.Errorf("round %d: randomness %s, published %s", r.round, got, r.randomness)
			}
		}
	}
}

func TestForgedRoundsRefused(t *testing.T) {
	// Another round's signature, a flipped bit, garbage and a foreign
	// chain's signature of round 1000 are all refused.
	if err := drand.Quicknet.Verify(1001, published[0].sig); err == nil || !strings.Contains(err.Error(), "ne correspond pas") {
		t.Fatalf("signature of round 1000 accepted for round 1001: %v", err)
	}
	flipped := []byte(published[1].sig)
	flipped[len(flipped)-1] ^= 1
	if drand.Quicknet.Verify(published[1].round, string(flipped)) == nil {
		t.Fatal("flipped signature accepted")
	}
	if drand.Quicknet.Verify(5, "zz") == nil || drand.Quicknet.Verify(5, "00") == nil {
		t.Fatal("garbage accepted")
	}
	foreign := "b09eacd45767c4d58306b98901ad0d6086e2663766f3a4ec71d00cf26f0f49eaf248abc7151c60cf419c4e8b37e80412"
	if drand.Quicknet.Verify(1000, foreign) == nil {
		t.Fatal("another chain's round accepted")
	}
}

func TestRoundTimes(t *testing.T) {
	c := drand.Quicknet
	if got := c.RoundTime(1); !got.Equal(c.Genesis) {
		t.Fatalf("round 1 at %v", got)
	}
	at := time.Date(2026, 6, 1, 12, 0, 1, 0, time.UTC)
	r := c.RoundAt(at)
	if c.RoundTime(r).Before(at) || !c.RoundTime(r-1).Before(at) {
		t.Fatalf("RoundAt(%v) = %d published %v", at, r, c.RoundTime(r))
	}
}
