package web

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"cla/internal/council"
	"cla/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// flashApp is the shared app with a route that sets a flash and one that
// shows the page's flash, over a real database with two councils.
func flashApp(t *testing.T) (*fiber.App, []byte, int64) {
	t.Helper()
	db := testdb.New(t)
	ctx := context.Background()
	cos := []*council.Council{{Slug: "conseil-a", Name: "Conseil A", IsDefault: true}, {Slug: "conseil-b", Name: "Conseil B"}}
	for _, co := range cos {
		if _, err := db.NewInsert().Model(co).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if !co.IsDefault {
			if _, err := db.ExecContext(ctx, "INSERT INTO council_hosts (host, council_id) VALUES ('b.test', ?)", co.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	app, err := New(Options{DB: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	app.Post("/fait", func(c *fiber.Ctx) error { return RedirectWithFlash(c, "/page#appel", "Appel enregistré.") })
	app.Post("/autre", func(c *fiber.Ctx) error { return RedirectWithFlash(c, "/page", "Autre message.") })
	app.Get("/page", func(c *fiber.Ctx) error { return c.SendString("flash=" + NewPage(c, "Page").Flash) })
	// A second instance over the same database shares the key.
	key, err := InstanceSecret(ctx, db, flashSecretName)
	if err != nil || len(key) != 32 {
		t.Fatalf("key: %d bytes, %v", len(key), err)
	}
	again, err := InstanceSecret(ctx, db, flashSecretName)
	if err != nil || string(again) != string(key) {
		t.Fatal("a second instance got another key")
	}
	return app, key, cos[0].ID
}

func flashDo(t *testing.T, app *fiber.App, method, path, host, cookie string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if host != "" {
		req.Host = host
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: FlashCookie, Value: cookie})
	}
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func flashCookieOf(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == FlashCookie {
			return c
		}
	}
	return nil
}

// clears reports whether resp deletes the flash cookie.
func clears(resp *http.Response) bool {
	c := flashCookieOf(resp)
	return c != nil && c.Value == "" && (c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Now())))
}

func TestFlashIsSignedShownOnceAndNeverReadFromTheURL(t *testing.T) {
	t.Parallel()
	app, key, defaultID := flashApp(t)

	resp, _ := flashDo(t, app, http.MethodPost, "/fait", "", "")
	ck := flashCookieOf(resp)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/page#appel" {
		t.Fatalf("redirect: %d %q (the message must not be in the URL)", resp.StatusCode, resp.Header.Get("Location"))
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.MaxAge <= 0 || ck.MaxAge > 300 {
		t.Fatalf("flash cookie: %+v", ck)
	}
	if strings.Contains(ck.Value, "Appel") {
		t.Error("the flash is not encoded")
	}
	resp, body := flashDo(t, app, http.MethodGet, "/page", "", ck.Value)
	if body != "flash=Appel enregistré." {
		t.Errorf("next page: %q", body)
	}
	if !clears(resp) {
		t.Errorf("the page that shows the flash does not clear it: %+v", flashCookieOf(resp))
	}
	if _, body := flashDo(t, app, http.MethodGet, "/page", "", ""); body != "flash=" {
		t.Errorf("a page without the cookie shows %q", body)
	}

	// Text in the URL is never a flash.
	if _, body := flashDo(t, app, http.MethodGet, "/page?ok=Compte+suspendu&flash=x", "", ""); body != "flash=" {
		t.Errorf("?ok= shown: %q", body)
	}
	// Forged, tampered, expired or another council's flashes show nothing.
	sign := func(councilID int64, exp time.Time, msg string) string {
		payload := []byte(strconv.FormatInt(exp.Unix(), 10) + "|" + msg)
		return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(flashMAC(key, councilID, payload))
	}
	if _, body := flashDo(t, app, http.MethodGet, "/page", "", sign(defaultID, time.Now().Add(time.Minute), "Signé")); body != "flash=Signé" {
		t.Fatalf("a well-signed flash: %q", body)
	}
	enc, sig, _ := strings.Cut(ck.Value, ".")
	forged := base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10)+"|Compte suspendu")) + "." + sig
	for name, value := range map[string]string{
		"forged":          forged,
		"unsigned":        enc,
		"garbage":         "%%%.!!!",
		"expired":         sign(defaultID, time.Now().Add(-time.Second), "Périmé"),
		"another council": sign(defaultID+1, time.Now().Add(time.Minute), "Conseil B"),
		"another key":     base64.RawURLEncoding.EncodeToString([]byte("9999999999|Autre clé")) + "." + base64.RawURLEncoding.EncodeToString(flashMAC(make([]byte, 32), defaultID, []byte("9999999999|Autre clé"))),
	} {
		resp, body := flashDo(t, app, http.MethodGet, "/page", "", value)
		if body != "flash=" {
			t.Errorf("%s flash shown: %q", name, body)
		}
		if !clears(resp) {
			t.Errorf("%s flash not cleared", name)
		}
	}
	// Council A's flash, replayed on council B's host, means nothing there.
	if _, body := flashDo(t, app, http.MethodGet, "/page", "b.test", ck.Value); body != "flash=" {
		t.Errorf("council A's flash on council B: %q", body)
	}
}

// The last signed value is reused for the same council, message and second
// (flashState.last): never for another council or message.
func TestFlashSignedOncePerCouncilAndMessage(t *testing.T) {
	t.Parallel()
	app, _, _ := flashApp(t)
	for i := 0; i < 3; i++ {
		for _, host := range []string{"", "b.test"} {
			for path, want := range map[string]string{"/fait": "Appel enregistré.", "/autre": "Autre message."} {
				resp, _ := flashDo(t, app, http.MethodPost, path, host, "")
				ck := flashCookieOf(resp)
				if ck == nil {
					t.Fatalf("%s on %q: no flash", path, host)
				}
				if _, body := flashDo(t, app, http.MethodGet, "/page", host, ck.Value); body != "flash="+want {
					t.Errorf("%s on %q, round %d: %q", path, host, i, body)
				}
				other := "b.test"
				if host == other {
					other = ""
				}
				if _, body := flashDo(t, app, http.MethodGet, "/page", other, ck.Value); body != "flash=" {
					t.Errorf("%s made on %q shown on %q: %q", path, host, other, body)
				}
			}
		}
	}
}
