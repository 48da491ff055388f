package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/audit"
	"cla/internal/testdb"
	"cla/internal/text"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func TestChainVerifiesAndNamesTheTamperedEntry(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	actor := int64(7)
	for i, status := range []string{"conventionne", "sous_conditions", "non_conventionne"} {
		e := audit.Entry{ActorID: &actor, ActorName: "Camille", Action: "register_item.status", ObjectType: "register_item", ObjectID: "riz", Summary: "Statut modifié"}
		if err := audit.Record(ctx, db, e, map[string]string{"status": "debat_souhaite"}, map[string]string{"status": status}); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	n, err := audit.Verify(ctx, db)
	if err != nil || n != 3 {
		t.Fatalf("verify an intact chain: %d entries, %v", n, err)
	}

	// The application cannot rewrite history…
	if _, err := db.ExecContext(ctx, "UPDATE audit_log SET summary = 'x'"); err == nil {
		t.Fatal("UPDATE of the audit trail was accepted")
	}
	// …and when someone with the rights does, verify names the row.
	var second int64
	if err := db.NewRaw("SELECT id FROM audit_log ORDER BY id OFFSET 1 LIMIT 1").Scan(ctx, &second); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update;
		UPDATE audit_log SET after_json = '{"status":"conventionne"}' WHERE id = ?;
		ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update`, second); err != nil {
		t.Fatal(err)
	}
	_, err = audit.Verify(ctx, db)
	var broken *audit.BrokenLinkError
	if !errors.As(err, &broken) || broken.ID != second {
		t.Fatalf("verify after tampering with entry %d: %v", second, err)
	}
}

func TestConcurrentAppendsKeepOneChain(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		go func() {
			errs <- audit.Record(ctx, db, audit.Entry{Action: "test", ObjectType: "test"}, nil, nil)
		}()
	}
	for i := 0; i < 20; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n, err := audit.Verify(ctx, db); err != nil || n != 20 {
		t.Fatalf("verify after concurrent appends: %d, %v", n, err)
	}
}

// hostile is text no edge check has seen: what a command, a job or a future
// endpoint might hand to Record.
var hostile = []string{
	"Epicerie\x00Nul", "\xed\xa0\x80 surrogate", "caf\xe9 \xff\xfe", "ligne\r\nsuite\rfin", "e\u0301te\u0301",
	"\u202egnp.exe\u202c", "\u2066isolé\u2069", "\x1b[31m\x7f\u0085", `"quote" \ back`, "",
}

// Whatever text it is given, Record stores and hashes the same normalised
// string, so the chain verifies.
func TestHostileTextKeepsTheChainVerifiable(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	for i, s := range hostile {
		e := audit.Entry{ActorName: s, Action: "test." + s, ObjectType: "t" + s, ObjectID: s, Summary: s}
		if err := audit.Record(ctx, db, e, map[string]string{s: s}, []any{s, i, map[string]any{"nested": s}}); err != nil {
			t.Fatalf("record %q: %v", s, err)
		}
	}
	n, err := audit.Verify(ctx, db)
	if err != nil || n != len(hostile) {
		t.Fatalf("verify: %d entries, %v", n, err)
	}
	var rows []audit.Entry
	if err := db.NewSelect().Model(&rows).Order("id").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	for i, e := range rows {
		if want := text.Normalize(hostile[i]); e.Summary != want || e.ActorName != want || e.ObjectID != want {
			t.Errorf("entry %d stores %q, want %q", i, e.Summary, want)
		}
		var before map[string]string
		var after []any
		if err := json.Unmarshal([]byte(e.BeforeJSON), &before); err != nil {
			t.Errorf("entry %d: before_json %q: %v", i, e.BeforeJSON, err)
		}
		if err := json.Unmarshal([]byte(e.AfterJSON), &after); err != nil {
			t.Errorf("entry %d: after_json %q: %v", i, e.AfterJSON, err)
		}
		if !text.IsNormal(e.BeforeJSON) || !text.IsNormal(e.AfterJSON) {
			t.Errorf("entry %d: JSON not normalised: %q", i, e.AfterJSON)
		}
	}
}

// record appends n entries and returns their ids.
func record(t *testing.T, db *bun.DB, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		if err := audit.Record(ctx, db, audit.Entry{ActorName: "Camille", Action: "test", ObjectType: "test",
			Summary: fmt.Sprintf("Entrée %d", i)}, nil, map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	var ids []int64
	if err := db.NewSelect().Table("audit_log").Column("id").Order("id").Scan(ctx, &ids); err != nil {
		t.Fatal(err)
	}
	return ids
}

// tamper runs sql with the append-only trigger off, as someone with the
// database's owner rights could.
func tamper(t *testing.T, db *bun.DB, sql string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(context.Background(), "ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update"); err != nil {
		t.Fatal(err)
	}
}

func problems(r *audit.Report) []string {
	var out []string
	for _, p := range r.Problems {
		out = append(out, fmt.Sprintf("%s %d", p.Kind, p.ID))
	}
	return out
}

// An edit in the middle does not hide a later one: both are named.
func TestCheckNamesEveryEditedEntry(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ids := record(t, db, 6)
	tamper(t, db, "UPDATE audit_log SET summary = 'Entrée corrigée' WHERE id = ?", ids[1])
	tamper(t, db, `UPDATE audit_log SET after_json = '{"n":99}' WHERE id = ?`, ids[4])
	r, err := audit.Check(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{fmt.Sprintf("changed %d", ids[1]), fmt.Sprintf("changed %d", ids[4])}
	if got := problems(r); fmt.Sprint(got) != fmt.Sprint(want) || r.Entries != 6 {
		t.Errorf("problems %v (%d entries), want %v", got, r.Entries, want)
	}
	n, err := audit.Verify(context.Background(), db)
	var broken *audit.BrokenLinkError
	if n != 6 || !errors.As(err, &broken) || broken.ID != ids[1] || !strings.Contains(err.Error(), fmt.Sprintf("entry %d", ids[4])) {
		t.Errorf("Verify: %d, %v", n, err)
	}
}

// A deleted entry in the middle breaks the link of the one after it.
func TestCheckFindsADeletedMiddleEntry(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ids := record(t, db, 5)
	tamper(t, db, "DELETE FROM audit_log WHERE id = ?", ids[2])
	r, err := audit.Check(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := problems(r); len(got) != 1 || got[0] != fmt.Sprintf("unlinked %d", ids[3]) || r.Problems[0].PrevID != ids[1] {
		t.Errorf("problems %v, want entry %d unlinked from %d", got, ids[3], ids[1])
	}
	// So is a deleted first entry.
	tamper(t, db, "DELETE FROM audit_log WHERE id = ?", ids[0])
	r, _ = audit.Check(context.Background(), db, nil)
	if got := problems(r); len(got) != 2 || got[0] != fmt.Sprintf("unlinked %d", ids[1]) {
		t.Errorf("after deleting the first entry: %v", got)
	}
}

// Deleting the last entries leaves a sound chain; the published head finds it.
func TestCheckFindsADeletedLastEntryAgainstThePublishedHead(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	ids := record(t, db, 4)
	pub, err := audit.Publish(ctx, db, time.Now().AddDate(0, 0, 2))
	if err != nil {
		t.Fatal(err)
	}
	if pub.Head == nil || pub.Head.ID != ids[3] || len(pub.Days) != 2 || pub.Days[0].ID != ids[3] || pub.Days[1].Day != time.Now().UTC().Format(time.DateOnly) {
		t.Fatalf("published %+v", pub)
	}
	doc, _ := json.Marshal(pub)
	heads, err := audit.ParsePublished(doc, "head.json")
	if err != nil || len(heads) != 3 {
		t.Fatalf("parse %s: %v %v", doc, heads, err)
	}
	if r, err := audit.Check(ctx, db, heads); err != nil || len(r.Problems) != 0 {
		t.Fatalf("sound trail against its own head: %v %v", err, problems(r))
	}

	tamper(t, db, "DELETE FROM audit_log WHERE id = ?", ids[3])
	if n, err := audit.Verify(ctx, db); err != nil || n != 3 {
		t.Fatalf("the chain alone cannot see it: %d %v", n, err)
	}
	r, err := audit.Check(ctx, db, heads)
	if err != nil {
		t.Fatal(err)
	}
	if got := problems(r); len(got) != 1 || got[0] != fmt.Sprintf("truncated %d", ids[3]) {
		t.Errorf("problems %v, want the end of the trail deleted", got)
	}

	// A head whose entry is there with another hash: rewritten history.
	wrong := []audit.Expected{{ID: ids[1], Hash: make([]byte, 32), Source: "--expect-head"}}
	r, _ = audit.Check(ctx, db, wrong)
	if got := problems(r); len(got) != 1 || got[0] != fmt.Sprintf("head_mismatch %d", ids[1]) {
		t.Errorf("problems %v, want a head mismatch", got)
	}
	if _, err := audit.ParsePublished([]byte(`{"head":{"id":1,"hash":"zz"}}`), "x"); err == nil {
		t.Error("a malformed hash was accepted")
	}
}

// The subject's name (migration 0030) is part of the hash: an entry naming
// someone verifies, and renaming them in the stored entry is found.
func TestSubjectNameIsHashed(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	ids := record(t, db, 1)
	e := audit.Actor{AccountID: 3, Name: "Karim"}.Entry(nil, "argument.hide", "argument", "9", "Argument masqué : Hors sujet").About("Lucas")
	if err := audit.Record(ctx, db, e, nil, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := audit.Verify(ctx, db); err != nil || n != 2 {
		t.Fatalf("verify with a subject: %d %v", n, err)
	}
	tamper(t, db, "UPDATE audit_log SET subject_name = 'Paul' WHERE id > ?", ids[0])
	r, err := audit.Check(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := problems(r); len(got) != 1 || !strings.HasPrefix(got[0], "changed ") {
		t.Errorf("a renamed subject: problems %v", got)
	}
}
