package audit

import "cla/internal/authz"

// Actor is who acts: an account with its role in the request's council, as
// the audit trail names it. The zero Actor is an anonymous visitor or the
// system.
type Actor struct {
	AccountID int64
	Name      string
	Role      authz.Role
}

// NullableID is the actor's account id for nullable author columns: nil when
// there is no account.
func (a Actor) NullableID() *int64 {
	if a.AccountID == 0 {
		return nil
	}
	id := a.AccountID
	return &id
}

// Entry is an entry of the trail made by the actor ("système" when it has no
// name). councilID is nil for an account's own events.
func (a Actor) Entry(councilID *int64, action, objectType, objectID, summary string) Entry {
	e := Entry{CouncilID: councilID, ActorID: a.NullableID(), ActorName: a.Name, Action: action, ObjectType: objectType, ObjectID: objectID, Summary: summary}
	if e.ActorName == "" {
		e.ActorName = "système"
	}
	return e
}

// About names the person the entry's action is about (the author of the
// argument hidden, the member whose role changed), as the trail shows them:
// "Karim Benali a masqué un argument de Lucas Morel". Their name at the time
// is stored in the entry (and hashed with it), so the sentence never changes
// afterwards. Naming the actor themself names no one.
func (e Entry) About(name string) Entry {
	if name != e.ActorName {
		e.SubjectName = name
	}
	return e
}
