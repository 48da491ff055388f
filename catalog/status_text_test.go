package catalog_test

import (
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"cla/catalog"
)

// statusText is the text a change to one status carries: what belongs to
// that status only and must never stand beside another one.
type statusText struct {
	conditions, reason, explanation string
}

var riceTexts = map[catalog.Status]statusText{
	catalog.Conventionne:    {explanation: "Le riz de Camargue complète le panier : conventionné après débat."},
	catalog.SousConditions:  {conditions: "Riz biologique de Camargue, en vrac seulement.", explanation: "Conventionné à l'essai, le temps de trouver une filière locale."},
	catalog.NonConventionne: {reason: "Le riz vient de trop loin pour les critères locaux.", explanation: "Le Conseil a préféré les céréales de la Drôme."},
	catalog.DebatSouhaite:   {explanation: "Le Conseil rouvre le débat sur le riz."},
}

// markers are the sentences of a status: its texts, and for débat souhaité
// the demo's own explanation of the rice.
func markers(s catalog.Status) []string {
	t := riceTexts[s]
	var out []string
	for _, x := range []string{t.conditions, t.reason, t.explanation} {
		if x != "" {
			out = append(out, x)
		}
	}
	if s == catalog.DebatSouhaite {
		out = append(out, "n'a pas encore eu le temps de traiter ce sujet")
	}
	return out
}

var itemHistory = regexp.MustCompile(`(?s)<ol class="history" data-testid="item-history">.*?</ol>`)

// Every status change of an item, with and without its own explanation: no
// page and no JSON shows a sentence written for another status beside the
// new one (issue 20, point 2), and shop pages and posters state conditions,
// not exceptions, when the item is allowed under conditions.
func TestStatusChangeNeverShowsAnotherStatusText(t *testing.T) {
	t.Parallel()
	app, db, councilID := newApp(t)
	statuses := catalog.Statuses
	// Every ordered pair (from, to): move to from when needed, then to to.
	var walk []catalog.Status
	cur := catalog.DebatSouhaite
	for _, from := range statuses {
		for _, to := range statuses {
			if from == to {
				continue
			}
			if cur != from {
				walk = append(walk, from)
			}
			walk = append(walk, to)
			cur = to
		}
	}
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, to := range walk {
		txt := riceTexts[to]
		ic := catalog.ItemChange{Slug: "riz-de-camargue", Status: to, Conditions: txt.conditions, Reason: txt.reason}
		// Every other change carries its explanation; the others carry none.
		withExpl := i%2 == 0
		if withExpl {
			ic.ExplanationMD = txt.explanation
		}
		v, err := applyInTx(t, db, councilID, catalog.Change{EffectiveOn: day.AddDate(0, 0, i), Summary: fmt.Sprintf("Riz : %s", to.Label()),
			Items: []catalog.ItemChange{ic}}, catalog.DecisionRef{Ref: fmt.Sprintf("decision:%d", 100+i), Title: "Décision sur le riz"})
		if err != nil {
			t.Fatalf("change %d to %s: %v", i, to, err)
		}
		label := html.EscapeString(to.Label())
		pages := map[string]string{
			"item": waitFor(t, app, "/registre/riz-de-camargue", func(r *httpResult) bool {
				return strings.Contains(r.body, `<p class="item-status"><span class="status status-`+string(to)+`">`)
			}).body,
			"lookup": waitFor(t, app, "/puis-je-acheter?q=riz", func(r *httpResult) bool {
				return strings.Contains(r.body, `status-`+string(to)+`">`+label)
			}).body,
			"shop": waitFor(t, app, "/points-de-vente/fournil-des-cometes", func(r *httpResult) bool {
				return strings.Contains(r.body, fmt.Sprintf("Version %d en vigueur", v.Number))
			}).body,
			"poster": waitFor(t, app, "/points-de-vente/fournil-des-cometes/affiche", func(r *httpResult) bool {
				return strings.Contains(r.body, fmt.Sprintf("version %d", v.Number)) || strings.Contains(r.body, fmt.Sprintf("Version %d", v.Number))
			}).body,
		}
		// The history lists every past status with its own texts, by design.
		pages["item"] = itemHistory.ReplaceAllString(pages["item"], "")
		api := waitFor(t, app, "/api/v1/register", func(r *httpResult) bool {
			return strings.Contains(r.body, fmt.Sprintf(`"version":%d,`, v.Number))
		}).body
		snap := decodeSnapshot(t, api)
		for _, it := range snap.Items {
			if it.Slug == "riz-de-camargue" {
				b, _ := json.Marshal(it)
				pages["api"] = string(b)
			}
		}
		for name, body := range pages {
			body = html.UnescapeString(body)
			for _, other := range statuses {
				if other == to {
					continue
				}
				for _, m := range markers(other) {
					if strings.Contains(body, html.UnescapeString(m)) {
						t.Errorf("change %d (%s, explanation given: %v): %s shows %q, written for %s", i, to, withExpl, name, m, other)
					}
				}
			}
		}
		if withExpl && !strings.Contains(html.UnescapeString(pages["item"]), txt.explanation) {
			t.Errorf("change %d (%s): the item page lacks the explanation given with the change", i, to)
		}
		shop, poster := html.UnescapeString(stripTags(pages["shop"])), html.UnescapeString(stripTags(pages["poster"]))
		switch to {
		case catalog.SousConditions:
			if strings.Contains(shop, "Sauf : Riz") || !strings.Contains(shop, "Sous conditions : Riz de Camargue — "+txt.conditions) {
				t.Errorf("change %d: the shop page does not state the rice's conditions", i)
			}
			if strings.Contains(poster, "sauf Riz") || !strings.Contains(poster, txt.conditions) {
				t.Errorf("change %d: the poster does not state the rice's conditions", i)
			}
			if !strings.Contains(html.UnescapeString(pages["item"]), "fournil-des-cometes") {
				t.Errorf("change %d: the rice page does not name the shop the shop page allows it at", i)
			}
		case catalog.NonConventionne, catalog.DebatSouhaite:
			if !strings.Contains(shop, "Sauf : Riz de Camargue") || !strings.Contains(poster, "sauf Riz de Camargue") {
				t.Errorf("change %d (%s): the shop page or poster does not except the rice", i, to)
			}
		}
	}
}
