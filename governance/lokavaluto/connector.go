// Package lokavaluto is the connector to the payment tool of the caisse
// (Lokavaluto, built on Odoo; issue 18, point 4): it pushes each point de
// vente's convention to its Odoo partner (res.partner) through Odoo's
// external JSON-RPC API (internal/odoo), matched on the partner id a
// facilitator links once (/gestion/odoo). It runs after each decision that
// touches a shop (a job enqueued in the decision's transaction by the
// catalog), nightly, and on demand; it writes nothing when Odoo already holds
// the values, and its dry run lists what it would change.
//
// The operator configures one Odoo per instance (URL, database, user by
// flags or environment; the API key from the environment only, never stored).
package lokavaluto

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/internal/audit"
	"cla/internal/odoo"
	"cla/internal/web"
)

// DefaultCategoriesField is the res.partner field that receives the shop's
// register categories: Lokavaluto has none, so the Odoo administrator adds
// this custom text field (Settings → Technical → Fields); docs/operations.md.
const DefaultCategoriesField = "x_cla_categories"

// renewalWindow is how far ahead a convention to renew is flagged (to_renew),
// as the facilitators' renewals list and the partner export do.
const renewalWindow = 60

// Connector pushes the shops of any council of the instance to one Odoo.
type Connector struct {
	// Client calls the operator's Odoo; nil when the connector is not
	// configured (pages then say so, jobs do nothing).
	Client *odoo.Client
	// CategoriesField is the res.partner field of the register categories;
	// "" pushes no categories.
	CategoriesField string
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

// Configured reports whether the operator set the connector up.
func (c *Connector) Configured() bool { return c != nil && c.Client != nil }

func (c *Connector) today() time.Time {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	y, m, d := now().In(web.Paris()).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// fields are the res.partner fields the connector writes, in the order the
// dry run shows them.
func (c *Connector) fields() []string {
	f := []string{odoo.FieldConventionSignatureDate, odoo.FieldToRenew, odoo.FieldAcceptDigitalCurrency}
	if c.CategoriesField != "" {
		f = append(f, c.CategoriesField)
	}
	return f
}

// FieldLabel is a res.partner field in French, for the dry run.
func FieldLabel(f string) string {
	switch f {
	case odoo.FieldConventionSignatureDate:
		return "Date de signature de la convention"
	case odoo.FieldToRenew:
		return "Convention à renouveler"
	case odoo.FieldAcceptDigitalCurrency:
		return "Paiement en monnaie locale (actif / bloqué)"
	}
	return "Catégories du registre"
}

// Values are the res.partner values that say the shop's convention, as Odoo
// takes them: a date as "YYYY-MM-DD" or false, booleans, text or false.
//   - convention_signature_date: the convention's signature date;
//   - to_renew: a conventionné shop whose renewal falls within 60 days (or
//     is past);
//   - accept_digital_currency: the active/blocked state, true only while the
//     shop is conventionné (suspended, withdrawn or still applying: blocked);
//   - the categories field: the register categories it sells, by name.
func (c *Connector) Values(s catalog.PartnerShop) map[string]any {
	v := map[string]any{odoo.FieldConventionSignatureDate: false}
	if s.SignedOn != nil {
		v[odoo.FieldConventionSignatureDate] = s.SignedOn.Format("2006-01-02")
	}
	conv := s.Status == catalog.ShopConventionne
	v[odoo.FieldToRenew] = conv && s.RenewalOn != nil && !s.RenewalOn.After(c.today().AddDate(0, 0, renewalWindow))
	v[odoo.FieldAcceptDigitalCurrency] = conv
	if c.CategoriesField != "" {
		v[c.CategoriesField] = false
		if len(s.Categories) > 0 {
			v[c.CategoriesField] = strings.Join(s.Categories, ", ")
		}
	}
	return v
}

// Change is one field the push would change on a partner.
type Change struct {
	Field, Label string
	From, To     string
}

// PlanLine is a linked shop in the dry run: what the push would change on
// its partner, or why it cannot.
type PlanLine struct {
	Shop    catalog.PartnerShop
	Link    odoo.Link
	Changes []Change
	// Values are all the values the partner should hold (those that change
	// and the others).
	Values map[string]any
	// Missing says the partner is not in Odoo any more (deleted).
	Missing bool
}

// Plan compares each linked shop of the council with its Odoo partner, in
// one search_read: the dry run, and the first step of a push.
func (c *Connector) Plan(ctx context.Context, db bun.IDB, councilID int64) ([]PlanLine, error) {
	links, err := odoo.Links(ctx, db, councilID)
	if err != nil || len(links) == 0 {
		return nil, err
	}
	shops, err := catalog.PartnerShops(ctx, db, councilID)
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, l := range links {
		ids = append(ids, l.PartnerID)
	}
	slices.Sort(ids)
	var partners []map[string]json.RawMessage
	// Archived partners too: a blocked shop's partner may have been archived.
	domain := odoo.Domain{odoo.Term("id", "in", ids), odoo.Term("active", "in", []bool{true, false})}
	if err := c.Client.SearchRead(ctx, odoo.PartnerModel, domain, append([]string{odoo.FieldName}, c.fields()...), 0, &partners); err != nil {
		return nil, err
	}
	byID := map[int]map[string]json.RawMessage{}
	for _, p := range partners {
		var id int
		if err := json.Unmarshal(p["id"], &id); err != nil {
			return nil, fmt.Errorf("%w: res.partner without id", odoo.ErrProtocol)
		}
		byID[id] = p
	}
	var out []PlanLine
	for _, s := range shops {
		l, ok := links[s.ID]
		if !ok {
			continue
		}
		line := PlanLine{Shop: s, Link: l, Values: c.Values(s)}
		cur, ok := byID[l.PartnerID]
		if !ok {
			line.Missing = true
			out = append(out, line)
			continue
		}
		for _, f := range c.fields() {
			from, to := shown(cur[f]), shown(line.Values[f])
			if from != to {
				line.Changes = append(line.Changes, Change{Field: f, Label: FieldLabel(f), From: from, To: to})
			}
		}
		out = append(out, line)
	}
	return out, nil
}

// shown is a value as the dry run shows it, and as values are compared:
// false and null (Odoo's empty) are "", booleans are « oui » / « non ».
func shown(v any) string {
	var x any = v
	if raw, ok := v.(json.RawMessage); ok {
		if raw == nil || json.Unmarshal(raw, &x) != nil {
			return ""
		}
	}
	switch t := x.(type) {
	case nil:
		return ""
	case bool:
		if t {
			return "oui"
		}
		return "non"
	case string:
		return t
	}
	return fmt.Sprint(x)
}

// Result counts what a push did.
type Result struct {
	Written, Unchanged, Failed int
}

// ErrNotConfigured is returned by Push when the operator has not configured
// the connector.
var ErrNotConfigured = errors.New("lokavaluto: the Odoo connector is not configured")

// Push writes to Odoo what differs for each linked shop of the council (one
// write per partner that needs one; none when Odoo already holds the
// values), and records each shop's outcome. A failed write is recorded on
// its shop and reported in the error, so that the job is retried with
// backoff; a partner gone from Odoo is recorded and not retried (a
// facilitator must link the shop again).
func (c *Connector) Push(ctx context.Context, db bun.IDB, councilID int64) (Result, error) {
	var res Result
	if !c.Configured() {
		return res, ErrNotConfigured
	}
	plan, err := c.Plan(ctx, db, councilID)
	if err != nil {
		// Nothing could be compared: every linked shop shows the error.
		links, lerr := odoo.Links(ctx, db, councilID)
		if lerr == nil {
			for id := range links {
				_ = odoo.RecordFailure(ctx, db, councilID, id, odoo.Describe(err))
			}
		}
		return res, err
	}
	var errs []error
	for _, l := range plan {
		switch {
		case l.Missing:
			res.Failed++
			msg := fmt.Sprintf("Le partenaire Odoo n° %d est introuvable (supprimé ?) : liez de nouveau ce point de vente.", l.Link.PartnerID)
			if err := odoo.RecordFailure(ctx, db, councilID, l.Shop.ID, msg); err != nil {
				return res, err
			}
		case len(l.Changes) == 0:
			res.Unchanged++
			if err := odoo.RecordPushed(ctx, db, councilID, l.Shop.ID, l.Values); err != nil {
				return res, err
			}
		default:
			vals := map[string]any{}
			for _, ch := range l.Changes {
				vals[ch.Field] = l.Values[ch.Field]
			}
			if werr := c.Client.Write(ctx, odoo.PartnerModel, []int{l.Link.PartnerID}, vals); werr != nil {
				res.Failed++
				errs = append(errs, fmt.Errorf("%s: %w", l.Shop.Slug, werr))
				if err := odoo.RecordFailure(ctx, db, councilID, l.Shop.ID, odoo.Describe(werr)); err != nil {
					return res, err
				}
				continue
			}
			res.Written++
			if err := odoo.RecordPushed(ctx, db, councilID, l.Shop.ID, l.Values); err != nil {
				return res, err
			}
		}
	}
	return res, errors.Join(errs...)
}

// recordAudit writes an entry of the audit trail (a seam for one import).
var recordAudit = audit.Record
