package odoo

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// PartnerModel is the Odoo model of partners: shops are partners.
const PartnerModel = "res.partner"

// The res.partner fields the platform reads and writes. Lokavaluto's
// lcc_members module adds convention_signature_date (a date), to_renew and
// accept_digital_currency (booleans) to Odoo's partner; industry_id (the main
// activity) and ref (the internal reference) are Odoo's own; siret comes
// from the French localisation (l10n_fr). An Odoo that keeps the SIRET in a
// custom x_ field is searched with SearchRead and a domain of its own.
const (
	FieldName                    = "name"
	FieldRef                     = "ref"
	FieldSIRET                   = "siret"
	FieldConventionSignatureDate = "convention_signature_date"
	FieldToRenew                 = "to_renew"
	FieldIndustry                = "industry_id"
	FieldAcceptDigitalCurrency   = "accept_digital_currency"
)

// PartnerFields are the fields Partners and FindPartners read.
var PartnerFields = []string{FieldName, FieldRef, FieldSIRET, FieldConventionSignatureDate,
	FieldToRenew, FieldIndustry, FieldAcceptDigitalCurrency}

// Partner is a res.partner as the platform sees it. Odoo sends false for an
// empty text, date or relation field: those become "" and 0 here.
type Partner struct {
	ID   int
	Name string
	Ref  string
	// SIRET is empty when Odoo has none.
	SIRET string
	// ConventionSignatureDate is "YYYY-MM-DD", or "" when unset.
	ConventionSignatureDate string
	ToRenew                 bool
	// IndustryID and IndustryName are the partner's main activity
	// (res.partner.industry), 0 and "" when unset.
	IndustryID            int
	IndustryName          string
	AcceptDigitalCurrency bool
}

// UnmarshalJSON reads a search_read record, with Odoo's false for empty
// values and [id, "name"] pairs for relations.
func (p *Partner) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	var err error
	str := func(k string) string {
		s, e := odooString(m[k])
		if e != nil && err == nil {
			err = fmt.Errorf("odoo: res.partner.%s: %w", k, e)
		}
		return s
	}
	boolean := func(k string) bool {
		var v bool
		if raw := m[k]; raw != nil {
			if e := json.Unmarshal(raw, &v); e != nil && err == nil {
				err = fmt.Errorf("odoo: res.partner.%s: %w", k, e)
			}
		}
		return v
	}
	if raw := m["id"]; raw != nil {
		if e := json.Unmarshal(raw, &p.ID); e != nil {
			return fmt.Errorf("odoo: res.partner.id: %w", e)
		}
	}
	p.Name = str(FieldName)
	p.Ref = str(FieldRef)
	p.SIRET = str(FieldSIRET)
	p.ConventionSignatureDate = str(FieldConventionSignatureDate)
	p.ToRenew = boolean(FieldToRenew)
	p.AcceptDigitalCurrency = boolean(FieldAcceptDigitalCurrency)
	id, name, e := many2one(m[FieldIndustry])
	if e != nil {
		return fmt.Errorf("odoo: res.partner.%s: %w", FieldIndustry, e)
	}
	p.IndustryID, p.IndustryName = id, name
	return err
}

// odooString reads a text or date value: a string, or false when empty.
func odooString(raw json.RawMessage) (string, error) {
	if raw == nil || string(raw) == "false" || string(raw) == "null" {
		return "", nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

// many2one reads a relation value: [id, "display name"], or false.
func many2one(raw json.RawMessage) (int, string, error) {
	if raw == nil || string(raw) == "false" || string(raw) == "null" {
		return 0, "", nil
	}
	var pair []json.RawMessage
	if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
		return 0, "", fmt.Errorf("not an [id, name] pair: %s", raw)
	}
	var id int
	var name string
	if err := json.Unmarshal(pair[0], &id); err != nil {
		return 0, "", err
	}
	if err := json.Unmarshal(pair[1], &name); err != nil {
		return 0, "", err
	}
	return id, name, nil
}

// Partners returns the partners with the given ids (those that exist).
func (c *Client) Partners(ctx context.Context, ids []int) ([]Partner, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var ps []Partner
	err := c.SearchRead(ctx, PartnerModel, Domain{Term("id", "in", ids)}, PartnerFields, 0, &ps)
	return ps, err
}

// FindPartners searches partners whose name contains query (any case) or
// whose SIRET is query without its spaces, for the facilitator who links a
// shop to its partner once, at most limit of them.
func (c *Client) FindPartners(ctx context.Context, query string, limit int) ([]Partner, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return nil, nil
	}
	digits := strings.Map(func(r rune) rune {
		if r == ' ' || r == '.' || r == '-' || r == '\u00a0' {
			return -1
		}
		return r
	}, query)
	domain := Domain{Term(FieldName, "ilike", query)}
	if len(digits) == 14 && strings.Trim(digits, "0123456789") == "" {
		domain = Domain{"|", Term(FieldName, "ilike", query), Term(FieldSIRET, "=", digits)}
	}
	var ps []Partner
	err := c.SearchRead(ctx, PartnerModel, domain, PartnerFields, limit, &ps)
	return ps, err
}
