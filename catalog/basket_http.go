package catalog

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/csvout"
	"cla/internal/web"
)

// ShopResolver finds the shop whose basket a request edits (by slug for
// facilitators, by the private follow-up link for the shop itself); its error
// is the page's answer (404 for a link that is not this shop's).
type ShopResolver func(c *fiber.Ctx) (*Shop, error)

// basketRoutes installs the shops' basket: the open data, the cashier page and
// the facilitators' editor.
func (h *Handlers) basketRoutes(app *fiber.App) {
	app.Get("/points-de-vente/:slug/caisse", h.cashier)
	BasketEditorRoutes(app, h.DB, "/gestion/points-de-vente/:slug/panier", func(c *fiber.Ctx) (*Shop, error) {
		return ShopBySlug(c.UserContext(), h.DB, web.Council(c).ID, c.Params("slug"))
	}, auth.Require(authz.BasketEdit))
}

// BasketEditorRoutes installs the editor of a shop's product list under prefix
// (GET the list, POST a product, POST …/import to preview a CSV and
// …/import/confirmer to import it, POST …/:id/supprimer), for the shop that
// resolve returns; mw run first (authorization).
func BasketEditorRoutes(r fiber.Router, db *bun.DB, prefix string, resolve ShopResolver, mw ...fiber.Handler) {
	e := &basketEditor{db: db, resolve: resolve}
	with := func(h fiber.Handler) []fiber.Handler { return append(append([]fiber.Handler{}, mw...), h) }
	r.Get(prefix, with(web.Gated(e.page))...)
	r.Post(prefix, with(e.add)...)
	r.Post(prefix+"/import", with(e.preview)...)
	r.Post(prefix+"/import/confirmer", with(e.confirm)...)
	r.Post(prefix+"/:id/supprimer", with(e.remove)...)
}

type basketEditor struct {
	db      *bun.DB
	resolve ShopResolver
}

// BasketEditView is the editor of a shop's product list.
type BasketEditView struct {
	web.Page
	Shop     *Shop
	Action   string // the editor's path, under which forms post
	Lines    []BasketLine
	Items    []Item // the register items a product may fall under
	Form     ProductInput
	Errors   apperr.Fields
	CSV      string         // the CSV being previewed
	Preview  []ProductInput // its lines, when all are valid
	Bad      []LineError    // its refused lines
	CSVError string         // the file's shape is wrong
}

func (e *basketEditor) view(c *fiber.Ctx, shop *Shop) (*BasketEditView, error) {
	ctx := c.UserContext()
	lines, err := ShopBasket(ctx, e.db, shop.CouncilID, shop.ID)
	if err != nil {
		return nil, err
	}
	items, err := loadItems(ctx, e.db, shop.CouncilID)
	if err != nil {
		return nil, err
	}
	action := editorAction(c)
	return &BasketEditView{Page: web.NewPage(c, "Produits vendus — "+shop.Name), Shop: shop, Action: action, Lines: lines, Items: items}, nil
}

func (e *basketEditor) render(c *fiber.Ctx, v *BasketEditView, status int) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("X-Robots-Tag", "noindex")
	c.Status(status)
	return web.Render(c, "catalog/basket_edit", v)
}

func (e *basketEditor) page(c *fiber.Ctx) error {
	shop, err := e.resolve(c)
	if err != nil {
		return err
	}
	v, err := e.view(c, shop)
	if err != nil {
		return err
	}
	return e.render(c, v, fiber.StatusOK)
}

func (e *basketEditor) add(c *fiber.Ctx) error {
	shop, err := e.resolve(c)
	if err != nil {
		return err
	}
	in := ProductInput{Name: web.Form(c, "name"), Code: web.Form(c, "code"), Item: web.Form(c, "item")}
	action := editorAction(c)
	path, err := web.CreateOnce(c, e.db, func(ctx context.Context, tx bun.Tx) (string, error) {
		return action, AddProductsTx(ctx, tx, shop, []ProductInput{in}, editorActor(c, shop))
	})
	var bad *BadLinesError
	fields := apperr.FieldsOf(err)
	if errors.As(err, &bad) || fields != nil {
		v, verr := e.view(c, shop)
		if verr != nil {
			return verr
		}
		v.Form, v.Errors = in, fields
		if bad != nil {
			v.Errors = formErrors(bad.Lines)
		}
		return e.render(c, v, fiber.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, path, "Produit ajouté : "+strings.TrimSpace(in.Name)+".")
}

// editorAction is the editor's path: the request's path up to its own part.
func editorAction(c *fiber.Ctx) string {
	action := strings.Clone(c.Path())
	if i := strings.Index(action, "/panier"); i >= 0 {
		action = action[:i+len("/panier")]
	}
	return action
}

// editorActor is who edits the list, for the audit trail: the signed-in
// facilitator on the facilitators' editor, the shop itself through its
// private follow-up link (whoever holds the link speaks for the shop).
func editorActor(c *fiber.Ctx, shop *Shop) audit.Actor {
	if v := web.ViewerOf(c); v != nil && strings.HasPrefix(c.Path(), "/gestion/") {
		return auth.ActorOf(v)
	}
	return audit.Actor{Name: shop.Name + " (lien de suivi du point de vente)"}
}

// formErrors puts the reasons of a one-line form back beside their fields.
func formErrors(bad []LineError) apperr.Fields {
	f := apperr.Fields{}
	for _, b := range bad {
		for _, r := range b.Reasons {
			switch {
			case strings.HasPrefix(r, "Le nom"):
				f.Add("name", r)
			case strings.Contains(r, "code") || strings.Contains(r, "Code") || strings.Contains(r, "clé") || strings.Contains(r, "chiffres"):
				f.Add("code", r)
			default:
				f.Add("item", r)
			}
		}
	}
	return f
}

func (e *basketEditor) remove(c *fiber.Ctx) error {
	shop, err := e.resolve(c)
	if err != nil {
		return err
	}
	id, err := web.ParamID(c, "id")
	if err != nil {
		return apperr.New(apperr.NotFound, "Ce produit n'est pas dans la liste de ce point de vente.")
	}
	action := editorAction(c)
	// A second click on « Retirer » replays the first answer instead of
	// saying that the product is not found.
	path, err := web.CreateOnce(c, e.db, func(ctx context.Context, tx bun.Tx) (string, error) {
		return action, DeleteProductTx(ctx, tx, shop, id, editorActor(c, shop))
	})
	if f := apperr.FieldsOf(err); f != nil {
		v, verr := e.view(c, shop)
		if verr != nil {
			return verr
		}
		v.Errors = f
		return e.render(c, v, fiber.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, path, "Produit retiré de la liste.")
}

// maxBasketCSV bounds an imported file.
const maxBasketCSV = 1 << 20

// csvText is the CSV of an import form: the uploaded file, else the text area.
func csvText(c *fiber.Ctx) (string, error) {
	if fh, err := c.FormFile("fichier"); err == nil && fh.Size > 0 {
		if fh.Size > maxBasketCSV {
			return "", apperr.New(apperr.Invalid, "Le fichier dépasse 1 Mo.")
		}
		f, err := fh.Open()
		if err != nil {
			return "", apperr.New(apperr.Invalid, "Le fichier n'a pas pu être lu.")
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxBasketCSV))
		if err != nil {
			return "", apperr.New(apperr.Invalid, "Le fichier n'a pas pu être lu.")
		}
		return string(b), nil
	}
	s := web.Form(c, "csv")
	if len(s) > maxBasketCSV {
		return "", apperr.New(apperr.Invalid, "Le texte dépasse 1 Mo.")
	}
	return s, nil
}

// ParseBasketCSV reads a product list: a header row "nom;code;element" (or
// "name,code,item"; separator ; or ,), then one product per line. A file of
// another shape is refused whole, with a French message.
func ParseBasketCSV(text string) ([]ProductInput, error) {
	text = strings.TrimPrefix(strings.ReplaceAll(text, "\r\n", "\n"), "\ufeff")
	if strings.TrimSpace(text) == "" {
		return nil, apperr.New(apperr.Invalid, "Le fichier est vide : il faut une ligne d'en-tête « nom;code;element » puis un produit par ligne.")
	}
	first, _, _ := strings.Cut(text, "\n")
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = ','
	if strings.Count(first, ";") > strings.Count(first, ",") {
		r.Comma = ';'
	}
	r.FieldsPerRecord = 3
	r.TrimLeadingSpace = true
	header, err := r.Read()
	shapeErr := apperr.New(apperr.Invalid, "Le fichier n'a pas la forme attendue : trois colonnes, avec l'en-tête « nom;code;element » (séparateur ; ou ,).")
	if err != nil {
		return nil, shapeErr
	}
	for i, want := range [][2]string{{"nom", "name"}, {"code", "code"}, {"element", "item"}} {
		h := strings.ToLower(strings.TrimSpace(header[i]))
		if h != want[0] && h != want[1] && !(i == 2 && h == "élément") {
			return nil, shapeErr
		}
	}
	var out []ProductInput
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, apperr.New(apperr.Invalid, "Ligne %d : le fichier n'a pas la forme attendue (trois colonnes nom, code, element ; guillemets fermés).", pe.Line)
			}
			return nil, shapeErr
		}
		if strings.TrimSpace(strings.Join(rec, "")) == "" {
			continue
		}
		out = append(out, ProductInput{Line: line, Name: rec[0], Code: rec[1], Item: rec[2]})
		if len(out) > maxBasketProducts {
			return nil, apperr.New(apperr.Invalid, "Le fichier compte trop de lignes (%d produits au plus).", maxBasketProducts)
		}
	}
	if len(out) == 0 {
		return nil, apperr.New(apperr.Invalid, "Le fichier ne contient aucun produit après la ligne d'en-tête.")
	}
	return out, nil
}

// importCSV parses and checks the posted CSV; confirm also writes it.
func (e *basketEditor) importCSV(c *fiber.Ctx, confirm bool) error {
	shop, err := e.resolve(c)
	if err != nil {
		return err
	}
	text, terr := csvText(c)
	v, err := e.view(c, shop)
	if err != nil {
		return err
	}
	v.CSV = text
	var lines []ProductInput
	if terr == nil {
		lines, terr = ParseBasketCSV(text)
	}
	if terr != nil {
		v.CSVError = apperr.MessageOf(terr)
		return e.render(c, v, fiber.StatusUnprocessableEntity)
	}
	var bad []LineError
	if confirm {
		var path string
		path, err = web.CreateOnce(c, e.db, func(ctx context.Context, tx bun.Tx) (string, error) {
			return v.Action, AddProductsTx(ctx, tx, shop, lines, editorActor(c, shop))
		})
		var be *BadLinesError
		if errors.As(err, &be) {
			bad, err = be.Lines, nil
		} else if f := apperr.FieldsOf(err); f != nil {
			v.CSVError = apperr.MessageOf(err)
			return e.render(c, v, fiber.StatusUnprocessableEntity)
		} else if err == nil {
			return web.RedirectWithFlash(c, path, strconv.Itoa(len(lines))+" produits importés.")
		}
	} else {
		_, bad, err = CheckProducts(c.UserContext(), e.db, shop.CouncilID, shop.ID, lines)
	}
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		v.Bad = bad
		return e.render(c, v, fiber.StatusUnprocessableEntity)
	}
	v.Preview = lines
	return e.render(c, v, fiber.StatusOK)
}

func (e *basketEditor) preview(c *fiber.Ctx) error { return e.importCSV(c, false) }
func (e *basketEditor) confirm(c *fiber.Ctx) error { return e.importCSV(c, true) }

// CashierView is the cashier's page: type a name or a code, see the basket.
type CashierView struct {
	web.Page
	Shop     *Shop
	Q        string
	Searched bool
	Results  []BasketLine
	Empty    bool // the shop has listed no product yet
}

func (h *Handlers) cashier(c *fiber.Ctx) error {
	slug := strings.Clone(c.Params("slug"))
	if !slugRE.MatchString(slug) {
		return apperr.New(apperr.NotFound, "Ce point de vente n'existe pas.")
	}
	q := strings.TrimSpace(strings.Clone(c.Query("q")))
	if len(q) > 200 {
		q = q[:200]
	}
	// The page may use the camera (the barcode reader, caisse.js); every
	// other page keeps it off.
	c.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=(), interest-cohort=()")
	key := ""
	if q == "" {
		key = "/points-de-vente/" + slug + "/caisse"
	}
	return h.html(c, key, "catalog/cashier", func(ctx context.Context) (any, error) {
		co := web.Council(c)
		shop, err := ShopBySlug(ctx, h.DB, co.ID, slug)
		if err != nil {
			return nil, err
		}
		v := CashierView{Page: web.NewPage(c, "Caisse — "+shop.Name), Shop: shop, Q: q, Searched: q != ""}
		if q != "" {
			if v.Results, err = FindInBasket(ctx, h.DB, co.ID, shop.ID, q); err != nil {
				return nil, err
			}
		}
		if len(v.Results) == 0 {
			var n int
			if n, err = h.DB.NewSelect().Table("shop_products").Where("council_id = ? AND shop_id = ?", co.ID, shop.ID).Count(ctx); err != nil {
				return nil, err
			}
			v.Empty = n == 0
		}
		return v, nil
	})
}

// APIBasketLine is a product of /api/v1/shops/{slug}/basket.
type APIBasketLine struct {
	Code      string  `json:"code"`
	Name      string  `json:"name"`
	Item      string  `json:"item"`
	Basket    Basket  `json:"basket"`
	Reason    string  `json:"reason"`
	ValidFrom string  `json:"valid_from"`
	ValidTo   *string `json:"valid_to"`
	Removed   bool    `json:"removed,omitempty"`
}

// APIBasket is the document of /api/v1/shops/{slug}/basket.
type APIBasket struct {
	Council  string          `json:"council"`
	Shop     string          `json:"shop"`
	Version  int             `json:"version"`
	Since    *int            `json:"since,omitempty"`
	Products []APIBasketLine `json:"products"`
}

// BasketCSVHeader is the header row of /api/v1/shops/{slug}/basket.csv.
var BasketCSVHeader = []string{"version", "code", "name", "item", "basket", "reason", "valid_from", "valid_to", "removed"}

func (h *Handlers) basketDoc(ctx context.Context, c *fiber.Ctx, slug string, since int) (*APIBasket, error) {
	co := web.Council(c)
	shop, err := ShopBySlug(ctx, h.DB, co.ID, slug)
	if err != nil {
		return nil, err
	}
	cur, err := CurrentVersion(ctx, h.DB, co.ID)
	if err != nil {
		return nil, err
	}
	doc := &APIBasket{Council: co.Slug, Shop: shop.Slug, Products: []APIBasketLine{}}
	if cur != nil {
		doc.Version = cur.Number
	}
	var lines []BasketLine
	if since >= 0 {
		if since > doc.Version {
			return nil, apperr.New(apperr.Invalid, "La version %d du registre n'existe pas encore (version en vigueur : %d).", since, doc.Version)
		}
		doc.Since = &since
		lines, err = BasketSince(ctx, h.DB, co.ID, shop.ID, since)
	} else {
		lines, err = ShopBasket(ctx, h.DB, co.ID, shop.ID)
	}
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		doc.Products = append(doc.Products, APIBasketLine{Code: l.Code, Name: l.Name, Item: l.ItemSlug, Basket: l.Basket,
			Reason: l.Reason, ValidFrom: l.ValidFrom.Format("2006-01-02"), ValidTo: datePtr(l.ValidTo), Removed: l.Removed})
	}
	return doc, nil
}

func datePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.Format("2006-01-02")
	return &s
}

// basketQuery reads the slug and ?since= of a basket request (-1: none).
func basketQuery(c *fiber.Ctx) (string, int, error) {
	slug := strings.Clone(c.Params("slug"))
	if !slugRE.MatchString(slug) {
		return "", 0, apperr.New(apperr.NotFound, "Ce point de vente n'existe pas.")
	}
	since := -1
	if s := c.Query("since"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 1e7 {
			return "", 0, apperr.New(apperr.Invalid, "Le paramètre since doit être un numéro de version du registre (0, 1, 2…).")
		}
		since = n
	}
	return slug, since, nil
}

func (h *Handlers) apiBasket(c *fiber.Ctx) error {
	slug, since, err := basketQuery(c)
	if err != nil {
		return err
	}
	return h.serve(c, "api:basket:"+slug+":"+strconv.Itoa(since), jsonType, dataCacheControl, func(ctx context.Context) ([]byte, error) {
		doc, err := h.basketDoc(ctx, c, slug, since)
		if err != nil {
			return nil, err
		}
		return marshalJSON(doc)
	})
}

func (h *Handlers) apiBasketCSV(c *fiber.Ctx) error {
	slug, since, err := basketQuery(c)
	if err != nil {
		return err
	}
	return h.serve(c, "csv:basket:"+slug+":"+strconv.Itoa(since), csvType, dataCacheControl, func(ctx context.Context) ([]byte, error) {
		doc, err := h.basketDoc(ctx, c, slug, since)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		w := csvout.NewWriter(&buf, false)
		_ = w.Write(append([]string(nil), BasketCSVHeader...))
		v := strconv.Itoa(doc.Version)
		for _, p := range doc.Products {
			to, removed := "", ""
			if p.ValidTo != nil {
				to = *p.ValidTo
			}
			if p.Removed {
				removed = "1"
			}
			_ = w.Write([]string{v, p.Code, p.Name, p.Item, string(p.Basket), p.Reason, p.ValidFrom, to, removed})
		}
		w.Flush()
		return buf.Bytes(), w.Error()
	})
}
