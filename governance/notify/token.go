package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"cla/internal/web"
)

// Unsubscribe tokens are signed, not stored: "council.account.kind" and an
// HMAC of it with an instance secret. Anyone holding the link of a mail may
// leave that kind of mail for that member, which is what RFC 8058 asks (the
// mail client posts it without a session or a CSRF token); nothing else.

const tokenSecretName = "notify-unsubscribe"

var b64 = base64.RawURLEncoding

func tokenMAC(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("cla-unsubscribe\x00" + payload))
	return m.Sum(nil)[:18]
}

// UnsubscribeToken returns the token that unsubscribes accountID from kind
// in councilID.
func UnsubscribeToken(ctx context.Context, db bun.IDB, councilID, accountID int64, kind Kind) (string, error) {
	key, err := web.InstanceSecret(ctx, db, tokenSecretName)
	if err != nil {
		return "", err
	}
	return tokenFor(key, councilID, accountID, kind), nil
}

// tokenFor is UnsubscribeToken with the key read already (a batch signs
// thousands of tokens with one read).
func tokenFor(key []byte, councilID, accountID int64, kind Kind) string {
	return sign(key, itoa(councilID)+"."+itoa(accountID)+"."+string(kind))
}

// recipientToken is the unsubscribe token of a recipient without an account
// (a citizen subscriber, a shop): "council.recipient.kind", recipient being
// "subscriber:7" or "shop:3" (no dot).
func recipientToken(key []byte, councilID int64, recipient string, kind Kind) string {
	return sign(key, itoa(councilID)+"."+recipient+"."+string(kind))
}

func sign(key []byte, payload string) string {
	return b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(tokenMAC(key, payload))
}

// tokenClaim is what a valid token says.
type tokenClaim struct {
	CouncilID, AccountID int64
	// Recipient is set instead of AccountID for a recipient without an
	// account ("subscriber:7", "shop:3", "application:5").
	Recipient string
	Kind      Kind
}

// parseToken checks a token's signature and returns its claim; ok is false
// for a forged, truncated or unknown token.
func parseToken(ctx context.Context, db bun.IDB, token string) (claim tokenClaim, ok bool, err error) {
	p, sig, found := strings.Cut(token, ".")
	if !found || len(token) > 200 {
		return claim, false, nil
	}
	raw, err1 := b64.DecodeString(p)
	mac, err2 := b64.DecodeString(sig)
	if err1 != nil || err2 != nil {
		return claim, false, nil
	}
	key, err := web.InstanceSecret(ctx, db, tokenSecretName)
	if err != nil {
		return claim, false, err
	}
	if !hmac.Equal(mac, tokenMAC(key, string(raw))) {
		return claim, false, nil
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 {
		return claim, false, nil
	}
	claim.CouncilID, err1 = strconv.ParseInt(parts[0], 10, 64)
	claim.Kind = Kind(parts[2])
	if err1 != nil || claim.Kind == KindConvocation {
		return claim, false, nil
	}
	if isOtherRecipient(parts[1]) {
		claim.Recipient = parts[1]
		return claim, otherKinds[claim.Kind], nil
	}
	claim.AccountID, err2 = strconv.ParseInt(parts[1], 10, 64)
	if err2 != nil || !claim.Kind.Valid() {
		return claim, false, nil
	}
	return claim, true, nil
}
