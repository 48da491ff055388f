package debate_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"cla/app"
	"cla/app/apptest"
	"cla/demo"
	"cla/governance/debate"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/pagecache"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

// perRender are the values a page draws for each rendering or session: the
// CSRF token and the form's idempotency key.
var perRender = regexp.MustCompile(`name="(_csrf|_idem)" value="[^"]*"`)

// TestSignedInDebatePageSentGzipped: a signed-in member whose browser accepts
// gzip gets the debate page gzipped (the kept shared part spliced in,
// compressed once), and it is the very page a browser without gzip gets, and
// the page rendered in one piece by an app without the page cache; a refused
// argument's page is gzipped too, with its 422 and the text as typed.
func TestSignedInDebatePageSentGzipped(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	memberID, email := webtest.CreateMember(t, db, co.ID, authz.Member, "Zoé <b>")
	actor := audit.Actor{AccountID: memberID, Name: "Zoé <b>", Role: authz.Member}
	for _, body := range []string{
		"Le riz local " + strings.Repeat("nourrit la Camargue. ", 300),
		pagecache.StandIn[:20] + "--> <!-- `\x1f\x8b` **gras** é",
		"<script>alert(1)</script> " + pagecache.StandIn,
	} {
		if _, err := debate.AddArgument(ctx, db, co.ID, "riz-de-camargue", actor, debate.ArgumentInput{Stance: debate.StanceFor, BodyMD: body}); err != nil {
			t.Fatal(err)
		}
	}
	signIn := func(cfg app.Config) *webtest.Client {
		c := webtest.New(t, apptest.New(t, db, cfg))
		c.Host = webtest.HostFor(t, db, co.ID)
		c.SignInAs(email, webtest.Password)
		return c
	}
	member := signIn(app.Config{})
	get := func(c *webtest.Client, acceptEncoding string, vary bool) (*http.Response, string) {
		t.Helper()
		c.Header.Set("Accept-Encoding", acceptEncoding)
		resp, body := c.Get("/debats/riz-de-camargue")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "nourrit la Camargue") || !strings.Contains(body, "Publier l'argument") {
			t.Fatalf("Accept-Encoding %q: status %d, or the page lacks the arguments or the form", acceptEncoding, resp.StatusCode)
		}
		if vary != strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Accept-Encoding") {
			t.Errorf("Accept-Encoding %q: Vary %q", acceptEncoding, resp.Header.Values("Vary"))
		}
		if resp.Header.Get("ETag") != "" {
			t.Errorf("a member's page has a validator: %q", resp.Header.Get("ETag"))
		}
		return resp, perRender.ReplaceAllString(body, "$1")
	}
	resp, plain := get(member, "", true)
	if enc := resp.Header.Get("Content-Encoding"); enc != "" {
		t.Fatalf("no Accept-Encoding: Content-Encoding %q", enc)
	}
	if strings.Contains(plain, pagecache.StandIn) {
		t.Fatal("the stand-in was sent")
	}
	for range 2 { // the part compressed on the first, kept for the second
		resp, zipped := get(member, "gzip, deflate, br", true)
		if enc := resp.Header.Get("Content-Encoding"); enc != "gzip" {
			t.Fatalf("Accept-Encoding gzip: Content-Encoding %q", enc)
		}
		if zipped != plain {
			t.Fatalf("the gzipped page (%d bytes) is not the plain one (%d)", len(zipped), len(plain))
		}
		if resp.ContentLength <= 0 || resp.ContentLength > int64(len(plain)/2) {
			t.Errorf("gzipped page sent in %d bytes for %d", resp.ContentLength, len(plain))
		}
	}
	// Without the cache nothing is kept: the page is rendered in one piece
	// and sent plain, not compressed on each request.
	if resp, inline := get(signIn(app.Config{PageCacheOff: true}), "gzip", false); inline != plain || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("the page rendered in one piece differs from the spliced one, or was compressed (Content-Encoding %q)", resp.Header.Get("Content-Encoding"))
	}

	member.Header.Set("Accept-Encoding", "gzip")
	resp, refused := member.PostForm("/debats/riz-de-camargue/arguments", url.Values{"stance": {"inconnue"}, "body": {"<!-- é " + pagecache.StandIn}})
	if resp.StatusCode != http.StatusUnprocessableEntity || resp.Header.Get("Content-Encoding") != "gzip" ||
		!strings.Contains(refused, "pas été publié : corrigez") || !strings.Contains(refused, "&lt;!-- é &lt;!--part-") ||
		!strings.Contains(refused, "nourrit la Camargue") {
		t.Errorf("refused argument: status %d, Content-Encoding %q, page with the refusal and the arguments: %v",
			resp.StatusCode, resp.Header.Get("Content-Encoding"), strings.Contains(refused, "nourrit la Camargue"))
	}
}
