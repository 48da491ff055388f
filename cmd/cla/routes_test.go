package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/demo"
	"cla/governance/instance"
	"cla/internal/audit"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/webtest"
)

// The route-walk authorization suite: every route registered on the real app is
// requested by five personas and must answer what the table below says. A route
// without a row fails the suite, so a new route cannot ship without deciding
// who may use it.

// Personas, in the order of routeCase.want.
const (
	anon    = iota // anonymous visitor
	memberA        // member of council A (the demo council, Dieulefit)
	facA           // facilitator of A
	adminA         // admin of A
	facB           // facilitator of council B, visiting A with their session
	nPersonas
)

// walkOrder is the order in which personas request each route.
var walkOrder = [nPersonas]int{anon, facB, memberA, facA, adminA}

var personaNames = [nPersonas]string{"anonymous", "member A", "facilitator A", "admin A", "facilitator B"}

// routeCase is one row: a route as registered ("METHOD /pattern"), the path to
// request when the pattern has parameters (placeholders in braces are filled
// from the demo, see placeholders), the form posted (the CSRF token is added)
// and the expected status per persona.
type routeCase struct {
	route string
	path  string
	form  url.Values
	want  [nPersonas]int
}

// all expects the same status from every persona.
func all(status int) [nPersonas]int {
	return [nPersonas]int{status, status, status, status, status}
}

// by lists the expected statuses: anonymous, member A, facilitator A, admin A,
// facilitator B.
func by(anonymous, member, facilitator, admin, otherFacilitator int) [nPersonas]int {
	return [nPersonas]int{anonymous, member, facilitator, admin, otherFacilitator}
}

// Common answers of protected routes.
var (
	// A page for facilitators and admins of A: anonymous visitors are sent to sign in.
	facilitatorPage = by(303, 403, 200, 200, 403)
	// An action for facilitators and admins of A (the allowed answer is the second argument).
	facilitatorAction = func(ok int) [nPersonas]int { return by(401, 403, ok, ok, 403) }
	// A page for any member of A.
	memberPage = by(303, 200, 200, 200, 403)
	// An action for any member of A.
	memberAction = func(ok int) [nPersonas]int { return by(401, ok, ok, ok, 403) }
	// The instance operator's pages and actions: no council role opens them.
	operatorPage   = by(303, 403, 403, 403, 403)
	operatorAction = by(401, 403, 403, 403, 403)
)

// placeholders fill path parameters from the demo council (A); each is a query
// returning one text value, with ? bound to A's id. Add yours.
var placeholders = map[string]string{
	"{membre}":       `SELECT m.account_id::text FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE m.council_id = ? AND a.email = 'paul@dieulefit.example'`,
	"{forged}":       `SELECT 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' WHERE ? > 0`,
	"{notification}": `SELECT '987654321' WHERE ? > 0`, // none in the demo: not found
	"{item}":         `SELECT slug FROM register_items WHERE council_id = ? AND kind = 'category' ORDER BY id LIMIT 1`,
	"{shop}":         `SELECT slug FROM shops WHERE council_id = ? ORDER BY id LIMIT 1`,
	// A debate with arguments when the demo has some, and its first argument.
	"{debat}":       `SELECT d.slug FROM debates d WHERE d.council_id = ? ORDER BY EXISTS (SELECT 1 FROM arguments a WHERE a.debate_id = d.id) DESC, d.id LIMIT 1`,
	"{argument}":    `SELECT coalesce((SELECT min(a.id)::text FROM arguments a WHERE a.debate_id = (SELECT d.id FROM debates d WHERE d.council_id = ? ORDER BY EXISTS (SELECT 1 FROM arguments a WHERE a.debate_id = d.id) DESC, d.id LIMIT 1)), '999999')`,
	"{souhaite}":    `SELECT slug FROM debates WHERE council_id = ? AND state = 'souhaite' ORDER BY id LIMIT 1`,
	"{suggestion}":  `SELECT coalesce((SELECT min(id)::text FROM debate_suggestions WHERE council_id = ?), '999999')`,
	"{proposition}": `SELECT coalesce((SELECT min(id)::text FROM proposals WHERE council_id = ?), '999999')`,
	"{candidature}": `SELECT coalesce((SELECT min(id)::text FROM shop_applications WHERE council_id = ?), '999999')`,
	// Meetings: the demo's next (planned) meeting and its past February meeting (closed, minutes approved).
	"{seance}":       `SELECT id::text FROM meetings WHERE council_id = ? AND demo_key = 'prochaine'`,
	"{seance_close}": `SELECT id::text FROM meetings WHERE council_id = ? AND demo_key = 'fevrier-2025'`,
	"{point}":        `SELECT min(a.id)::text FROM agenda_items a JOIN meetings m ON m.id = a.meeting_id WHERE m.council_id = ? AND m.demo_key = 'prochaine'`,
	"{point_close}":  `SELECT min(a.id)::text FROM agenda_items a JOIN meetings m ON m.id = a.meeting_id WHERE m.council_id = ? AND m.demo_key = 'fevrier-2025'`,
	"{vote}":         `SELECT min(id)::text FROM votes WHERE council_id = ?`,
	"{decision}":     `SELECT min(id)::text FROM decisions WHERE council_id = ?`,
	// Webhook endpoints: the demo has none, so the walk registers two (one to delete).
	"{integration}":     `WITH e AS (INSERT INTO webhook_endpoints (council_id, url, events, secret) VALUES (?, 'https://caisse.example.org/hook', '{ping}', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw') RETURNING id) SELECT id::text FROM e`,
	"{integration_del}": `WITH e AS (INSERT INTO webhook_endpoints (council_id, url, events, secret) VALUES (?, 'https://autre.example.org/hook', '{ping}', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw') RETURNING id) SELECT id::text FROM e`,
}

// routeTable: one row per route. Keep it sorted by route.
var routeTable = []routeCase{
	// Public pages and data.
	{route: "GET /", want: all(200)},
	{route: "GET /api/v1/register", want: all(200)},
	{route: "GET /api/v1/register/versions", want: all(200)},
	{route: "GET /api/v1/register/versions/:n", path: "/api/v1/register/versions/1", want: all(200)},
	{route: "GET /api/v1/shops", want: all(200)},
	{route: "GET /api/v1/shops/:slug/basket", path: "/api/v1/shops/{shop}/basket", want: all(200)},
	{route: "GET /api/v1/shops/:slug/basket.csv", path: "/api/v1/shops/{shop}/basket.csv", want: all(200)},
	{route: "GET /api/v1/audit/head", want: all(200)},
	{route: "GET /api/v1/export", want: all(200)},
	{route: "GET /boussole", want: all(200)},
	{route: "GET /boussole/versions", want: all(200)},
	{route: "GET /boussole/premiere", want: by(303, 403, 403, 409, 403)},                                   // A has its boussole: later versions only by a decision
	{route: "POST /boussole/premiere", form: url.Values{"rows": {"0"}}, want: by(401, 403, 403, 409, 403)}, // idem
	{route: "GET /healthz", want: all(200)},
	{route: "GET /readyz", want: all(200)},
	{route: "GET /register.csv", want: all(200)},
	{route: "GET /shops.csv", want: all(200)},
	{route: "GET /static/*", path: "/static/css/app.css", want: all(200)},
	{route: "GET /registre", want: all(200)},
	{route: "GET /registre/:slug", path: "/registre/{item}", want: all(200)},
	{route: "GET /registre/changements", want: all(200)},
	{route: "GET /registre/versions", want: all(200)},
	{route: "GET /points-de-vente", want: all(200)},
	{route: "GET /points-de-vente/:slug", path: "/points-de-vente/{shop}", want: all(200)},
	{route: "GET /points-de-vente/:slug/affiche", path: "/points-de-vente/{shop}/affiche", want: all(200)},
	{route: "GET /points-de-vente/:slug/caisse", path: "/points-de-vente/{shop}/caisse", want: all(200)},
	{route: "GET /puis-je-acheter", want: all(200)},
	{route: "GET /recherche", want: all(200)},

	// Meetings, votes and decisions.
	{route: "GET /decisions", want: all(200)},
	{route: "GET /decisions.atom", want: all(200)},
	{route: "GET /decisions/:id", path: "/decisions/{decision}", want: all(200)},
	{route: "POST /decisions/:id/rectifier", path: "/decisions/{decision}/rectifier", form: url.Values{"reason": {""}}, want: facilitatorAction(422)},
	{route: "POST /decisions/:id/rectification-votee", path: "/decisions/{decision}/rectification-votee", form: url.Values{"reason": {""}}, want: facilitatorAction(422)},
	{route: "GET /meetings.ics", want: all(200)},
	{route: "GET /seances", want: all(200)},
	{route: "POST /seances", form: url.Values{"title": {""}}, want: facilitatorAction(422)},
	{route: "GET /seances/:id", path: "/seances/{seance}", want: all(200)},
	{route: "POST /seances/:id/appel", path: "/seances/{seance_close}/appel", want: facilitatorAction(409)},
	{route: "GET /seances/:id/compte-rendu", path: "/seances/{seance_close}/compte-rendu", want: all(200)},
	{route: "POST /seances/:id/compte-rendu", path: "/seances/{seance_close}/compte-rendu", form: url.Values{"body": {"Texte"}}, want: facilitatorAction(409)},
	{route: "POST /seances/:id/compte-rendu/amendements", path: "/seances/{seance_close}/compte-rendu/amendements", form: url.Values{"passage": {""}}, want: memberAction(422)},
	{route: "POST /seances/:id/compte-rendu/amendements/:amendment", path: "/seances/{seance_close}/compte-rendu/amendements/999999", form: url.Values{"decision": {"refuser"}}, want: facilitatorAction(422)},
	{route: "POST /seances/:id/compte-rendu/approuver", path: "/seances/{seance_close}/compte-rendu/approuver", want: facilitatorAction(422)},
	{route: "POST /seances/:id/compte-rendu/regenerer", path: "/seances/{seance_close}/compte-rendu/regenerer", want: facilitatorAction(409)},
	{route: "GET /seances/:id/convocation", path: "/seances/{seance}/convocation", want: all(200)},
	{route: "GET /seances/:id/dossier", path: "/seances/{seance}/dossier", want: all(200)},
	{route: "POST /seances/:id/etat", path: "/seances/{seance_close}/etat", form: url.Values{"to": {"en_cours"}}, want: facilitatorAction(409)},
	{route: "POST /seances/:id/modifier", path: "/seances/{seance}/modifier", form: url.Values{"title": {""}}, want: facilitatorAction(422)},
	{route: "POST /seances/:id/ordre-du-jour", path: "/seances/{seance}/ordre-du-jour", form: url.Values{"kind": {"free"}, "title": {""}}, want: facilitatorAction(422)},
	{route: "POST /seances/:id/ordre-du-jour/rectification", path: "/seances/{seance}/ordre-du-jour/rectification", form: url.Values{"decision": {""}}, want: facilitatorAction(422)},
	{route: "POST /seances/:id/ordre-du-jour/:item/deplacer", path: "/seances/{seance}/ordre-du-jour/{point}/deplacer", form: url.Values{"dir": {"down"}}, want: facilitatorAction(303)},
	{route: "POST /seances/:id/ordre-du-jour/:item/retirer", path: "/seances/{seance_close}/ordre-du-jour/{point_close}/retirer", want: facilitatorAction(409)},
	{route: "POST /seances/:id/procurations", path: "/seances/{seance_close}/procurations", form: url.Values{"holder": {""}}, want: memberAction(422)},
	{route: "POST /seances/:id/procurations/:proxy/revoquer", path: "/seances/{seance_close}/procurations/999999/revoquer", want: memberAction(404)},
	{route: "POST /seances/:id/procurations/papier", path: "/seances/{seance_close}/procurations/papier", form: url.Values{"giver": {""}}, want: facilitatorAction(422)},
	{route: "POST /seances/:id/votes", path: "/seances/{seance}/votes", form: url.Values{"question": {"Adopter ?"}, "method": {"majorite"}, "threshold": {"exprimes"}, "mode": {"en_ligne"}, "secrecy": {"anonyme"}}, want: facilitatorAction(409)},
	{route: "GET /seances/regles", want: by(303, 403, 403, 200, 403)},
	{route: "POST /seances/regles", form: url.Values{"quorum_kind": {"aucun"}}, want: by(401, 403, 403, 422, 403)},
	{route: "GET /votes/:id", path: "/votes/{vote}", want: all(200)},
	{route: "POST /votes/:id/bulletin", path: "/votes/{vote}/bulletin", form: url.Values{"choice": {"pour"}}, want: memberAction(409)},
	{route: "POST /votes/:id/cloture", path: "/votes/{vote}/cloture", want: facilitatorAction(409)},
	{route: "POST /votes/:id/correction", path: "/votes/{vote}/correction", form: url.Values{"pour": {"1"}, "correction_reason": {"Erreur de comptage"}}, want: facilitatorAction(409)},
	{route: "POST /votes/:id/publication", path: "/votes/{vote}/publication", want: facilitatorAction(409)},
	{route: "POST /votes/:id/papier", path: "/votes/{vote}/papier", form: url.Values{"choice": {"pour"}}, want: facilitatorAction(409)},
	{route: "POST /votes/:id/procuration", path: "/votes/{vote}/procuration", form: url.Values{"choice": {"pour"}}, want: memberAction(409)},

	// Debates.
	{route: "GET /debats", want: all(200)},
	{route: "GET /debats/:slug", path: "/debats/{debat}", want: all(200)},
	{route: "GET /debats/:slug/animer", path: "/debats/{debat}/animer", want: facilitatorPage},
	{route: "POST /debats/:slug/animer", path: "/debats/{debat}/animer", want: facilitatorAction(303)},
	{route: "POST /debats/:slug/arguments", path: "/debats/{debat}/arguments", want: memberAction(422)},
	{route: "GET /debats/:slug/arguments/:id", path: "/debats/{debat}/arguments/{argument}", want: all(200)},
	{route: "POST /debats/:slug/arguments/:id", path: "/debats/{debat}/arguments/{argument}", want: by(401, 403, 403, 403, 403)}, // only its author edits an argument
	{route: "POST /debats/:slug/arguments/:id/masquer", path: "/debats/{debat}/arguments/{argument}/masquer", want: facilitatorAction(422)},
	{route: "POST /debats/:slug/arguments/:id/reafficher", path: "/debats/{debat}/arguments/{argument}/reafficher", want: facilitatorAction(422)},
	{route: "POST /debats/:slug/etat", path: "/debats/{debat}/etat", want: facilitatorAction(409)},
	{route: "GET /debats/proposer", want: all(200)},
	{route: "POST /debats/proposer", want: all(422)},
	{route: "GET /debats/souhaites", want: all(200)},
	{route: "POST /debats/souhaites/:slug/soutien", path: "/debats/souhaites/{souhaite}/soutien", want: memberAction(303)},
	{route: "GET /debats/suggestions", want: facilitatorPage},
	{route: "POST /debats/suggestions/:id", path: "/debats/suggestions/{suggestion}", want: facilitatorAction(404)},

	// Register management.
	{route: "GET /gestion/registre/:slug", path: "/gestion/registre/{item}", want: facilitatorPage},
	{route: "POST /gestion/registre/:slug", path: "/gestion/registre/{item}", form: url.Values{"name": {""}}, want: facilitatorAction(422)},

	// Proposals and scoring.
	{route: "GET /propositions", want: all(200)},
	{route: "GET /propositions/:id", path: "/propositions/{proposition}", want: all(200)},
	{route: "POST /propositions/:id/etat", path: "/propositions/{proposition}/etat", form: url.Values{"to": {"appliquee"}}, want: by(401, 409, 409, 409, 403)}, // never a move from ouverte or inscrite
	{route: "GET /propositions/:id/evaluer", path: "/propositions/{proposition}/evaluer", want: memberPage},
	{route: "POST /propositions/:id/evaluer", path: "/propositions/{proposition}/evaluer", want: memberAction(303)},
	{route: "GET /propositions/:id/radar.svg", path: "/propositions/{proposition}/radar.svg", want: all(200)},
	{route: "GET /propositions/comparer", want: all(200)},
	{route: "GET /propositions/nouvelle", want: memberPage},
	{route: "POST /propositions/nouvelle", want: memberAction(422)},
	{route: "GET /propositions/nouvelle-boussole", want: memberPage},
	{route: "POST /propositions/nouvelle-boussole", want: memberAction(422)},

	// Sortition: the draws' public pages, the volunteers' form and private link.
	{route: "GET /tirages", want: all(200)},
	{route: "GET /tirages/:slug", path: "/tirages/" + demo.SortitionSlug, want: all(200)},
	{route: "GET /tirages/:slug/draw.json", path: "/tirages/" + demo.SortitionSlug + "/draw.json", want: all(200)},
	{route: "GET /tirages/:slug/candidature", path: "/tirages/" + demo.SortitionSlug + "/candidature", want: all(409)},
	{route: "POST /tirages/:slug/candidature", path: "/tirages/inconnu/candidature", form: url.Values{"name": {""}}, want: all(404)},
	{route: "GET /tirage-candidature/:token", path: "/tirage-candidature/{forged}", want: all(404)},
	{route: "POST /tirage-candidature/:token/retrait", path: "/tirage-candidature/{forged}/retrait", want: all(404)},
	{route: "POST /tirage-candidature/:token/siege", path: "/tirage-candidature/{forged}/siege", form: url.Values{"decision": {"refuser"}}, want: all(404)},
	{route: "GET /gestion/tirages", want: facilitatorPage},
	{route: "POST /gestion/tirages", form: url.Values{"title": {""}}, want: facilitatorAction(422)},
	{route: "GET /gestion/tirages/:slug", path: "/gestion/tirages/" + demo.SortitionSlug, want: facilitatorPage},
	{route: "POST /gestion/tirages/:slug/engagement", path: "/gestion/tirages/" + demo.SortitionSlug + "/engagement", want: facilitatorAction(409)},
	{route: "POST /gestion/tirages/:slug/anonymiser", path: "/gestion/tirages/" + demo.SortitionSlug + "/anonymiser", want: facilitatorAction(303)},
	{route: "POST /gestion/tirages/:slug/hasard", path: "/gestion/tirages/" + demo.SortitionSlug + "/hasard", form: url.Values{"randomness": {"00"}}, want: facilitatorAction(409)},

	// Shop applications, the charter, renewals and the export.
	{route: "GET /devenir-point-de-vente", want: all(200)},
	{route: "POST /devenir-point-de-vente", form: url.Values{"shop_name": {"X"}}, want: all(422)},
	{route: "GET /charte", want: all(200)},
	{route: "GET /candidature/:token", path: "/candidature/{forged}", want: all(404)},
	{route: "POST /candidature/:token/reponse", path: "/candidature/{forged}/reponse", form: url.Values{"body": {"Bonjour"}}, want: all(404)},
	{route: "POST /candidature/:token/completer", path: "/candidature/{forged}/completer", want: all(404)},
	{route: "GET /gestion/candidatures", want: memberPage},
	{route: "GET /gestion/candidatures/:id", path: "/gestion/candidatures/{candidature}", want: memberPage},
	{route: "POST /gestion/candidatures/:id/commentaires", path: "/gestion/candidatures/{candidature}/commentaires", form: url.Values{"body": {""}}, want: memberAction(422)},
	{route: "POST /gestion/candidatures/:id/questions", path: "/gestion/candidatures/{candidature}/questions", form: url.Values{"body": {""}}, want: facilitatorAction(422)},
	{route: "POST /gestion/candidatures/:id/etat", path: "/gestion/candidatures/{candidature}/etat", form: url.Values{"state": {"acceptee"}}, want: facilitatorAction(409)},
	{route: "POST /gestion/candidatures/:id/proposition", path: "/gestion/candidatures/{candidature}/proposition", form: url.Values{"title": {""}}, want: facilitatorAction(422)},
	{route: "GET /gestion/renouvellements", want: memberPage},
	{route: "GET /gestion/points-de-vente/export.csv", want: facilitatorPage},
	// A shop's product list: facilitators by slug, the shop through its private link.
	{route: "GET /gestion/points-de-vente/:slug/panier", path: "/gestion/points-de-vente/{shop}/panier", want: facilitatorPage},
	{route: "POST /gestion/points-de-vente/:slug/panier", path: "/gestion/points-de-vente/{shop}/panier", form: url.Values{"name": {""}}, want: facilitatorAction(422)},
	{route: "POST /gestion/points-de-vente/:slug/panier/:id/supprimer", path: "/gestion/points-de-vente/{shop}/panier/999999/supprimer", want: facilitatorAction(404)},
	{route: "POST /gestion/points-de-vente/:slug/panier/import", path: "/gestion/points-de-vente/{shop}/panier/import", form: url.Values{"csv": {"prix\n1\n"}}, want: facilitatorAction(422)},
	{route: "POST /gestion/points-de-vente/:slug/panier/import/confirmer", path: "/gestion/points-de-vente/{shop}/panier/import/confirmer", form: url.Values{"csv": {""}}, want: facilitatorAction(422)},
	{route: "GET /candidature/:token/panier", path: "/candidature/{forged}/panier", want: all(404)},
	{route: "POST /candidature/:token/panier", path: "/candidature/{forged}/panier", form: url.Values{"name": {"X"}}, want: all(404)},
	{route: "POST /candidature/:token/panier/:id/supprimer", path: "/candidature/{forged}/panier/1/supprimer", want: all(404)},
	{route: "POST /candidature/:token/panier/import", path: "/candidature/{forged}/panier/import", want: all(404)},
	{route: "POST /candidature/:token/panier/import/confirmer", path: "/candidature/{forged}/panier/import/confirmer", want: all(404)},
	{route: "GET /gestion/charte", want: facilitatorPage},
	{route: "POST /gestion/charte", form: url.Values{"title": {""}}, want: facilitatorAction(422)},
	{route: "POST /gestion/charte/duree", form: url.Values{"renewal_months": {"0"}}, want: facilitatorAction(422)},

	// Members, sign-in and the audit trail.
	{route: "GET /compte", want: by(303, 200, 200, 200, 200)}, // one's own account, whatever the council
	{route: "POST /compte/mot-de-passe", form: url.Values{"current": {"faux"}}, want: by(401, 422, 422, 422, 422)},
	{route: "GET /connexion", want: all(200)},
	{route: "POST /connexion", form: url.Values{"email": {"personne@example.org"}, "password": {"mauvais mot de passe"}}, want: all(422)},
	{route: "GET /connexion/oubli", want: all(200)},
	{route: "POST /connexion/oubli", form: url.Values{"email": {"pas-une-adresse"}}, want: all(422)},
	{route: "GET /connexion/reinitialiser/:token", path: "/connexion/reinitialiser/{forged}", want: all(404)},
	{route: "POST /connexion/reinitialiser/:token", path: "/connexion/reinitialiser/{forged}", form: url.Values{"password": {"un mot de passe long"}}, want: all(404)},
	{route: "GET /conseil", want: all(200)},
	{route: "POST /deconnexion", want: all(303)},
	{route: "GET /gestion/journal", want: facilitatorPage},
	{route: "GET /gestion/integrations", want: facilitatorPage},
	{route: "POST /gestion/integrations", form: url.Values{"url": {"http://127.0.0.1/hook"}}, want: facilitatorAction(422)},
	{route: "GET /gestion/integrations/:id", path: "/gestion/integrations/{integration}", want: facilitatorPage},
	{route: "POST /gestion/integrations/:id/envois/:delivery/renvoi", path: "/gestion/integrations/{integration}/envois/999999/renvoi", want: facilitatorAction(404)},
	{route: "POST /gestion/integrations/:id/rotation", path: "/gestion/integrations/{integration}/rotation", want: facilitatorAction(200)},
	// Deleted by facilitator A, so admin A finds it gone.
	{route: "POST /gestion/integrations/:id/suppression", path: "/gestion/integrations/{integration_del}/suppression", want: by(401, 403, 303, 404, 403)},
	{route: "POST /gestion/integrations/:id/test", path: "/gestion/integrations/{integration}/test", want: facilitatorAction(303)},
	// The payment tool's connector; the app of the walk has no Odoo configured.
	{route: "GET /gestion/odoo", want: facilitatorPage},
	{route: "GET /gestion/odoo/essai", want: facilitatorPage},
	{route: "POST /gestion/odoo/envoi", want: facilitatorAction(409)},
	{route: "GET /gestion/odoo/points-de-vente/:slug", path: "/gestion/odoo/points-de-vente/{shop}", want: facilitatorPage},
	{route: "POST /gestion/odoo/points-de-vente/:slug", path: "/gestion/odoo/points-de-vente/{shop}", form: url.Values{"partner": {"1"}}, want: facilitatorAction(409)},
	{route: "POST /gestion/odoo/points-de-vente/:slug/suppression", path: "/gestion/odoo/points-de-vente/{shop}/suppression", want: facilitatorAction(303)},
	{route: "GET /gestion/membres", want: facilitatorPage},
	{route: "POST /gestion/membres/invitations", form: url.Values{"email": {"pas-une-adresse"}, "role": {"member"}}, want: facilitatorAction(422)},
	{route: "POST /gestion/membres/:id/desactiver", path: "/gestion/membres/{membre}/desactiver", want: facilitatorAction(303)},
	{route: "POST /gestion/membres/:id/mot-de-passe", path: "/gestion/membres/{membre}/mot-de-passe", want: facilitatorAction(200)},
	{route: "POST /gestion/membres/:id/reactiver", path: "/gestion/membres/{membre}/reactiver", want: facilitatorAction(303)},
	{route: "POST /gestion/membres/:id/role", path: "/gestion/membres/{membre}/role", form: url.Values{"role": {"member"}}, want: by(401, 403, 403, 303, 403)},
	{route: "GET /invitation/:token", path: "/invitation/{forged}", want: all(404)},
	{route: "POST /invitation/:token", path: "/invitation/{forged}", form: url.Values{"name": {"X"}, "password": {"un mot de passe long"}}, want: all(404)},
	{route: "GET /mot-de-passe/:token", path: "/mot-de-passe/{forged}", want: all(404)},
	{route: "POST /mot-de-passe/:token", path: "/mot-de-passe/{forged}", form: url.Values{"password": {"un mot de passe long"}}, want: all(404)},

	// The instance's operator (no persona here is one: see governance/instance's
	// tests) and the council's settings.
	{route: "GET /instance", want: operatorPage},
	{route: "GET /instance/connexion", want: all(200)},
	{route: "POST /instance/connexion", form: url.Values{"email": {"personne-instance@example.org"}, "password": {"mauvais mot de passe"}}, want: all(422)},
	{route: "GET /instance/conseils/nouveau", want: operatorPage},
	{route: "POST /instance/conseils", form: url.Values{"slug": {"Pas-Bon"}}, want: operatorAction},
	{route: "GET /instance/conseils/:slug", path: "/instance/conseils/" + demo.CouncilSlug, want: operatorPage},
	{route: "POST /instance/conseils/:slug/etat", path: "/instance/conseils/" + demo.CouncilSlug + "/etat", form: url.Values{"state": {"suspended"}}, want: operatorAction},
	{route: "POST /instance/conseils/:slug/hotes", path: "/instance/conseils/" + demo.CouncilSlug + "/hotes", form: url.Values{"hosts": {"x.test"}}, want: operatorAction},
	{route: "GET /gestion/conseil", want: by(303, 403, 403, 200, 403)},
	{route: "POST /gestion/conseil", form: url.Values{"name": {""}}, want: by(401, 403, 403, 422, 403)},
	// Notifications (governance/notify).
	{route: "GET /compte/notifications", want: memberPage},
	{route: "POST /compte/notifications", form: url.Values{"delivery_vote_opened": {"digest"}, "address": {"pas-une-adresse"}}, want: memberAction(422)},
	{route: "GET /gestion/notifications", want: facilitatorPage},
	{route: "POST /gestion/notifications/resume", form: url.Values{"digest_weekday": {"9"}}, want: facilitatorAction(422)},
	{route: "POST /gestion/notifications/:id/renvoyer", path: "/gestion/notifications/{notification}/renvoyer", want: facilitatorAction(404)},
	{route: "GET /desabonnement/:token", path: "/desabonnement/{forged}", want: all(404)},
	{route: "POST /desabonnement/:token", path: "/desabonnement/{forged}", want: all(404)},
	// Citizens' subscriptions to the public digest (no account), and the
	// operator's list of them.
	{route: "GET /abonnement", want: all(200)},
	{route: "POST /abonnement", form: url.Values{"email": {"pas-une-adresse"}}, want: all(422)},
	{route: "GET /abonnement/confirmer/:token", path: "/abonnement/confirmer/{forged}", want: all(404)},
	{route: "POST /abonnement/confirmer/:token", path: "/abonnement/confirmer/{forged}", want: all(404)},
	{route: "GET /instance/abonnes", want: operatorPage},
}

// csrfExempt are the POST routes served without CSRF protection, by design:
// the signed token in their URL is the authority.
var csrfExempt = map[string]bool{
	"POST /desabonnement/:token": true, // RFC 8058 one-click unsubscribe, posted by mail clients
}

// walkFixture is the demo council A (its row made by internal/council.Insert,
// as every council is), a council B made by instance.Create as the operator
// makes one, and one client per persona. Councils made from the model and
// from an exchange file are walked in routes_councils_test.go.
type walkFixture struct {
	app     *fiber.App
	db      *bun.DB
	clients [nPersonas]*webtest.Client
	emails  [nPersonas]string
	params  map[string]string
}

func newWalkFixture(t *testing.T) *walkFixture {
	t.Helper()
	app, db := newTestApp(t)
	ctx := context.Background()
	var a, b int64
	if err := db.NewRaw("SELECT id FROM councils WHERE slug = ?", demo.CouncilSlug).Scan(ctx, &a); err != nil {
		t.Fatal(err)
	}
	// Council B is made as an operator makes one (empty, on b.test).
	res, err := instance.Create(ctx, db, instance.Input{Slug: "conseil-b", Name: "Conseil B", Hosts: "b.test",
		AdminEmail: "admin-b@example.org", Start: instance.StartEmpty}, audit.Actor{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	b = res.Council.ID
	f := &walkFixture{app: app, db: db, params: map[string]string{}}
	f.clients[anon] = webtest.New(t, app)
	for p, spec := range map[int]struct {
		council int64
		role    authz.Role
	}{memberA: {a, authz.Member}, facA: {a, authz.Facilitator}, adminA: {a, authz.Admin}, facB: {b, authz.Facilitator}} {
		_, email := webtest.CreateMember(t, db, spec.council, spec.role, "")
		c := webtest.New(t, app)
		c.Host = webtest.HostFor(t, db, spec.council)
		c.SignInAs(email, webtest.Password)
		f.clients[p], f.emails[p] = c, email
	}
	// Facilitator B now visits council A with the session opened on B.
	f.clients[facB].Host = webtest.HostFor(t, db, a)
	for name, q := range placeholders {
		var v string
		if err := db.NewRaw(q, a).Scan(ctx, &v); err == nil {
			f.params[name] = v
		}
	}
	return f
}

func (f *walkFixture) fill(t *testing.T, path string) string {
	t.Helper()
	for name, v := range f.params {
		path = strings.ReplaceAll(path, name, v)
	}
	if i := strings.IndexAny(path, "{:*"); i >= 0 {
		t.Fatalf("path %q: parameter not filled (add a placeholder, or a concrete path)", path)
	}
	return path
}

// resignIn opens a new session when a request (sign-out, disable…) ended it.
func (f *walkFixture) resignIn(p int) {
	if p != anon && f.clients[p].Cookie(auth.SessionCookie) == "" {
		host := f.clients[p].Host
		if p == facB {
			f.clients[p].Host = "b.test"
		}
		f.clients[p].SignInAs(f.emails[p], webtest.Password)
		f.clients[p].Host = host
	}
}

func TestEveryRouteAnswersEachPersonaAsTheTableSays(t *testing.T) {
	t.Parallel()
	f := newWalkFixture(t)
	rows := map[string]routeCase{}
	for _, rc := range routeTable {
		if _, dup := rows[rc.route]; dup {
			t.Errorf("route %s has two rows", rc.route)
		}
		rows[rc.route] = rc
	}
	seen := map[string]bool{}
	var routes []string
	for _, r := range f.app.GetRoutes(true) {
		key := r.Method + " " + r.Path
		if r.Method == fiber.MethodHead || seen[key] {
			continue // HEAD mirrors GET
		}
		seen[key] = true
		routes = append(routes, key)
	}
	sort.Strings(routes)
	for _, key := range routes {
		rc, ok := rows[key]
		if !ok {
			t.Errorf("route %s has no row in routeTable (cmd/cla/routes_test.go): decide who may use it%s", key, f.suggest(t, key))
			continue
		}
		method := key[:strings.IndexByte(key, ' ')]
		path := rc.path
		if path == "" {
			path = key[len(method)+1:]
		}
		path = f.fill(t, path)
		// Outsiders first: refusals are checked before an allowed persona
		// changes the state (an action done once may answer 409 afterwards).
		for _, p := range walkOrder {
			c := f.clients[p]
			var resp *http.Response
			var body string
			if method == fiber.MethodGet {
				resp, body = c.Get(path)
			} else if csrfExempt[key] {
				resp, body = c.PostFormRaw(path, rc.form) // no token, none needed
			} else {
				// Without a token, and with another browser's, every persona is refused.
				if resp, _ := c.PostFormRaw(path, rc.form); resp.StatusCode != 403 {
					t.Errorf("%s as %s without CSRF token: %d, want 403", key, personaNames[p], resp.StatusCode)
				}
				other := f.clients[(p+1)%nPersonas]
				forged := url.Values{auth.CSRFField: {other.CSRFToken()}}
				for k, v := range rc.form {
					forged[k] = v
				}
				if resp, _ := c.PostFormRaw(path, forged); resp.StatusCode != 403 {
					t.Errorf("%s as %s with %s's CSRF token: %d, want 403", key, personaNames[p], personaNames[(p+1)%nPersonas], resp.StatusCode)
				}
				resp, body = c.PostForm(path, rc.form)
			}
			if resp.StatusCode != rc.want[p] {
				t.Errorf("%s %s as %s: %d, want %d (%.200q)", method, path, personaNames[p], resp.StatusCode, rc.want[p], body)
			}
			if resp.StatusCode == 303 && rc.want[p] == 303 && method == fiber.MethodGet && p == anon {
				if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/connexion?suite=") && !strings.HasPrefix(loc, "/instance/connexion?suite=") {
					t.Errorf("%s as anonymous: redirected to %q, want the sign-in form", path, loc)
				}
			}
			f.resignIn(p)
		}
	}
	for key := range rows {
		if !seen[key] {
			t.Errorf("routeTable has a row for %s, which is not a route of the app", key)
		}
	}
}

// suggest returns, when CLA_ROUTES_SUGGEST is set, the statuses the route
// gives today as a row to paste — after checking each one is what you want.
func (f *walkFixture) suggest(t *testing.T, key string) string {
	if os.Getenv("CLA_ROUTES_SUGGEST") == "" {
		return " (set CLA_ROUTES_SUGGEST=1 to see what it answers today)"
	}
	method, path, _ := strings.Cut(key, " ")
	if strings.ContainsAny(path, ":*") {
		return " (path parameters: write the row by hand)"
	}
	var got [nPersonas]int
	for p := 0; p < nPersonas; p++ {
		var resp *http.Response
		if method == fiber.MethodGet {
			resp, _ = f.clients[p].Get(path)
		} else {
			resp, _ = f.clients[p].PostForm(path, nil)
		}
		got[p] = resp.StatusCode
		f.resignIn(p)
	}
	return fmt.Sprintf("; today: {route: %q, want: by(%d, %d, %d, %d, %d)}", key, got[0], got[1], got[2], got[3], got[4])
}

// crossCouncilVariants give, per placeholder, objects of council A in each of
// their states (one per state), so that the walk below meets every state: an
// object of another council is not found whatever its state. ? is A's id.
var crossCouncilVariants = map[string]string{
	"{seance}":       `SELECT id::text FROM (SELECT DISTINCT ON (state, EXISTS (SELECT 1 FROM minutes mi WHERE mi.meeting_id = m.id)) id FROM meetings m WHERE council_id = ? ORDER BY state, EXISTS (SELECT 1 FROM minutes mi WHERE mi.meeting_id = m.id), id) s`,
	"{seance_close}": `SELECT id::text FROM (SELECT DISTINCT ON (state) id FROM meetings WHERE council_id = ? ORDER BY state, id) s`,
	"{vote}":         `SELECT id::text FROM (SELECT DISTINCT ON (state, mode, method) id FROM votes WHERE council_id = ? ORDER BY state, mode, method, id) s`,
	"{decision}":     `SELECT id::text FROM (SELECT DISTINCT ON (outcome) id FROM decisions WHERE council_id = ? ORDER BY outcome, id) s`,
	"{proposition}":  `SELECT id::text FROM (SELECT DISTINCT ON (state, kind) id FROM proposals WHERE council_id = ? ORDER BY state, kind, id) s`,
	"{candidature}":  `SELECT id::text FROM (SELECT DISTINCT ON (state) id FROM shop_applications WHERE council_id = ? ORDER BY state, id) s`,
	"{debat}":        `SELECT slug FROM (SELECT DISTINCT ON (state) slug FROM debates WHERE council_id = ? ORDER BY state, id) s`,
	"{suggestion}":   `SELECT id::text FROM (SELECT DISTINCT ON (status) id FROM debate_suggestions WHERE council_id = ? ORDER BY status, id) s`,
	"{membre}":       `SELECT account_id::text FROM (SELECT DISTINCT ON (role) account_id FROM memberships WHERE council_id = ? ORDER BY role, account_id) s`,
}

// Every route that names an object (an id, a slug, a token) answers 404 to an
// admin of council B on B's host when the object is council A's, whatever its
// state and whatever the form: the council scope is checked before anything
// else, so nothing of A leaks through a 409, a 422 or a 500. Council B is
// empty (no boussole, no register, no meeting).
func TestAnotherCouncilsObjectsAreNotFound(t *testing.T) {
	t.Parallel()
	f := newWalkFixture(t)
	ctx := context.Background()
	var a, b int64
	if err := f.db.NewRaw("SELECT id FROM councils WHERE slug = ?", demo.CouncilSlug).Scan(ctx, &a); err != nil {
		t.Fatal(err)
	}
	if err := f.db.NewRaw("SELECT id FROM councils WHERE slug = 'conseil-b'").Scan(ctx, &b); err != nil {
		t.Fatal(err)
	}
	_, email := webtest.CreateMember(t, f.db, b, authz.Admin, "")
	adminB := webtest.New(t, f.app)
	adminB.Host = "b.test"
	adminB.SignInAs(email, webtest.Password)
	variants := map[string][]string{}
	for name, q := range crossCouncilVariants {
		var vs []string
		if err := f.db.NewRaw(q, a).Scan(ctx, &vs); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		variants[name] = vs
	}
	walked := 0
	for _, rc := range routeTable {
		method, pattern, _ := strings.Cut(rc.route, " ")
		// The operator's pages name councils, not a council's objects.
		if !strings.ContainsAny(pattern, ":*") || strings.HasPrefix(pattern, "/static/") || strings.HasPrefix(pattern, "/instance/") {
			continue
		}
		paths := []string{f.fill(t, rc.path)}
		for name, vs := range variants {
			if strings.Contains(rc.path, name) {
				for _, v := range vs {
					paths = append(paths, f.fill(t, strings.ReplaceAll(rc.path, name, v)))
				}
			}
		}
		for _, path := range paths {
			var resp *http.Response
			var body string
			if method == fiber.MethodGet {
				resp, body = adminB.Get(path)
			} else {
				resp, body = adminB.PostForm(path, rc.form)
			}
			walked++
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s from council B: %d, want 404 (%.200q)", method, path, resp.StatusCode, body)
			}
			if adminB.Cookie(auth.SessionCookie) == "" {
				adminB.SignInAs(email, webtest.Password)
			}
		}
	}
	if walked < 60 {
		t.Fatalf("only %d requests walked", walked)
	}
}
