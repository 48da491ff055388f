// Package drand checks a round of a drand beacon (League of Entropy)
// offline: the round's BLS signature is verified against the beacon's
// public key written here, so that the platform and `cla sortition verify`
// accept a randomness value only if the beacon really produced it, without
// any network access.
package drand

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"

	"cla/governance/sortition/draw"
)

// Chain is a drand chain this package can verify.
type Chain struct {
	Name      string // beacon id, e.g. "quicknet"
	Hash      string // chain hash, hex: what a commitment names
	PublicKey string // group public key, hex, compressed G2 point
	Scheme    string // drand scheme id
	Genesis   time.Time
	Period    time.Duration
	URL       string // where anyone can read a round: URL + "/public/<round>"
}

// Quicknet is the League of Entropy's "quicknet" chain: unchained rounds
// every 3 s, signatures on G1 hashed with RFC 9380 (scheme
// bls-unchained-g1-rfc9380). Its values are those of the chain's /info.
var Quicknet = Chain{
	Name:      "quicknet",
	Hash:      "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971",
	PublicKey: "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a",
	Scheme:    "bls-unchained-g1-rfc9380",
	Genesis:   time.Unix(1692803367, 0).UTC(),
	Period:    3 * time.Second,
	URL:       "https://api.drand.sh/52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971",
}

// dstG1 is the hash-to-curve domain separation tag of the G1 schemes.
const dstG1 = "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"

// Chains lists the chains accepted in a commitment.
var Chains = []Chain{Quicknet}

// ByHash returns the chain with this hash.
func ByHash(hash string) (Chain, bool) {
	for _, c := range Chains {
		if c.Hash == strings.ToLower(hash) {
			return c, true
		}
	}
	return Chain{}, false
}

// RoundAt returns the first round published at or after t.
func (c Chain) RoundAt(t time.Time) uint64 {
	if !t.After(c.Genesis) {
		return 1
	}
	d := t.Sub(c.Genesis)
	n := uint64(d / c.Period)
	if d%c.Period != 0 {
		n++
	}
	return n + 1
}

// RoundTime is when round is published: genesis + (round − 1) × period.
func (c Chain) RoundTime(round uint64) time.Time {
	return c.Genesis.Add(time.Duration(round-1) * c.Period)
}

// Verify checks that sigHex is the chain's signature of round: for the
// unchained G1 scheme, e(σ, g2) = e(H(SHA-256(round)), pk) where H is the
// RFC 9380 hash to G1. The error is in French, for the facilitator.
func (c Chain) Verify(round uint64, sigHex string) error {
	if c.Scheme != "bls-unchained-g1-rfc9380" {
		return fmt.Errorf("schéma drand non pris en charge : %s", c.Scheme)
	}
	sigBytes, err := hex.DecodeString(strings.TrimSpace(sigHex))
	if err != nil || len(sigBytes) != bls.SizeOfG1AffineCompressed {
		return fmt.Errorf("la signature drand doit faire %d octets en hexadécimal", bls.SizeOfG1AffineCompressed)
	}
	var sig bls.G1Affine
	// SetBytes checks the point is on the curve and in the subgroup.
	if _, err := sig.SetBytes(sigBytes); err != nil {
		return fmt.Errorf("la signature drand n’est pas un point valide de la courbe")
	}
	pkBytes, err := hex.DecodeString(c.PublicKey)
	if err != nil {
		return err
	}
	var pk bls.G2Affine
	if _, err := pk.SetBytes(pkBytes); err != nil {
		return fmt.Errorf("clé publique drand invalide : %w", err)
	}
	var rb [8]byte
	binary.BigEndian.PutUint64(rb[:], round)
	msg := sha256.Sum256(rb[:])
	h, err := bls.HashToG1(msg[:], []byte(dstG1))
	if err != nil {
		return err
	}
	_, _, _, g2 := bls.Generators()
	var negH bls.G1Affine
	negH.Neg(&h)
	ok, err := bls.PairingCheck([]bls.G1Affine{sig, negH}, []bls.G2Affine{g2, pk})
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("la signature ne correspond pas au tour %d de la chaîne drand %s", round, c.Name)
	}
	return nil
}

// Randomness is the round's randomness as drand publishes it: SHA-256 of
// the signature.
func Randomness(sigHex string) (string, error) {
	b, err := hex.DecodeString(strings.TrimSpace(sigHex))
	if err != nil {
		return "", err
	}
	r := sha256.Sum256(b)
	return hex.EncodeToString(r[:]), nil
}

// CheckSource is the draw.SourceCheck of the platform: a drand value must
// be a valid signature of the committed round on a chain known here; other
// sources are public texts that anyone compares with the published result.
func CheckSource(src draw.Source, value string) error {
	if src.Kind != draw.SourceDrand {
		return nil
	}
	chain, ok := ByHash(src.Chain)
	if !ok {
		return fmt.Errorf("chaîne drand inconnue : %s", src.Chain)
	}
	return chain.Verify(src.Round, value)
}
