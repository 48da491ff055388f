package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"cla/internal/authz"
	"cla/internal/batch"
	"cla/internal/database"
	"cla/internal/text"
)

// NewToken returns 256 random bits, base64url-encoded: session ids, CSRF
// tokens, invitation and password links.
func NewToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenLen is the length of a token from NewToken.
const tokenLen = 43

func wellFormed(token string) bool {
	if len(token) != tokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil
}

// HashToken is what the database stores instead of a secret token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Session is a signed-in browser, as the middleware loads it for one council.
type Session struct {
	AccountID  int64      `bun:"account_id"`
	Name       string     `bun:"name"`
	Role       authz.Role `bun:"role"`
	CSRFToken  string     `bun:"csrf_token"`
	LastSeenAt time.Time  `bun:"last_seen_at"`

	idHash []byte
}

// sessionRow is the stored session.
type sessionRow struct {
	bun.BaseModel `bun:"table:sessions"`

	IDHash     []byte    `bun:"id_hash,pk"`
	AccountID  int64     `bun:"account_id"`
	CSRFToken  string    `bun:"csrf_token"`
	CreatedAt  time.Time `bun:"created_at,nullzero,default:current_timestamp"`
	LastSeenAt time.Time `bun:"last_seen_at,nullzero,default:current_timestamp"`
	ExpiresAt  time.Time `bun:"expires_at"`
	ClientIP   string    `bun:"client_ip"`
	UserAgent  string    `bun:"user_agent"`
}

// createSession stores a new session for accountID and returns its id (the
// cookie value) and CSRF token.
func createSession(ctx context.Context, db bun.IDB, accountID int64, absolute time.Duration, ip, ua string) (id, csrf string, err error) {
	id, csrf = NewToken(), NewToken()
	if len(ua) > 300 {
		// Normalised again: the cut may split a character, and PostgreSQL
		// refuses invalid UTF-8.
		ua = text.Normalize(ua[:300])
	}
	row := &sessionRow{IDHash: HashToken(id), AccountID: accountID, CSRFToken: csrf,
		ExpiresAt: time.Now().Add(absolute), ClientIP: ip, UserAgent: ua}
	_, err = db.NewInsert().Model(row).Column("id_hash", "account_id", "csrf_token", "expires_at", "client_ip", "user_agent").Exec(ctx)
	return id, csrf, err
}

// sessionLookup is what loading a session needs: the hash of the cookie's id and
// the request's council.
type sessionLookup struct {
	idHash    []byte
	councilID int64
}

// loadSessionsSQL reads sessions ($1 id hashes, $2 councils, by position) that
// are neither expired nor idle for longer than $3 seconds, and tells which
// were last seen more than a minute ago (touchSessionsSQL refreshes those).
// A plain SELECT: it runs for every signed-in request, and a data-modifying
// CTE in it cost every batch an UPDATE node for the once-a-minute refresh.
const loadSessionsSQL = `WITH k AS (
		SELECT * FROM unnest($1::bytea[], $2::bigint[]) WITH ORDINALITY AS k (id_hash, council_id, n))
	SELECT k.n, s.account_id, a.name, coalesce(m.role, ''), s.csrf_token, s.last_seen_at,
		s.last_seen_at < now() - interval '1 minute' AS stale
	FROM k
	JOIN sessions AS s ON s.id_hash = k.id_hash
	JOIN accounts AS a ON a.id = s.account_id
	LEFT JOIN memberships AS m ON m.account_id = s.account_id AND m.council_id = k.council_id AND ` + activeSQL + `
	WHERE s.expires_at > now() AND s.last_seen_at > now() - make_interval(secs => $3)`

// touchSessionsSQL refreshes the idle clock of sessions ($1 id hashes) at
// most once a minute.
const touchSessionsSQL = `UPDATE sessions SET last_seen_at = now()
	WHERE id_hash = ANY ($1::bytea[]) AND last_seen_at < now() - interval '1 minute'`

// loadSessions loads the sessions of keys in one statement (and, for those last
// seen over a minute ago, refreshes their idle clock in a second): the session
// middleware batches the lookups of concurrent requests (Manager.sessions).
// A nil Value is no live session.
func loadSessions(ctx context.Context, db *bun.DB, keys []sessionLookup, idle time.Duration) []batch.Result[*Session] {
	out := make([]batch.Result[*Session], len(keys))
	hashes, councils := make([][]byte, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		hashes[i], councils[i] = k.idHash, k.councilID
	}
	// A fixed SQL text with bound parameters rather than bun's interpolation:
	// pgx prepares it once per connection. pgx's own connection, without
	// database/sql's row conversions: every signed-in request waits for it.
	err := database.WithConn(ctx, db, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, loadSessionsSQL, hashes, councils, idle.Seconds())
		if err != nil {
			return err
		}
		defer rows.Close()
		var stale [][]byte
		for rows.Next() {
			var n int64
			var old bool
			s := new(Session)
			if err := rows.Scan(&n, &s.AccountID, &s.Name, &s.Role, &s.CSRFToken, &s.LastSeenAt, &old); err != nil {
				return err
			}
			if n >= 1 && n <= int64(len(keys)) {
				s.idHash = keys[n-1].idHash
				out[n-1].Value = s
				if old {
					stale = append(stale, s.idHash)
				}
			}
		}
		if err := rows.Err(); err != nil || len(stale) == 0 {
			return err
		}
		rows.Close()
		_, err = c.Exec(ctx, touchSessionsSQL, stale)
		return err
	})
	if err != nil {
		for i := range out {
			out[i] = batch.Result[*Session]{Err: err}
		}
	}
	return out
}

func deleteSession(ctx context.Context, db bun.IDB, idHash []byte) error {
	_, err := db.NewDelete().Model((*sessionRow)(nil)).Where("id_hash = ?", idHash).Exec(ctx)
	return err
}

// DeleteSessionsOf ends every session of an account, at once, on every instance.
func DeleteSessionsOf(ctx context.Context, db bun.IDB, accountID int64) error {
	_, err := db.NewDelete().Model((*sessionRow)(nil)).Where("account_id = ?", accountID).Exec(ctx)
	return err
}

// DeleteExpiredSessions removes sessions past their absolute or idle timeout.
func DeleteExpiredSessions(ctx context.Context, db bun.IDB, idle time.Duration) (int64, error) {
	res, err := db.NewDelete().Model((*sessionRow)(nil)).
		Where("expires_at <= now() OR last_seen_at <= now() - make_interval(secs => ?)", idle.Seconds()).Exec(ctx)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
