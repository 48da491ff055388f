package assembly

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/batch"
	"cla/internal/database"
)

// Casting is the hot path of a meeting: every present member votes within a
// few seconds. A cast is one statement (castSQL) that reads the vote and the
// member's right to vote, and writes the ballot only when every rule of
// castRules holds; when it wrote nothing, it returns the code of the first rule
// that failed, and Go maps the code to the member's message (castRefusal). The
// statement takes a batch of casts: BallotWriter writes the casts that arrive
// together in one statement and one commit (internal/batch).
//
// The rules are written once, in castRules: the statement's conditions and
// their order are generated from it, and what makes a ballot itself valid is
// Ballot.ValidateFor alone, run in Go before the statement (castVariant).
// TestCastRulesAgree walks every case through the statement and the Go model.
//
// No ballot lands after the close: a statement that writes ballots takes the
// rows of their votes FOR SHARE once, at its end (the statement-level triggers
// of migration 0034, whatever the code path), and the close takes the vote row
// FOR UPDATE (lockVote), so a ballot either commits before the close and is
// counted, or waits and finds the vote closed, which fails its statement.

// castRequest is one member's cast, as the statement receives it.
type castRequest struct {
	CouncilID int64 `json:"council_id"`
	VoteID    int64 `json:"vote_id"`
	MemberID  int64 `json:"member_id"`
	// ByID is who casts when it is not the member (the holder of their proxy,
	// or the facilitator entering a paper ballot), and Via says which: see
	// BallotVia. Zero and "" for a member's own ballot.
	ByID int64     `json:"by_id"`
	Via  BallotVia `json:"via"`
	// Variants is the ballot as a vote of each method stores it (see
	// Ballot.ValidateFor), for the methods where it is valid: the statement
	// keeps the variant of the vote's method, and refuses the ballot when
	// there is none.
	Variants map[VoteMethod]castVariant `json:"variants"`
	N        int                        `json:"n"` // position in the batch

	ballot *Ballot
}

// castVariant is a ballot as a vote of one method stores it, valid
// (Ballot.ValidateFor) in a vote of that method with Options options: the
// statement writes it only into such a vote.
type castVariant struct {
	Options int    `json:"options"`
	Choice  Choice `json:"choice"`
	Reason  string `json:"reason"`
	Grades  string `json:"grades"` // a PostgreSQL array literal
}

func newCastRequest(councilID, voteID, memberID int64, b *Ballot) *castRequest {
	return newCastRequestBy(councilID, voteID, memberID, 0, BallotInPerson, b)
}

// newCastRequestBy is newCastRequest for a ballot cast by byID for the
// member, as via says.
func newCastRequestBy(councilID, voteID, memberID, byID int64, via BallotVia, b *Ballot) *castRequest {
	if via == BallotInPerson {
		byID = 0
	}
	// The batch is written by another goroutine, which may outlive the request
	// whose memory Fiber reuses: copy the texts.
	b.Choice, b.Reason = Choice(strings.Clone(string(b.Choice))), strings.Clone(b.Reason)
	r := &castRequest{CouncilID: councilID, VoteID: voteID, MemberID: memberID, ByID: byID, Via: via, ballot: b,
		Variants: make(map[VoteMethod]castVariant, len(castMethods))}
	for _, m := range castMethods {
		c := *b
		c.Grades = append([]int16(nil), b.Grades...)
		// Only majority judgment has options; a ballot grades each of them, so
		// it fits a vote of len(Grades) options.
		options := 0
		if m == MethodJudgment {
			options = len(b.Grades)
		}
		// An invalid variant is not sent: the statement refuses the ballot
		// without it, and its text could fail the whole batch's statement (a
		// NUL). Sending only the valid ones also keeps the batch's JSON, which
		// PostgreSQL parses, about a third of its size.
		if c.ValidateFor(&Vote{Method: m, Options: make([]VoteOption, options)}) == nil {
			r.Variants[m] = castVariant{Options: options, Choice: c.Choice, Reason: c.Reason, Grades: pgArray(c.Grades)}
		}
	}
	return r
}

// castRule is one rule a cast must pass.
type castRule struct {
	code  string // what the statement returns when the rule fails
	holds string // SQL over the statement's row v (see castSQL): true when the rule holds
	err   error  // what the member hears; nil: Ballot.ValidateFor's message
}

// castRules are the rules of a cast, in the order a member should hear a
// refusal: the vote, then the ballot, then who votes. castSQL is generated
// from them; castRefusal maps their codes back. A cast by proxy needs the
// proxy active at this meeting ("proxy_ok": a vote with a time window takes
// no proxy). Who may vote ("allowed" in castSQL): during a meeting, the
// members present on its roll — for a cast by proxy, its holder; within a
// time window, every enabled member.
var castRules = []castRule{
	{"closed", "v.state = '" + VoteOpen + "' AND v.not_closed", errVoteClosed},
	{"in_room", "v.mode = '" + ModeOnline + "'", apperr.New(apperr.Conflict, "Ce vote se fait à main levée, en salle.")},
	{"ballot", "v.options = (v.b ->> 'options')::int", nil}, // no variant: v.b is NULL
	{"proxy", "v.proxy_ok", errProxyGone},
	{"not_allowed", "v.allowed", apperr.New(apperr.Forbidden, "Seuls les membres présents à la séance votent.")},
}

// errProxyGone answers a cast by a proxy that was revoked or fell (its giver
// came in person) meanwhile.
var errProxyGone = apperr.New(apperr.Conflict, "Cette procuration n'est plus valable (révoquée, ou son auteur·rice est venu·e voter) : le bulletin n'a pas été pris en compte.")

var errVoteClosed = apperr.New(apperr.Conflict, "Ce vote est clos : le bulletin n'a pas été pris en compte.")

// errCastUnexplained answers a cast the statement neither wrote nor refused:
// unreachable while castSQL is generated from castRules.
var errCastUnexplained = apperr.New(apperr.Conflict, "Le bulletin n'a pas pu être enregistré : rechargez la page et votez de nouveau.")

// castFacts is what the statement tells of one cast.
type castFacts struct {
	Refusal string     // the code of the first castRule that failed, "" if none
	Method  VoteMethod // the vote's
	Options int        // the vote's number of options
	Written bool
}

// castRefusal is the error a member hears for a cast refused with facts f.
func castRefusal(f *castFacts, b *Ballot) error {
	for _, r := range castRules {
		if r.code != f.Refusal {
			continue
		}
		if r.err != nil {
			return r.err
		}
		// The ballot's own rule: ValidateFor says which field, against the
		// vote as it is.
		if err := b.ValidateFor(&Vote{Method: f.Method, Options: make([]VoteOption, f.Options)}); err != nil {
			return err
		}
	}
	return errCastUnexplained
}

// isVoteClosedError reports the ballots_votes_open trigger's refusal: the vote
// was closed after the statement read it.
func isVoteClosedError(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23514" && strings.Contains(pgErr.Message, "ballot refused")
}

// castSQL casts a batch of ballots ($1: a JSON array of castRequest) and
// returns, for each cast whose vote exists in its council, the facts of
// castFacts. Its refusal is the CASE of castRules, and the INSERT writes only
// the rows none of them refused. Rows are written in (vote, member) order, so
// that two batches never wait for each other's rows in opposite orders.
//
// The votes are found by the array of the batch's vote ids, not by the join
// alone: the plan is generic (a prepared statement) and counts 100 rows for
// jsonb_to_recordset, for which it scanned the whole votes table into a hash
// (4,000 rows at scale 0.2, 20,000 at scale 1); an array estimates 10 ids and
// reads them through the index.
var castSQL = `WITH r AS (
		SELECT * FROM jsonb_to_recordset($1::jsonb) AS r (n int, council_id bigint, vote_id bigint, member_id bigint, by_id bigint, via text, variants jsonb)),
	v AS (
		SELECT r.n, r.member_id, nullif(r.by_id, 0) AS by_id, r.via, v.id, v.council_id, v.state, v.method, v.mode,
			v.closes_at IS NULL OR v.closes_at > clock_timestamp() AS not_closed,
			(SELECT count(*) FROM vote_options o WHERE o.vote_id = v.id AND o.council_id = v.council_id) AS options,
			CASE WHEN v.closes_at IS NULL
				THEN EXISTS (SELECT 1 FROM attendances a WHERE a.meeting_id = v.meeting_id AND a.council_id = v.council_id
					AND a.member_id = CASE WHEN r.via = '` + string(BallotByProxy) + `' THEN r.by_id ELSE r.member_id END
					AND a.status = '` + string(Present) + `')
				ELSE EXISTS (SELECT 1 FROM memberships m WHERE m.council_id = v.council_id AND m.account_id = r.member_id
					AND m.disabled_at IS NULL)
			END AS allowed,
			r.via <> '` + string(BallotByProxy) + `' OR (v.closes_at IS NULL AND EXISTS (SELECT 1 FROM proxies p
				WHERE p.meeting_id = v.meeting_id AND p.council_id = v.council_id AND p.giver_id = r.member_id
				AND p.holder_id = r.by_id AND p.state = '` + string(ProxyActive) + `' FOR SHARE)) AS proxy_ok,
			r.variants -> v.method AS b
		FROM r JOIN votes v ON v.id = r.vote_id AND v.council_id = r.council_id
		WHERE v.id = ANY (ARRAY(SELECT r.vote_id FROM r))),
	c AS (
		SELECT v.*, ` + castRefusalSQL() + ` AS refusal FROM v),
	ins AS (
		INSERT INTO ballots (council_id, vote_id, member_id, choice, reason, grades, cast_at, via, cast_by_id)
		SELECT c.council_id, c.id, c.member_id, c.b ->> 'choice', c.b ->> 'reason', (c.b ->> 'grades')::smallint[], clock_timestamp(),
			c.via, c.by_id
		FROM c
		WHERE c.refusal = ''
		ORDER BY c.id, c.member_id
		ON CONFLICT (vote_id, member_id) DO UPDATE SET choice = EXCLUDED.choice, reason = EXCLUDED.reason,
			grades = EXCLUDED.grades, cast_at = clock_timestamp(), changes = ballots.changes + 1,
			via = EXCLUDED.via, cast_by_id = EXCLUDED.cast_by_id
		RETURNING vote_id, member_id)
	SELECT c.n, c.refusal, c.method, c.options,
		EXISTS (SELECT 1 FROM ins WHERE ins.vote_id = c.id AND ins.member_id = c.member_id)
	FROM c`

// castRefusalSQL is the CASE that names the first of castRules to fail on
// the row v (empty when all hold; a NULL, such as a vote of no known method,
// fails).
func castRefusalSQL() string {
	var s strings.Builder
	s.WriteString("CASE")
	for _, r := range castRules {
		s.WriteString(" WHEN NOT coalesce(" + r.holds + ", false) THEN '" + r.code + "'")
	}
	s.WriteString(" ELSE '' END")
	return s.String()
}

// castBatch runs castSQL over reqs, distinct (vote, member) pairs, and tells
// each request its outcome. When the statement fails, for instance because a
// vote of the batch was closed meanwhile, each cast is tried alone so that the
// failure is told to its own ballot only.
func castBatch(ctx context.Context, db *bun.DB, reqs []*castRequest) []batch.Result[struct{}] {
	out := make([]batch.Result[struct{}], len(reqs))
	facts, err := runCast(ctx, db, reqs)
	if err != nil && len(reqs) > 1 {
		for i, r := range reqs {
			out[i] = castBatch(ctx, db, []*castRequest{r})[0]
		}
		return out
	}
	for i, r := range reqs {
		switch f := facts[i]; {
		case isVoteClosedError(err):
			out[i].Err = errVoteClosed
		case err != nil:
			out[i].Err = err
		case f == nil:
			out[i].Err = apperr.New(apperr.NotFound, "Vote introuvable.")
		case f.Written:
		case f.Refusal == "":
			out[i].Err = errCastUnexplained
		default:
			out[i].Err = castRefusal(f, r.ballot)
		}
	}
	return out
}

// runCast runs castSQL, one statement and one commit, and returns the facts
// of each request by position (nil: no such vote). It is the hot path of the
// writer: pgx's own connection, without database/sql's row conversions.
func runCast(ctx context.Context, db *bun.DB, reqs []*castRequest) ([]*castFacts, error) {
	facts := make([]*castFacts, len(reqs))
	batch, err := castBatchJSON(reqs)
	if err != nil {
		return facts, err
	}
	err = database.WithConn(ctx, db, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, castSQL, batch)
		if err != nil {
			return err
		}
		defer rows.Close()
		return scanCastFacts(rows, facts)
	})
	return facts, err
}

// queryer is what runCastOn runs its statement on: a transaction that
// writes more with the ballot (RecordPaperBallot).
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// runCastOn is runCast on q.
func runCastOn(ctx context.Context, q queryer, reqs []*castRequest) ([]*castFacts, error) {
	batch, err := castBatchJSON(reqs)
	if err != nil {
		return make([]*castFacts, len(reqs)), err
	}
	// A fixed SQL text with a bound parameter rather than bun's interpolation:
	// the driver prepares it once per connection.
	rows, err := q.QueryContext(ctx, castSQL, batch)
	if err != nil {
		return make([]*castFacts, len(reqs)), err
	}
	defer rows.Close()
	facts := make([]*castFacts, len(reqs))
	return facts, scanCastFacts(rows, facts)
}

// castBatchJSON numbers reqs by position and encodes them for castSQL's $1:
// the JSON that encoding/json would write from castRequest's tags
// (TestCastBatchJSON), without its reflection and its sorting of each
// ballot's variants, which were 4 % of the app's CPU in clabench's ballot
// line.
func castBatchJSON(reqs []*castRequest) (string, error) {
	b := make([]byte, 0, 192*len(reqs))
	b = append(b, '[')
	for i, r := range reqs {
		r.N = i
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"council_id":`...)
		b = strconv.AppendInt(b, r.CouncilID, 10)
		b = append(b, `,"vote_id":`...)
		b = strconv.AppendInt(b, r.VoteID, 10)
		b = append(b, `,"member_id":`...)
		b = strconv.AppendInt(b, r.MemberID, 10)
		b = append(b, `,"by_id":`...)
		b = strconv.AppendInt(b, r.ByID, 10)
		b = append(b, `,"via":`...)
		b = appendJSONString(b, string(r.Via))
		b = append(b, `,"variants":{`...)
		first := true
		for _, m := range castMethods {
			v, ok := r.Variants[m]
			if !ok {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendJSONString(b, string(m))
			b = append(b, `:{"options":`...)
			b = strconv.AppendInt(b, int64(v.Options), 10)
			b = append(b, `,"choice":`...)
			b = appendJSONString(b, string(v.Choice))
			b = append(b, `,"reason":`...)
			b = appendJSONString(b, v.Reason)
			b = append(b, `,"grades":`...)
			b = appendJSONString(b, v.Grades)
			b = append(b, '}')
		}
		b = append(b, `},"n":`...)
		b = strconv.AppendInt(b, int64(r.N), 10)
		b = append(b, '}')
	}
	b = append(b, ']')
	return string(b), nil
}

// castMethods are the methods a ballot has a variant for, in the order
// castBatchJSON writes them (encoding/json's: sorted). newCastRequestBy makes
// its variants from this same list, so that none is left out of the JSON.
var castMethods = []VoteMethod{MethodConsent, MethodJudgment, MethodMajority}

// appendJSONString appends s as a JSON string, as encoding/json reads it
// back: quotes, backslashes and control characters escaped, each byte of
// invalid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// scanCastFacts reads castSQL's rows into facts, by the position each names.
func scanCastFacts(rows database.RowScanner, facts []*castFacts) error {
	for rows.Next() {
		var n int
		f := new(castFacts)
		if err := rows.Scan(&n, &f.Refusal, &f.Method, &f.Options, &f.Written); err != nil {
			return err
		}
		if n >= 0 && n < len(facts) {
			facts[n] = f
		}
	}
	return rows.Err()
}

// CastBallot records (or replaces) a member's ballot in an open online vote,
// in a statement of its own. During a meeting only members marked present
// vote; a vote with a time window (closes_at) is open to every active member
// until it ends. Handlers cast through a BallotWriter instead.
func CastBallot(ctx context.Context, db *bun.DB, councilID, voteID, memberID int64, b *Ballot) error {
	return castBatch(ctx, db, []*castRequest{newCastRequest(councilID, voteID, memberID, b)})[0].Err
}

// BallotWriter casts ballots as CastBallot does, writing the casts that arrive
// together in one statement and one commit (a group commit): under load, one
// write and one disk flush serve many members. Each Cast returns once its batch
// has committed, so an acknowledged ballot is on disk.
type BallotWriter struct {
	group batch.Group[*castRequest, struct{}]
}

// NewBallotWriter returns a writer over db.
func NewBallotWriter(db *bun.DB) *BallotWriter {
	w := &BallotWriter{}
	w.group.Run = func(ctx context.Context, reqs []*castRequest) []batch.Result[struct{}] {
		return castBatch(ctx, db, reqs)
	}
	// One batch at a time, and a member's second cast in the same vote in a
	// later batch (a statement writes a row once): the later ballot wins. Two
	// batches at a time (Flushers: 2) were measured and dropped: in clabench
	// (fsync on) 3,003 ballots/s against 3,068 with one, and 0.34 ms of
	// PostgreSQL CPU per ballot against 0.25 (smaller batches, and two
	// transactions sharing the vote row's FOR SHARE lock make a multixact).
	w.group.Key = func(r *castRequest) any { return [2]int64{r.VoteID, r.MemberID} }
	// During a vote, a batch waits up to 1 ms for as many casts as the last
	// one held: a cast statement costs PostgreSQL ≈ 1.1 ms whatever its size,
	// and without waiting clabench's batches held about 13 of 32 members.
	// Measured: 4,687–5,248 ballots/s against 4,468–4,549, and 0.12–0.14 ms
	// of PostgreSQL CPU per ballot against 0.15 (docs/perf.md).
	w.group.Linger = time.Millisecond
	return w
}

// Cast records (or replaces) a member's ballot; see CastBallot for the rules.
// When ctx ends first, the ballot may still be written: casting again is safe,
// as it replaces the ballot.
func (w *BallotWriter) Cast(ctx context.Context, councilID, voteID, memberID int64, b *Ballot) error {
	_, err := w.group.Do(ctx, newCastRequest(councilID, voteID, memberID, b))
	return err
}

// CastAs records (or replaces) the ballot of memberID cast by byID: as the
// holder of the member's proxy (BallotByProxy) or, for a member present
// without a phone, by the facilitator from their paper ballot (BallotOnPaper).
// The rules are CastBallot's, plus castRules' "proxy" for a proxy.
func (w *BallotWriter) CastAs(ctx context.Context, councilID, voteID, memberID, byID int64, via BallotVia, b *Ballot) error {
	if via != BallotByProxy && via != BallotOnPaper {
		return apperr.New(apperr.Invalid, "Bulletin inconnu.")
	}
	_, err := w.group.Do(ctx, newCastRequestBy(councilID, voteID, memberID, byID, via, b))
	return err
}

func pgArray(g []int16) string {
	var s strings.Builder
	s.WriteByte('{')
	for i, x := range g {
		if i > 0 {
			s.WriteByte(',')
		}
		s.WriteString(strconv.Itoa(int(x)))
	}
	s.WriteByte('}')
	return s.String()
}
