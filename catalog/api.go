package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/csvout"
	"cla/internal/pagecache"
	"cla/internal/web"
)

const (
	jsonType = fiber.MIMEApplicationJSONCharsetUTF8
	csvType  = "text/csv; charset=utf-8"
)

// currentSnapshot is the register as it stands: the live items and shops, with
// the current version's number, date and decision. It equals the latest
// version's snapshot, except for wording corrections made since.
func (h *Handlers) currentSnapshot(ctx context.Context, c *fiber.Ctx) (*Snapshot, error) {
	co := web.Council(c)
	cur, err := CurrentVersion(ctx, h.DB, co.ID)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		cur = &Version{}
	}
	s, err := buildSnapshot(ctx, h.DB, co.ID, co.Slug, cur)
	if err != nil {
		return nil, err
	}
	if cur.Number == 0 {
		s.EffectiveOn, s.Decision = "", nil
	}
	return s, nil
}

func (h *Handlers) apiRegister(c *fiber.Ctx) error {
	return h.serve(c, "api:register", jsonType, dataCacheControl, func(ctx context.Context) ([]byte, error) {
		s, err := h.currentSnapshot(ctx, c)
		if err != nil {
			return nil, err
		}
		return marshalJSON(s)
	})
}

// APIVersion is one line of /api/v1/register/versions.
type APIVersion struct {
	Number      int          `json:"number"`
	EffectiveOn string       `json:"effective_on"`
	Summary     string       `json:"summary"`
	Decision    SnapDecision `json:"decision"`
	Changes     []ChangeLine `json:"changes"`
	PublishedAt string       `json:"published_at"`
	URL         string       `json:"url"`
}

func (h *Handlers) apiVersions(c *fiber.Ctx) error {
	return h.serve(c, "api:versions", jsonType, dataCacheControl, func(ctx context.Context) ([]byte, error) {
		vs, err := Versions(ctx, h.DB, web.Council(c).ID)
		if err != nil {
			return nil, err
		}
		out := struct {
			Council  string       `json:"council"`
			Versions []APIVersion `json:"versions"`
		}{Council: web.Council(c).Slug, Versions: make([]APIVersion, 0, len(vs))}
		for _, v := range vs {
			ch := v.Changes
			if ch == nil {
				ch = []ChangeLine{}
			}
			out.Versions = append(out.Versions, APIVersion{Number: v.Number, EffectiveOn: v.EffectiveOn.Format("2006-01-02"),
				Summary: v.Summary, Decision: SnapDecision{Ref: v.DecisionRef, Title: v.DecisionTitle, URL: v.DecisionURL},
				Changes: ch, PublishedAt: v.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"),
				URL: "/api/v1/register/versions/" + strconv.Itoa(v.Number)})
		}
		return marshalJSON(out)
	})
}

func (h *Handlers) apiVersion(c *fiber.Ctx) error {
	n, err := strconv.Atoi(c.Params("n"))
	if err != nil || n < 1 || n > 1e7 {
		return apperr.New(apperr.NotFound, "Cette version du registre n'existe pas.")
	}
	return h.serve(c, "api:version:"+strconv.Itoa(n), jsonType, dataCacheControl, func(ctx context.Context) ([]byte, error) {
		v, err := VersionByNumber(ctx, h.DB, web.Council(c).ID, n)
		if err != nil {
			return nil, err
		}
		// The stored snapshot, byte for byte as published.
		return []byte(v.Snapshot), nil
	})
}

// APIShop is a point de vente in /api/v1/shops.
type APIShop struct {
	Slug        string     `json:"slug"`
	Name        string     `json:"name"`
	Kind        ShopKind   `json:"kind"`
	KindLabel   string     `json:"kind_label"`
	Address     string     `json:"address"`
	Commune     string     `json:"commune"`
	Latitude    *float64   `json:"latitude"`
	Longitude   *float64   `json:"longitude"`
	Hours       string     `json:"hours"`
	Contact     string     `json:"contact"`
	Website     string     `json:"website"`
	Independent bool       `json:"independent"`
	Network     string     `json:"network"`
	Status      ShopStatus `json:"status"`
	StatusLabel string     `json:"status_label"`
	SignedOn    string     `json:"signed_on"`
	RenewalOn   string     `json:"renewal_on"`
	Categories  []string   `json:"categories"`
	URL         string     `json:"url"`
}

func (h *Handlers) apiShopList(ctx context.Context, councilID int64) ([]APIShop, error) {
	return apiShopList(ctx, h.DB, councilID)
}

// apiShopList is the council's points de vente as /api/v1/shops shows them
// (webhooks send the same, read in the change's transaction).
func apiShopList(ctx context.Context, db bun.IDB, councilID int64) ([]APIShop, error) {
	shops, err := Shops(ctx, db, councilID)
	if err != nil {
		return nil, err
	}
	cats, err := shopCategorySlugs(ctx, db, councilID)
	if err != nil {
		return nil, err
	}
	out := make([]APIShop, 0, len(shops))
	for _, s := range shops {
		cs := cats[s.ID]
		if cs == nil {
			cs = []string{}
		}
		out = append(out, APIShop{Slug: s.Slug, Name: s.Name, Kind: s.Kind, KindLabel: s.Kind.Label(), Address: s.Address,
			Commune: s.Commune, Latitude: s.Latitude, Longitude: s.Longitude, Hours: s.Hours, Contact: s.Contact,
			Website: s.Website, Independent: s.Independent(), Network: s.Network, Status: s.Status, StatusLabel: s.Status.Label(),
			SignedOn: dateString(s.SignedOn), RenewalOn: dateString(s.RenewalOn), Categories: cs, URL: "/points-de-vente/" + s.Slug})
	}
	return out, nil
}

func (h *Handlers) apiShops(c *fiber.Ctx) error {
	return h.serve(c, "api:shops", jsonType, dataCacheControl, func(ctx context.Context) ([]byte, error) {
		shops, err := h.apiShopList(ctx, web.Council(c).ID)
		if err != nil {
			return nil, err
		}
		return marshalJSON(struct {
			Council string    `json:"council"`
			Shops   []APIShop `json:"shops"`
		}{web.Council(c).Slug, shops})
	})
}

// apiAuditHead publishes the audit chain's head, now and at the end of each of
// the last days, so that copies kept outside the database (by the fund, by
// archives, by anyone polling the open data) can later show that the trail
// was rewritten or its end deleted: `cla audit verify --head` compares them.
// The trail is one chain for the whole instance, so every council's host
// serves the same document. Built on each request (two index probes),
// not cached with the register.
func (h *Handlers) apiAuditHead(c *fiber.Ctx) error {
	body, err := gatedBuild(c, func(ctx context.Context) ([]byte, error) {
		p, err := audit.Publish(ctx, h.DB, time.Now())
		if err != nil {
			return nil, err
		}
		return marshalJSON(p)
	})
	if err != nil {
		return err
	}
	return pagecache.NewEntry(body, jsonType, dataCacheControl).Send(c)
}

// RegisterCSVHeader is the header row of /register.csv.
var RegisterCSVHeader = []string{"version", "effective_on", "slug", "parent", "kind", "name", "status", "status_label", "conditions", "review_on", "reason", "off_category", "gpc_brick"}

func (h *Handlers) registerCSV(c *fiber.Ctx) error {
	return h.serve(c, "csv:register", csvType, dataCacheControl, func(ctx context.Context) ([]byte, error) {
		s, err := h.currentSnapshot(ctx, c)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		w := csvout.NewWriter(&buf, false)
		_ = w.Write(RegisterCSVHeader)
		v := strconv.Itoa(s.Version)
		for _, it := range s.Items {
			_ = w.Write([]string{v, s.EffectiveOn, it.Slug, it.Parent, string(it.Kind), it.Name, string(it.Status), it.StatusLabel,
				it.Conditions, it.ReviewOn, it.Reason, it.OFFCategory, it.GPCBrick})
		}
		w.Flush()
		return buf.Bytes(), w.Error()
	})
}

// ShopsCSVHeader is the header row of /shops.csv.
var ShopsCSVHeader = []string{"slug", "name", "kind", "address", "commune", "latitude", "longitude", "hours", "contact", "website",
	"network", "status", "signed_on", "renewal_on", "categories"}

func (h *Handlers) shopsCSV(c *fiber.Ctx) error {
	return h.serve(c, "csv:shops", csvType, dataCacheControl, func(ctx context.Context) ([]byte, error) {
		shops, err := h.apiShopList(ctx, web.Council(c).ID)
		if err != nil {
			return nil, err
		}
		coord := func(f *float64) string {
			if f == nil {
				return ""
			}
			return strconv.FormatFloat(*f, 'f', -1, 64)
		}
		var buf bytes.Buffer
		w := csvout.NewWriter(&buf, false)
		_ = w.Write(ShopsCSVHeader)
		for _, s := range shops {
			_ = w.Write([]string{s.Slug, s.Name, string(s.Kind), s.Address, s.Commune, coord(s.Latitude), coord(s.Longitude), s.Hours,
				s.Contact, s.Website, s.Network, string(s.Status), s.SignedOn, s.RenewalOn, strings.Join(s.Categories, ";")})
		}
		w.Flush()
		return buf.Bytes(), w.Error()
	})
}

// marshalJSON encodes v without escaping <, > and & (the open data is not HTML).
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
