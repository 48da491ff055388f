package member

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"cla/internal/audit"
	"cla/internal/text"
)

// The audit trail reads as French sentences (issue 20, point 7): who did what,
// then what changed, field by field, with French names; never raw JSON or Go
// field names. The entries themselves are unchanged (they are hashed): this is
// only how the page words them.

// auditObjectLabels names the object types in French, for the filter and the
// "Objet" column. An unknown type is shown as it is stored.
var auditObjectLabels = map[string]string{
	"account":           "Compte",
	"argument":          "Argument",
	"boussole_version":  "Version de la boussole",
	"charter":           "Charte d'engagement",
	"council":           "Conseil",
	"debate":            "Débat",
	"debate_suggestion": "Sujet de débat proposé",
	"decision":          "Décision",
	"invitation":        "Invitation",
	"member":            "Membre",
	"proposal":          "Proposition",
	"register_item":     "Élément du registre",
	"register_version":  "Version du registre",
	"shop":              "Point de vente",
	"shop_application":  "Candidature d'un point de vente",
	"vote":              "Vote",
	"meeting":           "Séance",
	"webhook_endpoint":  "Intégration",
}

// auditVerbs says each action as the end of a sentence whose subject is the
// person who acted.
var auditVerbs = map[string]string{
	"account.password_change":  "a changé son mot de passe",
	"account.password_link":    "a créé un lien de mot de passe",
	"application.propose":      "a transformé une candidature en proposition",
	"application.state":        "a changé l'état d'une candidature",
	"argument.hide":            "a masqué un argument",
	"argument.show":            "a de nouveau affiché un argument",
	"boussole.version":         "a publié une version de la boussole",
	"charter.publish":          "a publié la charte d'engagement",
	"convention.settings":      "a réglé la durée des conventions",
	"council.create":           "a créé le conseil",
	"council.hosts":            "a changé les adresses du conseil",
	"council.import":           "a importé des données dans le conseil",
	"council.settings":         "a changé les réglages du conseil",
	"council.state":            "a changé l'état du conseil",
	"debate.edit":              "a modifié un débat",
	"debate.state":             "a changé l'état d'un débat",
	"debate_suggestion.review": "a relu un sujet de débat proposé",
	"decision.record":          "a enregistré une décision",
	"member.invite":            "a invité une personne",
	"member.join":              "a rejoint le conseil",
	"member.role":              "a changé le rôle d'un membre",
	"member.disable":           "a désactivé un membre",
	"member.enable":            "a réactivé un membre",
	"member.term":              "a fixé la fin d'un mandat",
	"member.term_end":          "a clos un mandat arrivé à son terme",
	"proposal.create":          "a créé une proposition",
	"proposal.score":           "a évalué une proposition",
	"proposal.transition":      "a fait avancer une proposition",
	"register.import":          "a importé le registre",
	"register.version":         "a publié une version du registre",
	"register_item.create":     "a ajouté un élément au registre",
	"register_item.status":     "a changé le statut d'un élément du registre",
	"register_item.wording":    "a corrigé la rédaction d'un élément du registre",
	"shop_products.add":        "a ajouté des produits à la liste d'un point de vente",
	"shop_products.remove":     "a retiré un produit de la liste d'un point de vente",
	"odoo.link":                "a lié un point de vente à son partenaire Odoo",
	"odoo.unlink":              "a délié un point de vente de son partenaire Odoo",
	"shop.candidate":           "a inscrit un point de vente candidat",
	"vote.close":               "a clos un vote",
	"vote.count":               "a saisi le décompte d'un vote à main levée",
	"vote.correct":             "a corrigé le décompte d'un vote avant publication",
	"vote.open":                "a ouvert un vote",
}

// auditVerbsAbout says the actions that act on someone's content or person
// with that person named (issue 20, point 7): "a masqué un argument de
// Lucas Morel". The name is the entry's SubjectName, stored when the entry
// was written (see docs/decisions.md).
var auditVerbsAbout = map[string]func(who string) string{
	"argument.hide":         func(who string) string { return "a masqué un argument " + text.De(who) },
	"argument.show":         func(who string) string { return "a de nouveau affiché un argument " + text.De(who) },
	"member.role":           func(who string) string { return "a changé le rôle " + text.De(who) },
	"member.disable":        func(who string) string { return "a désactivé le compte " + text.De(who) },
	"member.enable":         func(who string) string { return "a réactivé le compte " + text.De(who) },
	"member.term_end":       func(who string) string { return "a clos le mandat " + text.De(who) },
	"member.term":           func(who string) string { return "a fixé la fin du mandat " + text.De(who) },
	"account.password_link": func(who string) string { return "a créé un lien de mot de passe pour " + who },
	"proposal.transition":   func(who string) string { return "a fait avancer une proposition " + text.De(who) },
}

// auditFieldLabels names the fields of the before/after states in French.
var auditFieldLabels = map[string]string{
	"name": "Nom", "Name": "Nom", "title": "Titre", "Title": "Titre", "status": "Statut", "Status": "Statut",
	"state": "État", "State": "État", "reason": "Raison", "Reason": "Raison", "conditions": "Conditions",
	"Conditions": "Conditions", "explanation": "Explication", "ExplanationMD": "Explication", "explanation_md": "Explication",
	"MotivationMD": "Motivation", "motivation_md": "Motivation", "role": "Rôle", "Role": "Rôle", "email": "Adresse e-mail",
	"Email": "Adresse e-mail", "review_on": "À réexaminer le", "ReviewOn": "À réexaminer le", "question": "Question",
	"Question": "Question", "outcome": "Décision", "Outcome": "Décision", "synthesis_md": "Synthèse", "SynthesisMD": "Synthèse",
	"conclusion_md": "Conclusion", "ConclusionMD": "Conclusion", "context_md": "Contexte", "ContextMD": "Contexte",
	"version": "Version", "Version": "Version", "effective_on": "En vigueur le", "EffectiveOn": "En vigueur le",
	"slug": "Adresse de la page", "Slug": "Adresse de la page", "note": "Note", "Note": "Note", "items": "Éléments",
	"months": "Durée (mois)", "hosts": "Adresses", "method": "Méthode", "Method": "Méthode", "threshold": "Seuil",
	"Threshold": "Seuil", "commune": "Commune", "Commune": "Commune", "kind": "Type", "Kind": "Type",
}

// auditChange is one field that changed.
type auditChange struct {
	Field, Before, After string
}

// auditSentence words an entry: "Karim Benali a masqué un argument : Propos
// hors sujet".
func auditSentence(e audit.Entry) (actor, rest string) {
	actor = e.ActorName
	if actor == "" {
		actor = "La plateforme"
	}
	verb, ok := auditVerbs[e.Action]
	about, named := auditVerbsAbout[e.Action]
	if named && e.SubjectName != "" {
		verb, ok = about(e.SubjectName), true
	}
	if !ok {
		return actor, "— " + e.Summary
	}
	// "Argument masqué : Propos hors sujet" restates the verb before its
	// colon: keep what follows. "Rôle d'Alix : …" names someone: keep it
	// all, unless the verb names them already ("Désactivation de Lucas
	// Morel" says nothing more than "a désactivé le compte de Lucas Morel").
	detail := e.Summary
	before, after, found := strings.Cut(detail, " : ")
	switch {
	case found && (restates(before) || e.SubjectName != "" && named && strings.Contains(before, e.SubjectName)):
		detail = after
	case !found && e.SubjectName != "" && named && strings.Contains(detail, e.SubjectName):
		detail = ""
	}
	if detail == "" {
		return actor, verb
	}
	return actor, verb + " : " + detail
}

// restates reports whether the start of a summary is a short generic phrase
// ("Argument masqué"): at most four words, no capital after the first letter.
func restates(s string) bool {
	if len(strings.Fields(s)) > 4 {
		return false
	}
	for i, r := range s {
		if i > 0 && unicode.IsUpper(r) {
			return false
		}
	}
	return true
}

// auditObjectLabel is the object type in French.
func auditObjectLabel(t string) string {
	if l, ok := auditObjectLabels[t]; ok {
		return l
	}
	return t
}

// auditChanges compares the before and after states field by field, in
// French, leaving out rendered HTML and hashes (their source is shown).
func auditChanges(before, after string) []auditChange {
	b, a := auditFields(before), auditFields(after)
	keys := map[string]bool{}
	for k := range b {
		keys[k] = true
	}
	for k := range a {
		keys[k] = true
	}
	var out []auditChange
	for k := range keys {
		lk := strings.ToLower(k)
		if strings.HasSuffix(lk, "html") || strings.HasSuffix(lk, "hash") || lk == "id" || strings.HasSuffix(lk, "_id") || strings.HasSuffix(k, "ID") {
			continue
		}
		bv, av := auditValue(b[k]), auditValue(a[k])
		if bv == av {
			continue
		}
		out = append(out, auditChange{Field: auditFieldLabel(k), Before: bv, After: av})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// auditFields reads a state: a JSON object's fields, or the whole value as
// one field.
func auditFields(s string) map[string]any {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err == nil {
		return m
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err == nil {
		return map[string]any{"valeur": v}
	}
	return map[string]any{"valeur": s}
}

// auditFieldLabel names a field in French, or turns an unknown name into
// words ("target_item" and "TargetItem" both read "Target item").
func auditFieldLabel(k string) string {
	if l, ok := auditFieldLabels[k]; ok {
		return l
	}
	if k == "valeur" {
		return "Valeur"
	}
	var b strings.Builder
	prevLower := false
	for i, r := range k {
		switch {
		case r == '_' || r == '.':
			b.WriteRune(' ')
			prevLower = false
			continue
		case unicode.IsUpper(r) && prevLower:
			b.WriteRune(' ')
		}
		if i == 0 {
			b.WriteRune(unicode.ToUpper(r))
		} else {
			b.WriteRune(unicode.ToLower(r))
		}
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
	}
	return b.String()
}

// auditValue writes a value for a person: "—" for nothing, Oui/Non, lists
// joined, objects as "clé : valeur" pairs.
func auditValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case string:
		if x == "" {
			return "—"
		}
		return x
	case bool:
		if x {
			return "Oui"
		}
		return "Non"
	case float64:
		if x == float64(int64(x)) {
			return fmt.Sprintf("%d", int64(x))
		}
		return fmt.Sprintf("%g", x)
	case []any:
		if len(x) == 0 {
			return "—"
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = auditValue(e)
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			if strings.HasSuffix(strings.ToLower(k), "html") {
				continue
			}
			parts = append(parts, auditFieldLabel(k)+" : "+auditValue(x[k]))
		}
		return strings.Join(parts, " ; ")
	}
	return fmt.Sprint(v)
}
