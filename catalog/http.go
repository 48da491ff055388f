package catalog

import (
	"bytes"
	"context"
	"html/template"
	"log/slog"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/pagecache"
	"cla/internal/web"
)

// Handlers serves the register's public pages, open data and the
// facilitators' wording corrections.
type Handlers struct {
	DB     *bun.DB
	Logger *slog.Logger
	// Cache holds the anonymous pages and the open data (the one page cache
	// of every public page, internal/pagecache). Routes or OpenDataRoutes
	// creates it (and stops it when the app shuts down) when nil.
	Cache *pagecache.Cache
	// ItemDebates lists the debates linked to a register item, for the links
	// from its page (issue 20, point 5). The catalog never imports governance:
	// app wires debate.DebatesOfItem here, and the debate package touches the
	// cache (Touch) when it changes those links. Nil shows none.
	ItemDebates func(ctx context.Context, db bun.IDB, councilID, itemID int64) ([]RelatedLink, error)
}

// RelatedLink is a page of another domain that bears on a register item.
type RelatedLink struct {
	Href  string `bun:"href"`
	Label string `bun:"label"`
}

// Cache-Control policies.
const (
	htmlCacheControl = "no-cache"           // revalidate every time, with the ETag
	dataCacheControl = "public, max-age=60" // open data: short, then revalidate
	privateNoCache   = "private, no-cache"
)

func (h *Handlers) ensureCache(app *fiber.App) {
	if h.Cache == nil {
		h.Cache = pagecache.New(h.DB, h.Logger)
		cache := h.Cache
		app.Hooks().OnShutdown(func() error { cache.Close(); return nil })
	}
}

// OpenDataRoutes lists the open-data routes (JSON and CSV). They use no
// session, so the app installs them before the session middleware: a cached
// answer then costs no more than the council lookup.
func (h *Handlers) OpenDataRoutes(app *fiber.App) {
	h.ensureCache(app)
	app.Get("/api/v1/register", h.apiRegister)
	app.Get("/api/v1/register/versions", h.apiVersions)
	app.Get("/api/v1/register/versions/:n", h.apiVersion)
	app.Get("/api/v1/shops", h.apiShops)
	app.Get("/api/v1/shops/:slug/basket", h.apiBasket)
	app.Get("/api/v1/shops/:slug/basket.csv", h.apiBasketCSV)
	app.Get("/api/v1/audit/head", h.apiAuditHead)
	app.Get("/register.csv", h.registerCSV)
	app.Get("/shops.csv", h.shopsCSV)
}

// Routes lists the register's pages and the facilitators' wording form (install
// OpenDataRoutes too). The first of the two to run creates the cache and stops
// it when the app shuts down.
func (h *Handlers) Routes(app *fiber.App) {
	h.ensureCache(app)
	app.Get("/", h.home)
	app.Get("/registre", h.register)
	app.Get("/registre/versions", h.versions)
	app.Get("/registre/changements", h.diff)
	app.Get("/registre/:slug", h.item)
	app.Get("/puis-je-acheter", h.search)
	app.Get("/points-de-vente", h.shops)
	app.Get("/points-de-vente/:slug", h.shop)
	app.Get("/points-de-vente/:slug/affiche", h.poster)

	app.Get("/gestion/registre/:slug", auth.Require(authz.EditItemWording), h.wordingForm)
	app.Post("/gestion/registre/:slug", auth.Require(authz.EditItemWording), h.wordingSave)
	h.basketRoutes(app)
}

// pageOf is the page group of a key of serve.
func pageOf(key string) pagecache.Page {
	switch {
	case strings.HasPrefix(key, "api:") || strings.HasPrefix(key, "csv:"):
		return pagecache.PageOpenData
	case key == "/":
		return pagecache.PageHome
	case strings.HasPrefix(key, posterKey):
		return pagecache.PagePosters
	case strings.HasPrefix(key, "/points-de-vente"):
		return pagecache.PageShops
	default:
		return pagecache.PageRegister
	}
}

// serve answers from the cache for anonymous visitors; otherwise (or on a miss,
// or when key is "": an answer not worth keeping) build computes the body,
// within the app's gate (web.Gate): cache hits never wait. The epoch is read before build reads the database,
// so an entry built across a change is not kept.
func (h *Handlers) serve(c *fiber.Ctx, key, contentType, cacheControl string, build func(ctx context.Context) ([]byte, error)) error {
	co := web.Council(c)
	shared := web.ViewerOf(c) == nil && !web.HasFlash(c) && key != "" && !h.Cache.IsDisabled()
	if !shared && strings.HasPrefix(contentType, "text/html") {
		cacheControl = privateNoCache
	}
	page := pageOf(key)
	if shared {
		if e, _ := h.Cache.Get(co.ID, page, key); e != nil {
			return e.Send(c)
		}
	}
	var e *pagecache.Entry
	if shared {
		// One build per key at a time: after a change, concurrent visitors
		// wait for the first one's rendering instead of all rendering.
		v, err := h.Cache.Flight(co.ID, key, func() (any, error) {
			_, epoch := h.Cache.Get(co.ID, page, "")
			body, err := gatedBuild(c, build)
			if err != nil {
				return nil, err
			}
			e := pagecache.NewEntry(body, contentType, cacheControl)
			h.Cache.Put(co.ID, page, key, epoch, e)
			return e, nil
		})
		if err != nil {
			return err
		}
		e = v.(*pagecache.Entry)
	} else {
		body, err := gatedBuild(c, build)
		if err != nil {
			return err
		}
		e = pagecache.NewEntry(body, contentType, cacheControl)
	}
	return e.Send(c)
}

// pageBuffers are rendering buffers, reused: a page grown from an empty
// buffer allocated three times its size.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// gatedBuild runs build within the app's gate.
func gatedBuild(c *fiber.Ctx, build func(ctx context.Context) ([]byte, error)) ([]byte, error) {
	leave, err := web.EnterGate(c)
	if err != nil {
		return nil, err
	}
	defer leave()
	return build(c.UserContext())
}

// page renders a template to bytes for serve.
func page(c *fiber.Ctx, name string, view any) ([]byte, error) {
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer pageBuffers.Put(buf)
	buf.Reset()
	if err := web.RenderTo(c, buf, name, view); err != nil {
		return nil, err
	}
	return bytes.Clone(buf.Bytes()), nil
}

func (h *Handlers) html(c *fiber.Ctx, key, name string, build func(ctx context.Context) (any, error)) error {
	return h.serve(c, key, fiber.MIMETextHTMLCharsetUTF8, htmlCacheControl, func(ctx context.Context) ([]byte, error) {
		view, err := build(ctx)
		if err != nil {
			return nil, err
		}
		return page(c, name, view)
	})
}

// StatusCount is one line of the register summary.
type StatusCount struct {
	Status Status
	Count  int
}

// HomeView is the home page: the current register at a glance.
type HomeView struct {
	web.Page
	Counts   []StatusCount
	Families []*Row
	Current  *Version
}

func (h *Handlers) home(c *fiber.Ctx) error {
	return h.html(c, "/", "catalog/home", func(ctx context.Context) (any, error) {
		co := web.Council(c)
		families, cur, err := CurrentRegister(ctx, h.DB, co.ID)
		if err != nil {
			return nil, err
		}
		counts, err := StatusCounts(ctx, h.DB, co.ID)
		if err != nil {
			return nil, err
		}
		view := HomeView{Page: web.NewPage(c, "Accueil"), Families: families, Current: cur}
		for _, s := range Statuses {
			view.Counts = append(view.Counts, StatusCount{Status: s, Count: counts[s]})
		}
		return view, nil
	})
}

// RegisterView is the full register page.
type RegisterView struct {
	web.Page
	Sections template.HTML // RegisterSections of the register's outline
	Current  *Version
}

func (h *Handlers) register(c *fiber.Ctx) error {
	return h.html(c, "/registre", "catalog/register", func(ctx context.Context) (any, error) {
		families, cur, err := CurrentRegister(ctx, h.DB, web.Council(c).ID)
		if err != nil {
			return nil, err
		}
		return RegisterView{Page: web.NewPage(c, "Ce que mon allocation peut payer"), Sections: RegisterSections(families), Current: cur}, nil
	})
}

// ItemView is an item's page: its status, explanation and history.
type ItemView struct {
	web.Page
	Item     *Item
	Parent   *Item
	Children []Item
	History  []HistoryEntry
	Shops    []Shop
	CanEdit  bool
	Debates  []RelatedLink
}

func (h *Handlers) item(c *fiber.Ctx) error {
	slug := c.Params("slug")
	if !slugRE.MatchString(slug) {
		return apperr.New(apperr.NotFound, "Cet élément du registre n'existe pas.")
	}
	return h.html(c, "/registre/"+slug, "catalog/item", func(ctx context.Context) (any, error) {
		co := web.Council(c)
		node, parentItem, err := ItemFamily(ctx, h.DB, co.ID, slug)
		if err != nil {
			return nil, err
		}
		view := ItemView{Page: web.NewPage(c, node.Name), Item: &node.Item, Parent: parentItem}
		for _, ch := range node.Children {
			view.Children = append(view.Children, ch.Item)
		}
		if view.History, err = ItemHistory(ctx, h.DB, co.ID, node.ID); err != nil {
			return nil, err
		}
		err = h.DB.NewSelect().Model(&view.Shops).ColumnExpr("shop.slug, shop.name, shop.commune").
			Join("JOIN shop_categories AS sc ON sc.shop_id = shop.id AND sc.council_id = shop.council_id").
			Where("shop.council_id = ? AND shop.status = ? AND sc.item_id IN (?)", co.ID, ShopConventionne, bun.List(ancestry(node, parentItem))).
			GroupExpr("shop.id").Order("shop.name").Scan(ctx)
		if err != nil {
			return nil, err
		}
		if h.ItemDebates != nil {
			if view.Debates, err = h.ItemDebates(ctx, h.DB, co.ID, node.ID); err != nil {
				return nil, err
			}
		}
		if v := view.Viewer; v != nil {
			view.CanEdit = canEditWording(v)
		}
		return view, nil
	})
}

// ancestry is the ids of an item and its parent: a shop carrying "Viande"
// carries its products too.
func ancestry(n *Node, parent *Item) []int64 {
	ids := []int64{n.ID}
	if parent != nil {
		ids = append(ids, parent.ID)
		if parent.ParentID != nil {
			ids = append(ids, *parent.ParentID)
		}
	}
	return ids
}

// ShopsView is the directory of points de vente.
type ShopsView struct {
	web.Page
	Shops    []Shop
	Communes []string
	Kinds    []ShopKind
	Statuses []ShopStatus
	Commune  string
	Kind     ShopKind
	Status   ShopStatus
	Filtered bool
}

func (h *Handlers) shops(c *fiber.Ctx) error {
	kind, status, commune := ShopKind(c.Query("type")), ShopStatus(c.Query("statut")), c.Query("commune")
	if !kind.Valid() {
		kind = ""
	}
	if !status.Valid() {
		status = ""
	}
	if len(commune) > 120 {
		commune = ""
	}
	commune = strings.Clone(commune)
	key := "/points-de-vente?" + url.Values{"type": {string(kind)}, "statut": {string(status)}}.Encode()
	if commune != "" {
		// Communes are free text: such pages are not kept, so that made-up
		// values cannot fill the cache.
		key = ""
	}
	return h.html(c, key, "catalog/shops", func(ctx context.Context) (any, error) {
		all, err := Shops(ctx, h.DB, web.Council(c).ID)
		if err != nil {
			return nil, err
		}
		view := ShopsView{Page: web.NewPage(c, "Points de vente"), Kinds: ShopKinds, Statuses: ShopStatuses,
			Kind: kind, Status: status, Filtered: kind != "" || status != "" || commune != ""}
		seen := map[string]bool{}
		for _, s := range all {
			if !seen[s.Commune] {
				seen[s.Commune] = true
				view.Communes = append(view.Communes, s.Commune)
			}
		}
		sort.Strings(view.Communes)
		if seen[commune] {
			view.Commune = commune
		}
		for _, s := range all {
			if (kind == "" || s.Kind == kind) && (status == "" || s.Status == status) && (view.Commune == "" || s.Commune == view.Commune) {
				view.Shops = append(view.Shops, s)
			}
		}
		return view, nil
	})
}

// ShopView is a point de vente's page: what the allocation can buy there.
type ShopView struct {
	web.Page
	Shop       *Shop
	Covered    []*Node // carried items the allocation pays for, with their exceptions
	NotCovered []*Node // carried items it does not pay for
	Current    *Version
	PageURL    string
	QR         template.HTML
}

// CanEditBasket reports whether the viewer may edit the shop's product list.
func (v *ShopView) CanEditBasket() bool {
	return v.Viewer != nil && authz.Can(authz.Role(v.Viewer.Role), authz.BasketEdit)
}

// shopView loads what a shop's page and poster show. Three queries.
func (h *Handlers) shopView(ctx context.Context, c *fiber.Ctx, slug string) (*ShopView, error) {
	co := web.Council(c)
	shop, err := ShopBySlug(ctx, h.DB, co.ID, slug)
	if err != nil {
		return nil, err
	}
	carried, err := ShopItems(ctx, h.DB, co.ID, shop.ID)
	if err != nil {
		return nil, err
	}
	cur, err := CurrentVersion(ctx, h.DB, co.ID)
	if err != nil {
		return nil, err
	}
	view := &ShopView{Page: web.NewPage(c, shop.Name), Shop: shop, Current: cur}
	for _, n := range carried {
		if n.Status == Conventionne || n.Status == SousConditions {
			view.Covered = append(view.Covered, n)
		} else {
			view.NotCovered = append(view.NotCovered, n)
		}
	}
	return view, nil
}

func (h *Handlers) shop(c *fiber.Ctx) error {
	slug := c.Params("slug")
	if !slugRE.MatchString(slug) {
		return apperr.New(apperr.NotFound, "Ce point de vente n'existe pas.")
	}
	return h.html(c, "/points-de-vente/"+slug, "catalog/shop", func(ctx context.Context) (any, error) {
		return h.shopView(ctx, c, slug)
	})
}

// posterKey prefixes the cache keys of the posters.
const posterKey = "poster:"

// PosterView is the printable A4 poster of a shop.
type PosterView struct {
	*ShopView
	Excluded []Item // what the allocation never pays for (non conventionné), register-wide
}

func (h *Handlers) poster(c *fiber.Ctx) error {
	slug := c.Params("slug")
	if !slugRE.MatchString(slug) {
		return apperr.New(apperr.NotFound, "Ce point de vente n'existe pas.")
	}
	base := strings.Clone(c.BaseURL())
	// Kept per host too: the QR code and the printed address are the
	// request's. The posters' group is bounded apart (pagecache.PagePosters),
	// so made-up Host headers cannot push out the shops' pages.
	return h.html(c, posterKey+base+"/points-de-vente/"+slug, "catalog/poster", func(ctx context.Context) (any, error) {
		sv, err := h.shopView(ctx, c, slug)
		if err != nil {
			return nil, err
		}
		sv.Title = "Affiche — " + sv.Shop.Name
		sv.PageURL = base + "/points-de-vente/" + slug
		if sv.QR, err = QRCodeSVG(sv.PageURL); err != nil {
			return nil, err
		}
		excluded, err := Excluded(ctx, h.DB, web.Council(c).ID)
		if err != nil {
			return nil, err
		}
		view := PosterView{ShopView: sv}
		// A refused family covers its categories: list the family only.
		refused := map[int64]bool{}
		for _, it := range excluded {
			refused[it.ID] = true
		}
		for _, it := range excluded {
			if it.ParentID == nil || !refused[*it.ParentID] {
				view.Excluded = append(view.Excluded, it)
			}
		}
		return view, nil
	})
}

// VersionsView is the history of register versions.
type VersionsView struct {
	web.Page
	Versions []Version
}

func (h *Handlers) versions(c *fiber.Ctx) error {
	return h.html(c, "/registre/versions", "catalog/versions", func(ctx context.Context) (any, error) {
		vs, err := Versions(ctx, h.DB, web.Council(c).ID)
		if err != nil {
			return nil, err
		}
		return VersionsView{Page: web.NewPage(c, "Les versions du registre"), Versions: vs}, nil
	})
}

// DiffView shows what changed between two register versions.
type DiffView struct {
	web.Page
	From, To *Version
	Lines    []DiffLine
	Numbers  []int
}

func (h *Handlers) diff(c *fiber.Ctx) error {
	from, errFrom := strconv.Atoi(c.Query("de", "0"))
	to, errTo := strconv.Atoi(c.Query("a", "0"))
	if errFrom != nil || errTo != nil || from < 0 || to < 0 || from > 1e6 || to > 1e6 {
		return apperr.New(apperr.Invalid, "Les numéros de version doivent être des nombres entiers.")
	}
	key := "/registre/changements?de=" + strconv.Itoa(from) + "&a=" + strconv.Itoa(to)
	return h.html(c, key, "catalog/diff", func(ctx context.Context) (any, error) {
		co := web.Council(c)
		vs, err := Versions(ctx, h.DB, co.ID)
		if err != nil {
			return nil, err
		}
		view := DiffView{Page: web.NewPage(c, "Ce qui a changé")}
		if len(vs) == 0 {
			return view, nil // the page says there is nothing to compare yet
		}
		if to == 0 {
			to = vs[0].Number
		}
		if from == 0 {
			from = to - 1
		}
		for _, v := range vs {
			view.Numbers = append(view.Numbers, v.Number)
		}
		var a, b *Snapshot
		if from >= 1 {
			va, err := VersionByNumber(ctx, h.DB, co.ID, from)
			if err != nil {
				return nil, err
			}
			view.From = va
			if a, err = va.Decode(); err != nil {
				return nil, err
			}
		}
		vb, err := VersionByNumber(ctx, h.DB, co.ID, to)
		if err != nil {
			return nil, err
		}
		view.To = vb
		if b, err = vb.Decode(); err != nil {
			return nil, err
		}
		view.Lines = Diff(a, b)
		return view, nil
	})
}
