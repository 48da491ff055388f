package assembly

// ShareAgenda turns the agenda rendered once per meeting and role on or off
// (on by default), for the test comparing both renderings.
func ShareAgenda(on bool) { agendaShared.Store(on) }
