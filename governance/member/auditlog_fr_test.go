package member

import (
	"strings"
	"testing"

	"cla/internal/audit"
)

func TestAuditReadsAsFrench(t *testing.T) {
	actor, rest := auditSentence(audit.Entry{ActorName: "Karim Benali", Action: "argument.hide", Summary: "Argument masqué : Propos hors sujet"})
	if got := actor + " " + rest; got != "Karim Benali a masqué un argument : Propos hors sujet" {
		t.Errorf("sentence %q", got)
	}
	_, rest = auditSentence(audit.Entry{ActorName: "Hélène Roux", Action: "member.role", Summary: "Rôle d'Alix : Membre du CLA → Animateur·ice"})
	if !strings.Contains(rest, "Rôle d'Alix") {
		t.Errorf("a summary naming someone lost its start: %q", rest)
	}
	// With the subject stored in the entry, the sentence names them.
	actor, rest = auditSentence(audit.Actor{Name: "Hélène Roux"}.Entry(nil, "member.role", "member", "3", "Rôle d'Alix Martin : Membre du CLA → Animateur·ice").About("Alix Martin"))
	if got := actor + " " + rest; got != "Hélène Roux a changé le rôle d'Alix Martin : Membre du CLA → Animateur·ice" {
		t.Errorf("sentence %q", got)
	}
	_, rest = auditSentence(audit.Actor{Name: "Karim Benali"}.Entry(nil, "member.disable", "member", "3", "Désactivation de Lucas Morel").About("Lucas Morel"))
	if rest != "a désactivé le compte de Lucas Morel" {
		t.Errorf("sentence %q", rest)
	}
	_, rest = auditSentence(audit.Actor{Name: "Karim Benali"}.Entry(nil, "argument.hide", "argument", "3", "Argument masqué : Doublon").About("Karim Benali"))
	if rest != "a masqué un argument : Doublon" {
		t.Errorf("acting on one's own content names no one: %q", rest)
	}
	changes := auditChanges(`{"Name":"Riz","Status":"debat_souhaite","MotivationHTML":"<p>x</p>","Reason":""}`,
		`{"Name":"Riz","Status":"sous_conditions","MotivationHTML":"<p>y</p>","Reason":"Local","target_item":true}`)
	var got []string
	for _, c := range changes {
		got = append(got, c.Field+": "+c.Before+" → "+c.After)
	}
	want := "Raison: — → Local | Statut: debat_souhaite → sous_conditions | Target item: — → Oui"
	if strings.Join(got, " | ") != want {
		t.Errorf("changes\n %s\nwant\n %s", strings.Join(got, " | "), want)
	}
	if auditObjectLabel("register_item") != "Élément du registre" {
		t.Error("object type not in French")
	}
}
