// Package odoo is a client for Odoo's external JSON-RPC API, as the payment
// tool of Dieulefit (Lokavaluto, built on Odoo) exposes it: POST /jsonrpc with
// a JSON-RPC 2.0 "call" whose params name a service ("common" to
// authenticate, "object" for execute_kw on a model) and its positional
// arguments. The password argument is an Odoo API key.
//
//	authenticate: {"service":"common","method":"authenticate","args":[db, login, key, {}]} → uid, or false
//	execute_kw:   {"service":"object","method":"execute_kw","args":[db, uid, key, model, method, args, kwargs]}
//
// Errors come back with HTTP 200 as {"error":{"code":…,"message":…,"data":
// {"name":"odoo.exceptions.AccessDenied","message":…}}}. Every call goes
// through internal/outbound, so the operator's Odoo URL is held to the
// outgoing-call policy (https, no redirect, no private address unless allowed).
//
// Odoo 19 deprecates /jsonrpc in favour of its new JSON-2 API and plans to
// remove it in Odoo 22 (2028); Lokavaluto runs older versions, which only have
// this one.
package odoo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"cla/internal/apperr"
	"cla/internal/outbound"
)

// MaxAnswer bounds an answer's size: a search_read of a few thousand partners
// fits many times over, and a runaway answer cannot fill the memory.
const MaxAnswer = 16 << 20

// Config is the operator's connection to Odoo. The API key comes from the
// environment, never from the database.
type Config struct {
	// URL is the Odoo's base address, e.g. https://monnaie.example.org; the
	// client posts to URL + "/jsonrpc".
	URL string
	// DB is the Odoo database name.
	DB string
	// Login is the technical user's login; APIKey its API key (Odoo accepts
	// one where a password goes).
	Login, APIKey string
}

// Validate checks the configuration, with French messages keyed by setting.
func (c Config) Validate(allowPrivate bool) error {
	f := apperr.Fields{}
	if err := outbound.ValidateURL(c.URL, allowPrivate); err != nil {
		f.Add("url", apperr.MessageOf(err))
	}
	if strings.TrimSpace(c.DB) == "" {
		f.Add("db", "Indiquez le nom de la base Odoo.")
	}
	if strings.TrimSpace(c.Login) == "" {
		f.Add("login", "Indiquez l'identifiant de l'utilisateur Odoo.")
	}
	if c.APIKey == "" {
		f.Add("api_key", "Indiquez la clé d'API Odoo (dans l'environnement).")
	}
	return f.Err()
}

// Client calls one Odoo. It is safe for concurrent use; it authenticates once
// and remembers the user id.
type Client struct {
	cfg      Config
	endpoint string
	http     *outbound.Client
	nextID   atomic.Int64

	mu  sync.Mutex
	uid int
}

// New returns a client for cfg whose calls go through hc.
func New(cfg Config, hc *outbound.Client) *Client {
	return &Client{cfg: cfg, endpoint: strings.TrimRight(strings.TrimSpace(cfg.URL), "/") + "/jsonrpc", http: hc}
}

// Error is an error that Odoo answered (the JSON-RPC "error" member).
type Error struct {
	// Code and Message are JSON-RPC's: Odoo sends 200 and "Odoo Server
	// Error" for most errors, 100 for an expired session, 404 for no route.
	Code    int
	Message string
	// Name is the Python exception, e.g. "odoo.exceptions.AccessDenied";
	// DataMessage its message.
	Name        string
	DataMessage string
}

func (e *Error) Error() string {
	return fmt.Sprintf("odoo: %s: %s (%d %s)", e.Name, e.DataMessage, e.Code, e.Message)
}

// AccessDenied reports whether Odoo refused the credentials or the rights.
func (e *Error) AccessDenied() bool {
	return e.Name == "odoo.exceptions.AccessDenied" || e.Name == "odoo.exceptions.AccessError"
}

// HTTPError is an answer whose HTTP status is not 200: a proxy's 502, a
// crash's 500, a redirect (never followed).
type HTTPError struct {
	StatusCode int
	Location   string
	Body       string
}

func (e *HTTPError) Error() string {
	if e.Location != "" {
		return fmt.Sprintf("odoo: HTTP %d to %s (not followed)", e.StatusCode, e.Location)
	}
	return fmt.Sprintf("odoo: HTTP %d: %.200s", e.StatusCode, e.Body)
}

// ErrAuthentication is returned when authenticate answers false: wrong
// database, login or API key.
var ErrAuthentication = errors.New("odoo: authentication refused (database, login or API key)")

// ErrProtocol is matched by the errors of answers that are not what Odoo's
// API returns: not JSON-RPC, too large, of the wrong shape.
var ErrProtocol = errors.New("odoo: unexpected answer")

type request struct {
	JSONRPC string `json:"jsonrpc"`
	Method  string `json:"method"`
	Params  params `json:"params"`
	ID      int64  `json:"id"`
}

type params struct {
	Service string `json:"service"`
	Method  string `json:"method"`
	Args    []any  `json:"args"`
}

type response struct {
	ID     int64           `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    struct {
			Name    string `json:"name"`
			Message string `json:"message"`
		} `json:"data"`
	} `json:"error"`
}

// call posts one JSON-RPC call and decodes its result into out.
func (c *Client) call(ctx context.Context, service, method string, args []any, out any) error {
	id := c.nextID.Add(1)
	body, err := json.Marshal(request{JSONRPC: "2.0", Method: "call", Params: params{Service: service, Method: method, Args: args}, ID: id})
	if err != nil {
		return fmt.Errorf("odoo: encoding %s.%s: %w", service, method, err)
	}
	resp, err := c.http.Send(ctx, outbound.Request{
		Method: http.MethodPost, URL: c.endpoint, Body: body, MaxBody: MaxAnswer,
		Header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}},
	})
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return &HTTPError{StatusCode: resp.StatusCode, Location: resp.Location, Body: string(resp.Body)}
	}
	if resp.Truncated {
		return fmt.Errorf("%w: %s.%s: answer larger than %d bytes", ErrProtocol, service, method, MaxAnswer)
	}
	var r response
	if err := json.Unmarshal(resp.Body, &r); err != nil {
		return fmt.Errorf("%w: %s.%s: the answer is not JSON-RPC: %v", ErrProtocol, service, method, err)
	}
	if r.Error != nil {
		return &Error{Code: r.Error.Code, Message: r.Error.Message, Name: r.Error.Data.Name, DataMessage: r.Error.Data.Message}
	}
	if r.ID != id {
		return fmt.Errorf("%w: %s.%s: answer to call %d, sent %d", ErrProtocol, service, method, r.ID, id)
	}
	if r.Result == nil {
		return fmt.Errorf("%w: %s.%s: the answer has neither result nor error", ErrProtocol, service, method)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(r.Result, out); err != nil {
		return fmt.Errorf("%w: %s.%s: decoding the result: %v", ErrProtocol, service, method, err)
	}
	return nil
}

// Authenticate checks the credentials and returns the user id, which later
// calls reuse.
func (c *Client) Authenticate(ctx context.Context) (int, error) {
	var res json.RawMessage
	if err := c.call(ctx, "common", "authenticate", []any{c.cfg.DB, c.cfg.Login, c.cfg.APIKey, map[string]any{}}, &res); err != nil {
		return 0, err
	}
	var uid int
	if err := json.Unmarshal(res, &uid); err != nil || uid <= 0 {
		return 0, ErrAuthentication // Odoo answers false
	}
	c.mu.Lock()
	c.uid = uid
	c.mu.Unlock()
	return uid, nil
}

func (c *Client) userID(ctx context.Context) (int, error) {
	c.mu.Lock()
	uid := c.uid
	c.mu.Unlock()
	if uid > 0 {
		return uid, nil
	}
	return c.Authenticate(ctx)
}

// ExecuteKW calls method on model with positional args and keyword kwargs,
// authenticating first if needed, and decodes the result into out (nil to
// ignore it).
func (c *Client) ExecuteKW(ctx context.Context, model, method string, args []any, kwargs map[string]any, out any) error {
	uid, err := c.userID(ctx)
	if err != nil {
		return err
	}
	if args == nil {
		args = []any{}
	}
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	return c.call(ctx, "object", "execute_kw", []any{c.cfg.DB, uid, c.cfg.APIKey, model, method, args, kwargs}, out)
}

// Domain is an Odoo search domain: terms [field, operator, value], implicitly
// joined by AND, with the prefix operators "&", "|" and "!".
type Domain []any

// Term returns the domain term [field, op, value].
func Term(field, op string, value any) []any { return []any{field, op, value} }

// SearchRead returns the records of model matching domain, with the given
// fields (Odoo always adds id), at most limit of them (0: no limit), decoded
// into out (a pointer to a slice).
func (c *Client) SearchRead(ctx context.Context, model string, domain Domain, fields []string, limit int, out any) error {
	if domain == nil {
		domain = Domain{}
	}
	kw := map[string]any{"fields": fields}
	if limit > 0 {
		kw["limit"] = limit
	}
	return c.ExecuteKW(ctx, model, "search_read", []any{domain}, kw, out)
}

// Write sets values on the records ids of model. Odoo answers true.
func (c *Client) Write(ctx context.Context, model string, ids []int, values map[string]any) error {
	var ok bool
	if err := c.ExecuteKW(ctx, model, "write", []any{ids, values}, nil, &ok); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %s.write(%v) answered false", ErrProtocol, model, ids)
	}
	return nil
}

// Describe returns a short French account of a failed call, for the pages
// facilitators read (dry run, failed pushes).
func Describe(err error) string {
	var oe *Error
	var he *HTTPError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrAuthentication):
		return "Odoo a refusé la connexion : vérifiez la base, l'identifiant et la clé d'API."
	case errors.As(err, &oe) && oe.AccessDenied():
		return "Odoo a refusé l'accès : l'utilisateur configuré n'a pas les droits nécessaires, ou sa clé d'API a changé."
	case errors.As(err, &oe):
		msg := oe.DataMessage
		if msg == "" {
			msg = oe.Message
		}
		if len(msg) > 300 {
			msg = strings.ToValidUTF8(msg[:300], "") + "…"
		}
		return "Odoo a refusé l'opération : " + msg
	case errors.As(err, &he) && he.Location != "":
		return fmt.Sprintf("Odoo a répondu %d, une redirection qui n'est pas suivie : vérifiez l'adresse configurée.", he.StatusCode)
	case errors.As(err, &he):
		return fmt.Sprintf("Odoo a répondu %d : le serveur est peut-être indisponible.", he.StatusCode)
	case errors.Is(err, ErrProtocol):
		return "Odoo a envoyé une réponse inattendue : l'adresse mène-t-elle bien à Odoo ?"
	}
	return outbound.Describe(err)
}
