package odoo_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"cla/internal/apperr"
	"cla/internal/odoo"
	"cla/internal/odoo/odootest"
	"cla/internal/outbound"
)

// shops fills the stand-in with partners as Lokavaluto keeps them.
func shops(s *odootest.Server) (fournil, marche, epicerie, archived int, boulangerie int) {
	boulangerie = s.AddIndustry("Boulangerie")
	marches := s.AddIndustry("Marché")
	fournil = s.AddPartner(map[string]any{"name": "Fournil des Comètes", "is_company": true, "industry_id": boulangerie,
		"convention_signature_date": "2025-03-12", "accept_digital_currency": true, "siret": "73282932000074", "ref": "PDV-3"})
	marche = s.AddPartner(map[string]any{"name": "Marché du Lavoir", "is_company": true, "industry_id": marches,
		"convention_signature_date": "2024-04-03", "to_renew": true})
	epicerie = s.AddPartner(map[string]any{"name": "Épicerie du Bourg", "is_company": true, "siret": "35600000049837"})
	archived = s.AddPartner(map[string]any{"name": "Ancien fournil", "active": false})
	return
}

func TestSearchReadAndPartners(t *testing.T) {
	t.Parallel()
	s := odootest.New(t)
	fournil, marche, epicerie, _, boulangerie := shops(s)
	c := s.Client()
	ctx := context.Background()

	uid, err := c.Authenticate(ctx)
	if err != nil || uid != s.UID {
		t.Fatalf("Authenticate = %d, %v", uid, err)
	}
	ps, err := c.FindPartners(ctx, "FOURNIL", 10)
	if err != nil {
		t.Fatal(err)
	}
	want := odoo.Partner{ID: fournil, Name: "Fournil des Comètes", Ref: "PDV-3", SIRET: "73282932000074",
		ConventionSignatureDate: "2025-03-12", IndustryID: boulangerie, IndustryName: "Boulangerie", AcceptDigitalCurrency: true}
	if len(ps) != 1 || ps[0] != want { // the archived "Ancien fournil" is hidden, as in Odoo
		t.Fatalf("FindPartners(FOURNIL) = %+v, want [%+v]", ps, want)
	}
	ps, err = c.FindPartners(ctx, "356 000 000 49837", 10)
	if err != nil || len(ps) != 1 || ps[0].ID != epicerie || ps[0].ConventionSignatureDate != "" || ps[0].IndustryID != 0 {
		t.Fatalf("FindPartners(SIRET) = %+v, %v", ps, err)
	}
	ps, err = c.Partners(ctx, []int{marche, epicerie, 999})
	if err != nil || len(ps) != 2 || ps[0].ID != epicerie || ps[1].ID != marche || !ps[1].ToRenew {
		t.Fatalf("Partners = %+v, %v", ps, err)
	}
	// Authentication happened once; every later call reused the uid.
	auth := 0
	for _, call := range s.Calls() {
		if call.Method == "authenticate" {
			auth++
		}
	}
	if auth != 1 {
		t.Fatalf("%d authenticate calls, want 1", auth)
	}
}

func TestWrite(t *testing.T) {
	t.Parallel()
	s := odootest.New(t)
	_, marche, epicerie, _, boulangerie := shops(s)
	c := s.Client()
	ctx := context.Background()
	values := map[string]any{
		odoo.FieldConventionSignatureDate: "2025-04-09", odoo.FieldToRenew: false,
		odoo.FieldAcceptDigitalCurrency: true, odoo.FieldIndustry: boulangerie,
	}
	for range 2 { // idempotent: writing the same values twice changes nothing more
		if err := c.Write(ctx, odoo.PartnerModel, []int{epicerie}, values); err != nil {
			t.Fatal(err)
		}
	}
	p := s.Partner(epicerie)
	if p["convention_signature_date"] != "2025-04-09" || p["to_renew"] != false || p["accept_digital_currency"] != true || p["industry_id"] != boulangerie {
		t.Fatalf("partner after write: %v", p)
	}
	// false clears a date, as in Odoo.
	if err := c.Write(ctx, odoo.PartnerModel, []int{marche}, map[string]any{odoo.FieldConventionSignatureDate: false}); err != nil {
		t.Fatal(err)
	}
	if got := s.Partner(marche)["convention_signature_date"]; got != nil {
		t.Fatalf("cleared date = %v", got)
	}
	var writes []odootest.Call
	for _, call := range s.Calls() {
		if call.ModelMethod == "write" {
			writes = append(writes, call)
		}
	}
	if len(writes) != 3 || writes[0].Model != "res.partner" || len(writes[0].Args) != 2 {
		t.Fatalf("writes seen by the server: %+v", writes)
	}
}

func TestOdooErrors(t *testing.T) {
	t.Parallel()
	s := odootest.New(t)
	fournil, _, _, _, _ := shops(s)
	ctx := context.Background()

	bad := s.Config()
	bad.APIKey = "wrong"
	wrong := odoo.New(bad, outbound.New(outbound.Options{AllowPrivate: true}))
	if _, err := wrong.Authenticate(ctx); !errors.Is(err, odoo.ErrAuthentication) || !strings.Contains(odoo.Describe(err), "clé d'API") {
		t.Fatalf("wrong key: %v (%s)", err, odoo.Describe(err))
	}
	if _, err := wrong.FindPartners(ctx, "x", 1); !errors.Is(err, odoo.ErrAuthentication) {
		t.Fatalf("call with a wrong key: %v", err)
	}

	c := s.Client()
	var oe *odoo.Error
	err := c.Write(ctx, odoo.PartnerModel, []int{fournil}, map[string]any{"x_inconnu": 1})
	if !errors.As(err, &oe) || oe.Name != "builtins.ValueError" || oe.Code != 200 || oe.Message != "Odoo Server Error" ||
		!strings.Contains(oe.DataMessage, "x_inconnu") || !strings.Contains(odoo.Describe(err), "Odoo a refusé l'opération : Invalid field") {
		t.Fatalf("unknown field: %v (%s)", err, odoo.Describe(err))
	}
	err = c.Write(ctx, odoo.PartnerModel, []int{fournil}, map[string]any{odoo.FieldConventionSignatureDate: "12/03/2025"})
	if !errors.As(err, &oe) || oe.Name != "builtins.ValueError" {
		t.Fatalf("bad date: %v", err)
	}
	err = c.Write(ctx, odoo.PartnerModel, []int{fournil + 100}, map[string]any{odoo.FieldToRenew: true})
	if !errors.As(err, &oe) || oe.Name != "odoo.exceptions.MissingError" {
		t.Fatalf("missing record: %v", err)
	}
	err = c.Write(ctx, odoo.PartnerModel, []int{fournil}, map[string]any{odoo.FieldIndustry: 999})
	if !errors.As(err, &oe) || oe.Name != "psycopg2.errors.ForeignKeyViolation" {
		t.Fatalf("missing industry: %v", err)
	}
	if got := s.Partner(fournil)["convention_signature_date"]; got != "2025-03-12" {
		t.Fatalf("a refused write changed the partner: %v", got)
	}
	// The key is revoked after authentication: execute_kw is refused.
	s.SetAPIKey("revoked")
	_, err = c.FindPartners(ctx, "fournil", 1)
	if !errors.As(err, &oe) || !oe.AccessDenied() || !strings.HasPrefix(odoo.Describe(err), "Odoo a refusé l'accès") {
		t.Fatalf("revoked key: %v (%s)", err, odoo.Describe(err))
	}
}

func TestFailuresAndRetry(t *testing.T) {
	t.Parallel()
	s := odootest.New(t)
	fournil, _, _, _, _ := shops(s)
	c := s.Client()
	ctx := context.Background()
	if _, err := c.Authenticate(ctx); err != nil {
		t.Fatal(err)
	}
	s.FailNext(1, odootest.HTTP500)
	s.FailNext(1, odootest.ServerError)
	push := func() error {
		return c.Write(ctx, odoo.PartnerModel, []int{fournil}, map[string]any{odoo.FieldToRenew: true})
	}
	var he *odoo.HTTPError
	if err := push(); !errors.As(err, &he) || he.StatusCode != 500 || odoo.Describe(err) != "Odoo a répondu 500 : le serveur est peut-être indisponible." {
		t.Fatalf("first push: %v (%s)", err, odoo.Describe(err))
	}
	var oe *odoo.Error
	if err := push(); !errors.As(err, &oe) || !strings.HasPrefix(oe.Name, "psycopg2") {
		t.Fatalf("second push: %v", err)
	}
	if s.Partner(fournil)["to_renew"] != false {
		t.Fatal("a failed push wrote")
	}
	if err := push(); err != nil {
		t.Fatalf("third push: %v", err)
	}
	if s.Partner(fournil)["to_renew"] != true {
		t.Fatal("the retried push did not write")
	}
	var failed []bool
	for _, call := range s.Calls()[1:] {
		failed = append(failed, call.Failed)
	}
	if !reflect.DeepEqual(failed, []bool{true, true, false}) {
		t.Fatalf("calls failed: %v", failed)
	}
}

// TestStandInDomains checks the stand-in's domain evaluation, which the
// connector's tests rely on.
func TestStandInDomains(t *testing.T) {
	t.Parallel()
	s := odootest.New(t)
	fournil, marche, epicerie, archived, _ := shops(s)
	s.AddField("res.partner", "x_siret", odootest.Char)
	c := s.Client()
	ctx := context.Background()
	if err := c.Write(ctx, odoo.PartnerModel, []int{marche}, map[string]any{"x_siret": "44306184100047"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		domain odoo.Domain
		limit  int
		want   []int
	}{
		{"all active, by name", nil, 0, []int{epicerie, fournil, marche}},
		{"limit", nil, 2, []int{epicerie, fournil}},
		{"id in", odoo.Domain{odoo.Term("id", "in", []int{marche, fournil, archived})}, 0, []int{fournil, marche}},
		{"ilike", odoo.Domain{odoo.Term("name", "ilike", "du")}, 0, []int{epicerie, marche}},
		{"like is case-sensitive", odoo.Domain{odoo.Term("name", "like", "du lavoir")}, 0, nil},
		{"custom field", odoo.Domain{odoo.Term("x_siret", "=", "44306184100047")}, 0, []int{marche}},
		{"or", odoo.Domain{"|", odoo.Term("name", "ilike", "lavoir"), odoo.Term("siret", "=", "35600000049837")}, 0, []int{epicerie, marche}},
		{"implicit and", odoo.Domain{odoo.Term("is_company", "=", true), odoo.Term("to_renew", "=", true)}, 0, []int{marche}},
		{"not", odoo.Domain{"!", odoo.Term("to_renew", "=", true)}, 0, []int{epicerie, fournil}},
		{"unset date", odoo.Domain{odoo.Term("convention_signature_date", "=", false)}, 0, []int{epicerie}},
		{"date before", odoo.Domain{odoo.Term("convention_signature_date", "<", "2025-01-01")}, 0, []int{marche}},
		{"relation by name", odoo.Domain{odoo.Term("industry_id", "ilike", "boulang")}, 0, []int{fournil}},
		{"not ilike keeps unset", odoo.Domain{odoo.Term("siret", "not ilike", "7328")}, 0, []int{epicerie, marche}},
		{"archived on request", odoo.Domain{odoo.Term("active", "=", false)}, 0, []int{archived}},
		{"nested", odoo.Domain{"&", "|", odoo.Term("name", "ilike", "fournil"), odoo.Term("name", "ilike", "marché"), odoo.Term("to_renew", "=", false)}, 0, []int{fournil}},
	} {
		var got []struct {
			ID int `json:"id"`
		}
		if err := c.SearchRead(ctx, odoo.PartnerModel, tc.domain, []string{"name"}, tc.limit, &got); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var ids []int
		for _, r := range got {
			ids = append(ids, r.ID)
		}
		if !reflect.DeepEqual(ids, tc.want) {
			t.Errorf("%s: ids %v, want %v", tc.name, ids, tc.want)
		}
	}
	var oe *odoo.Error
	for _, bad := range []odoo.Domain{
		{odoo.Term("nope", "=", 1)},
		{"|", odoo.Term("name", "=", "x")},
		{odoo.Term("name", "~", "x")},
	} {
		var got []map[string]any
		if err := c.SearchRead(ctx, odoo.PartnerModel, bad, nil, 0, &got); !errors.As(err, &oe) || oe.Name != "builtins.ValueError" {
			t.Errorf("domain %v: %v", bad, err)
		}
	}
	if err := c.SearchRead(ctx, "res.inconnu", nil, nil, 0, &[]map[string]any{}); !errors.As(err, &oe) || oe.Name != "builtins.KeyError" {
		t.Errorf("unknown model: %v", err)
	}
}

// TestWireFormat checks the bytes the client sends against the documented
// shape of Odoo's external JSON-RPC API, independently of the stand-in.
func TestWireFormat(t *testing.T) {
	t.Parallel()
	var (
		mu     sync.Mutex
		bodies []map[string]any
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path != "/jsonrpc" || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		var b map[string]any
		json.NewDecoder(r.Body).Decode(&b)
		bodies = append(bodies, b)
		result := any(12)
		if len(bodies) == 2 {
			result = []any{}
		}
		json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": b["id"], "result": result})
	}))
	t.Cleanup(srv.Close)
	c := odoo.New(odoo.Config{URL: srv.URL + "/", DB: "caisse", Login: "api", APIKey: "k"}, outbound.New(outbound.Options{AllowPrivate: true}))
	var out []odoo.Partner
	if err := c.SearchRead(context.Background(), odoo.PartnerModel, odoo.Domain{odoo.Term("name", "ilike", "riz")}, []string{"name"}, 5, &out); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got, _ := json.Marshal(bodies)
	mu.Unlock()
	want := `[{"id":1,"jsonrpc":"2.0","method":"call","params":{"args":["caisse","api","k",{}],"method":"authenticate","service":"common"}},` +
		`{"id":2,"jsonrpc":"2.0","method":"call","params":{"args":["caisse",12,"k","res.partner","search_read",[[["name","ilike","riz"]]],{"fields":["name"],"limit":5}],"method":"execute_kw","service":"object"}}]`
	if string(got) != want {
		t.Fatalf("sent\n%s\nwant\n%s", got, want)
	}
}

func TestUnexpectedAnswers(t *testing.T) {
	t.Parallel()
	target := odootest.New(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/moved/jsonrpc", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/jsonrpc", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/html/jsonrpc", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<!DOCTYPE html><title>Connexion</title>")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	hc := outbound.New(outbound.Options{AllowPrivate: true})
	ctx := context.Background()

	_, err := odoo.New(odoo.Config{URL: srv.URL + "/moved", DB: "d", Login: "l", APIKey: "k"}, hc).Authenticate(ctx)
	var he *odoo.HTTPError
	if !errors.As(err, &he) || he.StatusCode != 301 || he.Location != target.URL+"/jsonrpc" || !strings.Contains(odoo.Describe(err), "redirection") {
		t.Fatalf("redirect: %v (%s)", err, odoo.Describe(err))
	}
	if n := len(target.Calls()); n != 0 {
		t.Fatalf("the redirect was followed: %d calls", n)
	}
	_, err = odoo.New(odoo.Config{URL: srv.URL + "/html", DB: "d", Login: "l", APIKey: "k"}, hc).Authenticate(ctx)
	if !errors.Is(err, odoo.ErrProtocol) || !strings.Contains(odoo.Describe(err), "réponse inattendue") {
		t.Fatalf("HTML answer: %v (%s)", err, odoo.Describe(err))
	}
	// The production policy refuses the stand-in's loopback http address.
	_, err = odoo.New(target.Config(), outbound.New(outbound.Options{})).Authenticate(ctx)
	if apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(odoo.Describe(err), "https://") {
		t.Fatalf("production policy: %v (%s)", err, odoo.Describe(err))
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	f := apperr.FieldsOf(odoo.Config{}.Validate(false))
	if len(f) != 4 || f["url"] == "" || f["db"] == "" || f["login"] == "" || f["api_key"] == "" {
		t.Fatalf("empty config: %v", f)
	}
	f = apperr.FieldsOf(odoo.Config{URL: "http://odoo.example.org", DB: "d", Login: "l", APIKey: "k"}.Validate(false))
	if len(f) != 1 || !strings.Contains(f["url"], "https://") {
		t.Fatalf("http URL: %v", f)
	}
	if err := (odoo.Config{URL: "https://odoo.example.org", DB: "d", Login: "l", APIKey: "k"}).Validate(false); err != nil {
		t.Fatal(err)
	}
}
