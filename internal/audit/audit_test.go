package audit_test

import (
	"context"
	"errors"
	"testing"

	"cla/internal/audit"
	"cla/internal/testdb"
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
