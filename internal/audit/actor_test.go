package audit_test

import (
	"testing"

	"cla/internal/audit"
	"cla/internal/authz"
)

// An actor's entry names its account, or the system when it has no name; an
// anonymous actor has no account id.
func TestActorEntryNamesTheActorOrTheSystem(t *testing.T) {
	council := int64(3)
	a := audit.Actor{AccountID: 42, Name: "Karim", Role: authz.Facilitator}
	e := a.Entry(&council, "vote.open", "vote", "9", "Vote ouvert")
	if e.ActorID == nil || *e.ActorID != 42 || e.ActorName != "Karim" || e.CouncilID != &council ||
		e.Action != "vote.open" || e.ObjectType != "vote" || e.ObjectID != "9" || e.Summary != "Vote ouvert" {
		t.Errorf("entry %+v", e)
	}
	// The id is a copy: changing the actor afterwards changes nothing recorded.
	a.AccountID = 7
	if *e.ActorID != 42 {
		t.Error("the entry shares the actor's id")
	}
	sys := audit.Actor{}.Entry(nil, "account.password_link", "member", "5", "Lien envoyé")
	if sys.ActorID != nil || sys.ActorName != "système" || sys.CouncilID != nil {
		t.Errorf("system entry %+v", sys)
	}
	if (audit.Actor{Name: "Passant"}).NullableID() != nil {
		t.Error("an actor without an account has an id")
	}
}
