package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: the OWASP minimum (19 MiB, 2 passes, 1 lane), about 20 ms
// on the target machines.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// hashSlots caps concurrent password hashes at the number of cores: a burst of
// sign-ins queues instead of exhausting memory and CPU.
var hashSlots = make(chan struct{}, runtime.NumCPU())

// MaxConcurrentHashes is how many password hashes may run at once in this process.
func MaxConcurrentHashes() int { return cap(hashSlots) }

// hashesRun counts argon2id computations, so that tests can check that every
// sign-in attempt costs one, whatever the email (timing tests are flaky).
var hashesRun atomic.Int64

// HashesRun returns how many argon2id computations this process has run.
func HashesRun() int64 { return hashesRun.Load() }

func withSlot(ctx context.Context, f func()) error {
	select {
	case hashSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-hashSlots }()
	hashesRun.Add(1)
	f()
	return nil
}

// HashPassword returns the argon2id hash of password in PHC string format.
func HashPassword(ctx context.Context, password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	var key []byte
	if err := withSlot(ctx, func() {
		key = argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	}); err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// dummyHash is verified against when the email is unknown, so that an unknown
// address and a wrong password take the same time.
var dummyHash = func() string {
	h, err := HashPassword(context.Background(), "cla-dummy-password-for-timing")
	if err != nil {
		panic(err)
	}
	return h
}()

// VerifyPassword reports whether password matches the PHC-encoded hash. An
// empty or malformed hash never matches, but costs the same time as a real one.
func VerifyPassword(ctx context.Context, hash, password string) (bool, error) {
	target := hash
	if target == "" {
		target = dummyHash
	}
	var m, t uint32
	var p uint8
	var version int
	parts := strings.Split(target, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		parts = strings.Split(dummyHash, "$")
		hash = ""
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errors.New("auth: unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, errors.New("auth: malformed argon2 parameters")
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false, errors.New("auth: malformed argon2 hash")
	}
	var got []byte
	if err := withSlot(ctx, func() {
		got = argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	}); err != nil {
		return false, err
	}
	return hash != "" && subtle.ConstantTimeCompare(got, want) == 1, nil
}

// Password length limits, in characters.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 200
)

// commonPasswords are refused even when long enough (lower-cased).
var commonPasswords = map[string]bool{}

func init() {
	for _, p := range strings.Fields(`1234567890 12345678910 0123456789 123456789a azertyuiop qwertyuiop
		motdepasse motdepasse1 motdepasse123 password123 password1234 passwordpassword 1234567890a
		azerty1234 azerty12345 azertyuiop1 qwerty1234 qwerty12345 iloveyou123 jetaime123 soleil1234
		bonjour123 doudou1234 football123 marseille13 motdepasse! 0000000000 1111111111 abcdefghij
		abcdef1234 administrateur administrator changeme123 welcome123 letmein123 dieulefit26
		caissealim caissealimentaire conseil1234 aaaaaaaaaa 9876543210 zaq12wsxcde 1q2w3e4r5t
		1qaz2wsx3edc qwertzuiop azerty123456 password12 motdepasse12`) {
		commonPasswords[p] = true
	}
}

// CheckPassword returns a French message when password is not acceptable, ""
// when it is.
func CheckPassword(password string) string {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		return fmt.Sprintf("Le mot de passe doit compter au moins %d caractères.", MinPasswordLen)
	case n > MaxPasswordLen:
		return fmt.Sprintf("Le mot de passe ne peut pas dépasser %d caractères.", MaxPasswordLen)
	case commonPasswords[strings.ToLower(password)] || allSame(password):
		return "Ce mot de passe est trop courant : choisissez-en un autre (une phrase de quelques mots, par exemple)."
	}
	return ""
}

func allSame(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return strings.Trim(s, string(r)) == ""
}
