package pagecache

import (
	"io/fs"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"cla/migrations"
)

func newTestCache() *Cache {
	return &Cache{councils: map[int64]*councilPages{}, cancel: func() {}, now: time.Now}
}

func TestInvalidateDropsTheAffectedPagesOnly(t *testing.T) {
	c := newTestCache()
	put := func(council int64, p Page, key string) {
		_, epoch := c.Get(council, p, "")
		c.Put(council, p, key, epoch, NewEntry([]byte(key), "text/html", "no-cache"))
	}
	put(1, PageDebate, "/debats/a")
	put(1, PageBoussole, "/boussole")
	put(2, PageDebate, "/debats/a")
	c.Invalidate(1, KindArguments)
	if e, _ := c.Get(1, PageDebate, "/debats/a"); e != nil {
		t.Error("an argument left its debate page cached")
	}
	if e, _ := c.Get(1, PageBoussole, "/boussole"); e == nil {
		t.Error("an argument dropped the boussole")
	}
	if e, _ := c.Get(2, PageDebate, "/debats/a"); e == nil {
		t.Error("an argument dropped another council's page")
	}
	// An unknown kind (a newer instance's) drops every page of the council.
	c.Invalidate(1, Kind("nouveau"))
	if e, _ := c.Get(1, PageBoussole, "/boussole"); e != nil {
		t.Error("an unknown kind kept a page")
	}
	// A page rendered across a change is not stored.
	_, epoch := c.Get(2, PageSearch, "")
	c.Invalidate(2, KindArguments)
	c.Put(2, PageSearch, "/recherche?q=x", epoch, NewEntry([]byte("old"), "text/html", "no-cache"))
	if e, _ := c.Get(2, PageSearch, "/recherche?q=x"); e != nil {
		t.Error("a page rendered before a change was stored after it")
	}
}

func TestClockDependentPagesExpire(t *testing.T) {
	c := newTestCache()
	now := time.Now()
	c.now = func() time.Time { return now }
	_, epoch := c.Get(1, PageMeetings, "")
	c.Put(1, PageMeetings, "/seances", epoch, NewEntry([]byte("x"), "text/html", "no-cache"))
	if e, _ := c.Get(1, PageMeetings, "/seances"); e == nil {
		t.Fatal("not stored")
	}
	now = now.Add(MaxAge[PageMeetings] + time.Second)
	if e, _ := c.Get(1, PageMeetings, "/seances"); e != nil {
		t.Error("the meetings list outlived its MaxAge")
	}
}

func TestKeyNormalisesTheQuery(t *testing.T) {
	app := fiber.New()
	keys := map[string]string{}
	app.Get("/*", func(c *fiber.Ctx) error { keys[string(c.Request().URI().QueryString())] = Key(c); return nil })
	for _, q := range []string{"b=2&a=1", "a=1&b=2", "q=x"} {
		if _, err := app.Test(httptest.NewRequest("GET", "/recherche?"+q, nil)); err != nil {
			t.Fatal(err)
		}
	}
	if keys["b=2&a=1"] != keys["a=1&b=2"] || keys["a=1&b=2"] != "/recherche?a=1&b=2" {
		t.Errorf("keys %v", keys)
	}
	long := "q=" + strings.Repeat("x", 300)
	if _, err := app.Test(httptest.NewRequest("GET", "/recherche?"+long, nil)); err != nil {
		t.Fatal(err)
	}
	if keys[long] != "" {
		t.Error("a long query is kept")
	}
}

func TestETagMatches(t *testing.T) {
	if !ETagMatches(`"a", W/"b"`, `"b"`) || ETagMatches(`"a"`, `"b"`) || !ETagMatches("*", `"b"`) {
		t.Error("If-None-Match")
	}
}

// Every kind a trigger of the migrations bumps is in the dependency table,
// and every page group is affected by some kind.
func TestEveryTriggerKindHasItsPages(t *testing.T) {
	files, err := fs.Glob(migrations.FS, "*.up.sql")
	if err != nil {
		t.Fatal(err)
	}
	kind := regexp.MustCompile(`page_generations_(?:touch|bump)\((?:ARRAY\[[^\]]*\], )?'([a-z_]+)'\)`)
	seen := map[Kind]bool{}
	for _, f := range files {
		b, err := fs.ReadFile(migrations.FS, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range kind.FindAllSubmatch(b, -1) {
			seen[Kind(m[1])] = true
		}
	}
	if len(seen) < 10 {
		t.Fatalf("only %d kinds found in the migrations", len(seen))
	}
	for k := range seen {
		if _, ok := Affects[k]; !ok {
			t.Errorf("kind %q (a trigger of the migrations) affects no page: add it to Affects", k)
		}
	}
	for _, p := range allPages {
		found := false
		for k, pages := range Affects {
			if k != KindCouncil && slices.Contains(pages, p) {
				found = true
			}
		}
		if !found {
			t.Errorf("page group %q depends on no kind of data", p)
		}
	}
}

// Each council's page group keeps a bounded number of pages, search fewer
// than the others; a value (Value) is built once and dropped like a page.
func TestBoundsAndValues(t *testing.T) {
	c := newTestCache()
	for i := 0; i < 100; i++ {
		for _, p := range []Page{PageSearch, PageDebate} {
			_, epoch := c.Get(1, p, "")
			c.Put(1, p, "/x?"+strings.Repeat("a", i), epoch, NewEntry([]byte("x"), "text/html", "no-cache"))
		}
	}
	if n := len(c.councils[1].pages[PageSearch]); n != maxSearchEntries {
		t.Errorf("%d search pages kept, want %d", n, maxSearchEntries)
	}
	if n := len(c.councils[1].pages[PageDebate]); n != 100 {
		t.Errorf("%d debate pages kept, want 100", n)
	}
	builds := 0
	build := func() (any, error) { builds++; return builds, nil }
	for i := 0; i < 3; i++ {
		if v, err := c.Value(1, PageDebate, "/debats/a", build); err != nil || v != 1 {
			t.Fatalf("value %v, %v: want the first build", v, err)
		}
	}
	c.Invalidate(1, KindArguments)
	if v, _ := c.Value(1, PageDebate, "/debats/a", build); v != 2 || builds != 2 {
		t.Errorf("after a change: value %v after %d builds, want a second build", v, builds)
	}
}
