// Package odootest runs, inside tests, a stand-in for Odoo: an HTTP server
// that speaks the part of Odoo's documented external JSON-RPC API that
// internal/odoo uses, over in-memory data. It is NOT Odoo and must never be
// mistaken for it; it behaves as Odoo's External API documentation and its
// wire format say, for these calls only:
//
//   - POST /jsonrpc with {"jsonrpc":"2.0","method":"call","params":{"service":…,
//     "method":…,"args":[…]},"id":…}, answered with HTTP 200 and "result" or
//     "error" ({"code":200,"message":"Odoo Server Error","data":{"name":
//     "odoo.exceptions.AccessDenied","message":…,"arguments":[…],…}});
//   - common: version, login, authenticate (the user id, or false);
//   - object: execute_kw(db, uid, password, model, method, args, kwargs) with
//     search_read, search, search_count, read and write, on res.partner (with
//     Lokavaluto's fields: convention_signature_date, to_renew,
//     accept_digital_currency, and industry_id, ref, siret, active…) and
//     res.partner.industry;
//   - domains of [field, operator, value] terms, implicitly AND-ed, with the
//     prefix operators "&", "|", "!"; operators =, !=, <, <=, >, >=, like,
//     ilike, not like, not ilike, in, not in; archived records (active =
//     false) hidden unless the domain mentions active;
//   - values as Odoo sends them: false for an empty text, date or relation,
//     [id, "name"] for a relation, "YYYY-MM-DD" for a date.
//
// A test can make the next calls fail (FailNext: an HTTP 500 page, or a
// JSON-RPC error) to exercise retries, and read every call received (Calls).
package odootest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cla/internal/odoo"
	"cla/internal/outbound"
)

// Kind is the type of a field, as Odoo's ORM names them.
type Kind int

// The field kinds the stand-in knows.
const (
	Char Kind = iota
	Boolean
	Integer
	Date
	Many2one
)

type field struct {
	kind     Kind
	relation string // Many2one: the related model
	def      any    // the value of a new record
}

type model struct {
	name    string
	fields  map[string]field
	records map[int]map[string]any // unset values are nil; booleans are never nil
	order   string                 // default order of search
}

// Failure is a way for a call to fail.
type Failure int

// The failures FailNext can inject.
const (
	// HTTP500 answers with status 500 and an HTML page, as a crashed worker
	// or the proxy in front of Odoo does.
	HTTP500 Failure = iota + 1
	// ServerError answers HTTP 200 with a JSON-RPC error, as Odoo does for a
	// transient database error (a serialization failure).
	ServerError
)

// Call is one call the server received.
type Call struct {
	Service, Method string // e.g. "object", "execute_kw"
	// Model and ModelMethod are set for execute_kw, e.g. "res.partner", "write".
	Model, ModelMethod string
	// Args and Kwargs are execute_kw's, decoded from JSON (numbers as
	// json.Number).
	Args   []any
	Kwargs map[string]any
	// Failed says the call was answered with an injected failure.
	Failed bool
}

// Server is the stand-in. Its fields are the credentials it accepts.
type Server struct {
	URL               string
	DB, Login, APIKey string
	UID               int

	srv    *httptest.Server
	mu     sync.Mutex
	models map[string]*model
	nextID map[string]int
	fail   []Failure
	calls  []Call
}

// New starts a server on loopback (plain http: clients need the outbound
// policy's AllowPrivate, as Client gives) and stops it when the test ends.
func New(t testing.TB) *Server {
	s := &Server{
		DB: "lokavaluto", Login: "cla-connecteur", APIKey: "cle-api-de-test-0123456789", UID: 7,
		models: map[string]*model{}, nextID: map[string]int{},
	}
	s.models["res.partner.industry"] = &model{name: "res.partner.industry", order: "name", records: map[int]map[string]any{},
		fields: map[string]field{"id": {kind: Integer}, "name": {kind: Char}, "full_name": {kind: Char}, "active": {kind: Boolean, def: true}}}
	s.models["res.partner"] = &model{name: "res.partner", order: "name, id desc", records: map[int]map[string]any{},
		fields: map[string]field{
			"id": {kind: Integer}, "name": {kind: Char}, "display_name": {kind: Char}, "ref": {kind: Char},
			"email": {kind: Char}, "siret": {kind: Char}, "is_company": {kind: Boolean, def: false},
			"active": {kind: Boolean, def: true}, "industry_id": {kind: Many2one, relation: "res.partner.industry"},
			"convention_signature_date": {kind: Date}, "to_renew": {kind: Boolean, def: false},
			"accept_digital_currency": {kind: Boolean, def: false}, "accept_coupons": {kind: Boolean, def: false},
		}}
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Config returns the connection settings of this server.
func (s *Server) Config() odoo.Config {
	return odoo.Config{URL: s.URL, DB: s.DB, Login: s.Login, APIKey: s.APIKey}
}

// Client returns an odoo.Client for this server, through an outbound client
// that allows loopback.
func (s *Server) Client() *odoo.Client {
	return odoo.New(s.Config(), outbound.New(outbound.Options{AllowPrivate: true}))
}

// AddField adds a field to a model, as a custom field (x_siret…) would be.
func (s *Server) AddField(modelName, name string, kind Kind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.models[modelName]
	f := field{kind: kind}
	if kind == Boolean {
		f.def = false
	}
	m.fields[name] = f
	for _, r := range m.records {
		r[name] = f.def
	}
}

// AddIndustry creates a res.partner.industry and returns its id.
func (s *Server) AddIndustry(name string) int {
	return s.add("res.partner.industry", map[string]any{"name": name, "full_name": name})
}

// AddPartner creates a res.partner with values (Go strings, bools, ints, nil
// for unset; dates as "YYYY-MM-DD") and returns its id. It panics on a value
// Odoo would refuse: a test set-up mistake.
func (s *Server) AddPartner(values map[string]any) int { return s.add("res.partner", values) }

func (s *Server) add(modelName string, values map[string]any) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.models[modelName]
	s.nextID[modelName]++
	id := s.nextID[modelName]
	rec := map[string]any{"id": id}
	for name, f := range m.fields {
		if name != "id" {
			rec[name] = f.def
		}
	}
	for k, v := range values {
		cv, err := s.convert(m, k, v)
		if err != nil {
			panic(fmt.Sprintf("odootest: %s.%s = %v: %s", modelName, k, v, err.message))
		}
		rec[k] = cv
	}
	if _, ok := m.fields["display_name"]; ok {
		rec["display_name"] = rec["name"]
	}
	m.records[id] = rec
	return id
}

// Partner returns a copy of the stored partner (nil values are unset), or
// nil if there is none.
func (s *Server) Partner(id int) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.models["res.partner"].records[id]
	if !ok {
		return nil
	}
	out := make(map[string]any, len(r))
	for k, v := range r {
		out[k] = v
	}
	return out
}

// SetAPIKey changes the API key the server accepts, as revoking a key in
// Odoo does.
func (s *Server) SetAPIKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.APIKey = key
}

// FailNext makes the next n calls fail with f.
func (s *Server) FailNext(n int, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.fail = append(s.fail, f)
	}
}

// Calls returns the calls received so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// rpcError is an error answered as Odoo does: data.name is the Python
// exception's qualified name.
type rpcError struct {
	name, message string
}

func errValue(format string, a ...any) *rpcError {
	return &rpcError{"builtins.ValueError", fmt.Sprintf(format, a...)}
}

var errAccessDenied = &rpcError{"odoo.exceptions.AccessDenied", "Access Denied"}

// ServeHTTP answers /jsonrpc.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/jsonrpc" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	var req struct {
		Params struct {
			Service string `json:"service"`
			Method  string `json:"method"`
			Args    []any  `json:"args"`
		} `json:"params"`
		ID any `json:"id"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		writeError(w, nil, &rpcError{"werkzeug.exceptions.BadRequest", "Invalid JSON data"})
		return
	}
	p := req.Params
	call := Call{Service: p.Service, Method: p.Method}
	if p.Service == "object" && p.Method == "execute_kw" && len(p.Args) >= 5 {
		call.Model, _ = p.Args[3].(string)
		call.ModelMethod, _ = p.Args[4].(string)
		if len(p.Args) > 5 {
			call.Args, _ = p.Args[5].([]any)
		}
		if len(p.Args) > 6 {
			call.Kwargs, _ = p.Args[6].(map[string]any)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.fail) > 0 {
		f := s.fail[0]
		s.fail = s.fail[1:]
		call.Failed = true
		s.calls = append(s.calls, call)
		if f == HTTP500 {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "<!DOCTYPE html><title>500 Internal Server Error</title><h1>Internal Server Error</h1>")
			return
		}
		writeError(w, req.ID, &rpcError{"psycopg2.errors.SerializationFailure", "could not serialize access due to concurrent update"})
		return
	}
	s.calls = append(s.calls, call)
	result, rerr := s.dispatch(p.Service, p.Method, p.Args)
	if rerr != nil {
		writeError(w, req.ID, rerr)
		return
	}
	writeJSON(w, map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": result})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, id any, e *rpcError) {
	writeJSON(w, map[string]any{"jsonrpc": "2.0", "id": id, "error": map[string]any{
		"code": 200, "message": "Odoo Server Error",
		"data": map[string]any{
			"name": e.name, "message": e.message, "arguments": []any{e.message}, "context": map[string]any{},
			"debug": "Traceback (most recent call last):\n  (odootest stand-in: no traceback)\n" + e.name + ": " + e.message,
		},
	}})
}

func (s *Server) dispatch(service, method string, args []any) (any, *rpcError) {
	switch service + "." + method {
	case "common.version":
		return map[string]any{"server_version": "16.0", "server_version_info": []any{16, 0, 0, "final", 0, ""},
			"server_serie": "16.0", "protocol_version": 1}, nil
	case "common.login", "common.authenticate":
		if len(args) < 3 {
			return nil, &rpcError{"builtins.TypeError", method + "() missing required positional arguments"}
		}
		if db, _ := args[0].(string); db != s.DB {
			return nil, &rpcError{"psycopg2.OperationalError", fmt.Sprintf("FATAL:  database %q does not exist", db)}
		}
		login, _ := args[1].(string)
		key, _ := args[2].(string)
		if login != s.Login || key != s.APIKey {
			return false, nil
		}
		return s.UID, nil
	case "object.execute_kw":
		return s.executeKW(args)
	case "object.execute":
		return nil, &rpcError{"odootest.NotImplemented", "the stand-in implements execute_kw only"}
	}
	return nil, &rpcError{"builtins.KeyError", fmt.Sprintf("'%s.%s'", service, method)}
}

func (s *Server) executeKW(args []any) (any, *rpcError) {
	if len(args) < 5 {
		return nil, &rpcError{"builtins.TypeError", "execute_kw() missing required positional arguments"}
	}
	if db, _ := args[0].(string); db != s.DB {
		return nil, &rpcError{"psycopg2.OperationalError", fmt.Sprintf("FATAL:  database %q does not exist", db)}
	}
	uid, ok := toInt(args[1])
	key, _ := args[2].(string)
	if !ok || uid != s.UID || key != s.APIKey {
		return nil, errAccessDenied
	}
	name, _ := args[3].(string)
	m := s.models[name]
	if m == nil {
		return nil, &rpcError{"builtins.KeyError", fmt.Sprintf("'%s'", name)}
	}
	method, _ := args[4].(string)
	var pos []any
	kw := map[string]any{}
	if len(args) > 5 {
		if pos, ok = args[5].([]any); !ok && args[5] != nil {
			return nil, &rpcError{"builtins.TypeError", "execute_kw: args must be a list"}
		}
	}
	if len(args) > 6 && args[6] != nil {
		if kw, ok = args[6].(map[string]any); !ok {
			return nil, &rpcError{"builtins.TypeError", "execute_kw: kwargs must be a dictionary"}
		}
	}
	// arg returns the i-th positional argument, or the keyword one.
	arg := func(i int, name string) any {
		if i < len(pos) {
			return pos[i]
		}
		return kw[name]
	}
	switch method {
	case "search_read", "search", "search_count":
		var dom []any
		if d := arg(0, "domain"); d != nil {
			if dom, ok = d.([]any); !ok {
				return nil, errValue("Invalid domain: %v", d)
			}
		}
		fieldsArg := 1 // search_read(domain, fields, offset, limit, order)
		if method != "search_read" {
			fieldsArg = 0 // search(domain, offset, limit, order)
		}
		ids, err := s.search(m, dom, arg(fieldsArg+1, "offset"), arg(fieldsArg+2, "limit"), arg(fieldsArg+3, "order"))
		if err != nil {
			return nil, err
		}
		switch method {
		case "search":
			return ids, nil
		case "search_count":
			return len(ids), nil
		}
		return s.read(m, ids, arg(1, "fields"))
	case "read":
		ids, err := idList(arg(0, "ids"))
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if m.records[id] == nil {
				return nil, missing(m, id, s.UID)
			}
		}
		return s.read(m, ids, arg(1, "fields"))
	case "write":
		ids, err := idList(arg(0, "ids"))
		if err != nil {
			return nil, err
		}
		vals, ok := arg(1, "vals").(map[string]any)
		if !ok {
			return nil, &rpcError{"builtins.TypeError", "write() missing 1 required positional argument: 'vals'"}
		}
		return s.write(m, ids, vals)
	}
	return nil, &rpcError{"builtins.AttributeError", fmt.Sprintf("The method '%s' does not exist on the model '%s'", method, m.name)}
}

func missing(m *model, id, uid int) *rpcError {
	return &rpcError{"odoo.exceptions.MissingError",
		fmt.Sprintf("Record does not exist or has been deleted.\n(Record: %s(%d,), User: %d)", m.name, id, uid)}
}

func idList(v any) ([]int, *rpcError) {
	if id, ok := toInt(v); ok {
		return []int{id}, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, errValue("Invalid ids: %v", v)
	}
	ids := make([]int, 0, len(list))
	for _, x := range list {
		id, ok := toInt(x)
		if !ok {
			return nil, errValue("Invalid id: %v", x)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		return int(n), n == float64(int(n))
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	}
	return 0, false
}

// convert checks a value written to a field and returns it as stored.
func (s *Server) convert(m *model, name string, v any) (any, *rpcError) {
	f, ok := m.fields[name]
	if !ok || name == "id" {
		return nil, errValue("Invalid field '%s' on model '%s'", name, m.name)
	}
	if v == nil || v == false && f.kind != Boolean {
		return nil, nil
	}
	switch f.kind {
	case Char:
		if str, ok := v.(string); ok {
			return str, nil
		}
	case Boolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		if n, ok := toInt(v); ok {
			return n != 0, nil
		}
	case Integer:
		if n, ok := toInt(v); ok {
			return n, nil
		}
	case Date:
		if str, ok := v.(string); ok {
			if _, err := time.Parse(time.DateOnly, str); err == nil {
				return str, nil
			}
			return nil, errValue("time data '%s' does not match format '%%Y-%%m-%%d'", str)
		}
	case Many2one:
		if id, ok := toInt(v); ok {
			if s.models[f.relation].records[id] == nil {
				return nil, &rpcError{"psycopg2.errors.ForeignKeyViolation", fmt.Sprintf(
					"insert or update on table %q violates foreign key constraint %q",
					strings.ReplaceAll(m.name, ".", "_"), strings.ReplaceAll(m.name, ".", "_")+"_"+name+"_fkey")}
			}
			return id, nil
		}
	}
	return nil, errValue("Wrong value for %s.%s: %v", m.name, name, v)
}

func (s *Server) write(m *model, ids []int, vals map[string]any) (any, *rpcError) {
	for _, id := range ids {
		if m.records[id] == nil {
			return nil, missing(m, id, s.UID)
		}
	}
	conv := map[string]any{}
	for k, v := range vals {
		cv, err := s.convert(m, k, v)
		if err != nil {
			return nil, err
		}
		conv[k] = cv
	}
	for _, id := range ids {
		for k, v := range conv {
			m.records[id][k] = v
		}
		if _, ok := conv["name"]; ok {
			if _, has := m.fields["display_name"]; has {
				m.records[id]["display_name"] = conv["name"]
			}
		}
	}
	return true, nil
}

// read returns the records as Odoo serialises them.
func (s *Server) read(m *model, ids []int, fieldsArg any) (any, *rpcError) {
	var names []string
	switch fl := fieldsArg.(type) {
	case nil:
	case []any:
		for _, x := range fl {
			n, ok := x.(string)
			if !ok {
				return nil, errValue("Invalid field %v", x)
			}
			if _, ok := m.fields[n]; !ok {
				return nil, errValue("Invalid field '%s' on model '%s'", n, m.name)
			}
			names = append(names, n)
		}
	default:
		return nil, errValue("Invalid fields %v", fieldsArg)
	}
	if len(names) == 0 {
		for n := range m.fields {
			names = append(names, n)
		}
		slices.Sort(names)
	}
	out := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		rec := m.records[id]
		row := map[string]any{"id": id}
		for _, n := range names {
			row[n] = s.serialise(m.fields[n], rec[n])
		}
		out = append(out, row)
	}
	return out, nil
}

func (s *Server) serialise(f field, v any) any {
	if v == nil {
		return false
	}
	if f.kind == Many2one {
		id := v.(int)
		return []any{id, s.models[f.relation].records[id]["name"]}
	}
	return v
}
