package odootest

import (
	"cmp"
	"slices"
	"strings"
	"sync"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// french orders names as a French database collation does (Épicerie before
// Fournil); a Collator is not safe for concurrent use.
var (
	frenchMu sync.Mutex
	french   = collate.New(language.French)
)

type predicate func(rec map[string]any) bool

// search returns the ids of m's records matching domain, ordered, with offset
// and limit applied.
func (s *Server) search(m *model, domain []any, offsetArg, limitArg, orderArg any) ([]int, *rpcError) {
	match, err := s.compile(m, domain)
	if err != nil {
		return nil, err
	}
	if _, has := m.fields["active"]; has && !mentions(domain, "active") {
		inner := match
		match = func(rec map[string]any) bool { return rec["active"] == true && inner(rec) }
	}
	order := m.order
	if o, ok := orderArg.(string); ok && o != "" {
		order = o
	}
	less, err := sorter(m, order)
	if err != nil {
		return nil, err
	}
	var recs []map[string]any
	for _, rec := range m.records {
		if match(rec) {
			recs = append(recs, rec)
		}
	}
	slices.SortFunc(recs, less)
	offset, _ := toInt(offsetArg)
	limit, hasLimit := toInt(limitArg)
	ids := []int{}
	for i, rec := range recs {
		if i < offset {
			continue
		}
		if hasLimit && limit > 0 && len(ids) == limit {
			break
		}
		ids = append(ids, rec["id"].(int))
	}
	return ids, nil
}

// mentions reports whether a domain has a term on field.
func mentions(domain []any, field string) bool {
	for _, e := range domain {
		if t, ok := e.([]any); ok && len(t) == 3 && t[0] == field {
			return true
		}
	}
	return false
}

// compile turns a domain in Odoo's prefix notation into a predicate: read
// from the end, terms are pushed, "&" and "|" combine the two on top, "!"
// negates the top, and what remains is AND-ed (the implicit "&").
func (s *Server) compile(m *model, domain []any) (predicate, *rpcError) {
	var stack []predicate
	pop := func() (predicate, bool) {
		if len(stack) == 0 {
			return nil, false
		}
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		return p, true
	}
	for i := len(domain) - 1; i >= 0; i-- {
		switch e := domain[i].(type) {
		case string:
			a, ok1 := pop()
			switch e {
			case "!":
				if !ok1 {
					return nil, errValue("Invalid domain: %v", domain)
				}
				stack = append(stack, func(r map[string]any) bool { return !a(r) })
				continue
			case "&", "|":
				b, ok2 := pop()
				if !ok1 || !ok2 {
					return nil, errValue("Invalid domain: %v", domain)
				}
				if e == "&" {
					stack = append(stack, func(r map[string]any) bool { return a(r) && b(r) })
				} else {
					stack = append(stack, func(r map[string]any) bool { return a(r) || b(r) })
				}
				continue
			}
			return nil, errValue("Invalid leaf %q", e)
		case []any:
			p, err := s.term(m, e)
			if err != nil {
				return nil, err
			}
			stack = append(stack, p)
		default:
			return nil, errValue("Invalid leaf %v", e)
		}
	}
	return func(r map[string]any) bool {
		for _, p := range stack {
			if !p(r) {
				return false
			}
		}
		return true
	}, nil
}

// term compiles one [field, operator, value] term.
func (s *Server) term(m *model, t []any) (predicate, *rpcError) {
	if len(t) != 3 {
		return nil, errValue("Invalid leaf %v", t)
	}
	name, _ := t[0].(string)
	op, _ := t[1].(string)
	value := t[2]
	f, ok := m.fields[name]
	if !ok {
		return nil, errValue("Invalid field %s.%s in leaf %v", m.name, name, t)
	}
	op = strings.ToLower(op)
	negative := strings.HasPrefix(op, "not ") || op == "!="
	// get returns a record's value to compare: a related record's name when
	// a text operator is applied to a relation.
	get := func(r map[string]any) any { return r[name] }
	if f.kind == Many2one {
		if _, isText := value.(string); isText {
			rel := s.models[f.relation]
			get = func(r map[string]any) any {
				if id, ok := r[name].(int); ok {
					return rel.records[id]["name"]
				}
				return nil
			}
		}
	}
	switch op {
	case "=", "!=":
		want := normalise(value)
		eq := func(r map[string]any) bool {
			v := get(r)
			if want == nil || want == false {
				return v == nil || v == false
			}
			return equal(v, want)
		}
		if op == "=" {
			return eq, nil
		}
		return func(r map[string]any) bool { return !eq(r) }, nil
	case "in", "not in":
		list, ok := value.([]any)
		if !ok {
			return nil, errValue("Invalid leaf %v: in needs a list", t)
		}
		in := func(r map[string]any) bool {
			v := get(r)
			for _, x := range list {
				if x = normalise(x); equal(v, x) || (v == nil && x == false) {
					return true
				}
			}
			return false
		}
		if op == "in" {
			return in, nil
		}
		return func(r map[string]any) bool { return !in(r) }, nil
	case "like", "ilike", "not like", "not ilike":
		pat, ok := value.(string)
		if !ok {
			return nil, errValue("Invalid leaf %v", t)
		}
		fold := strings.Contains(op, "ilike")
		if fold {
			pat = strings.ToLower(pat)
		}
		return func(r map[string]any) bool {
			v, ok := get(r).(string)
			if !ok {
				return negative // Odoo: NULL matches the negative operators only
			}
			if fold {
				v = strings.ToLower(v)
			}
			return strings.Contains(v, pat) != negative
		}, nil
	case "<", "<=", ">", ">=":
		want := normalise(value)
		return func(r map[string]any) bool {
			c, ok := compare(get(r), want)
			if !ok {
				return false
			}
			switch op {
			case "<":
				return c < 0
			case "<=":
				return c <= 0
			case ">":
				return c > 0
			}
			return c >= 0
		}, nil
	}
	return nil, errValue("Invalid leaf %v: operator %q not supported", t, op)
}

// normalise turns a JSON value into the stored representation (int for
// numbers).
func normalise(v any) any {
	if n, ok := toInt(v); ok {
		return n
	}
	return v
}

func equal(a, b any) bool { return a != nil && a == b }

func compare(a, b any) (int, bool) {
	switch x := a.(type) {
	case int:
		if y, ok := b.(int); ok {
			return cmp.Compare(x, y), true
		}
	case string:
		if y, ok := b.(string); ok {
			return cmp.Compare(x, y), true
		}
	}
	return 0, false
}

// sorter returns the order of an "order" argument: "name, id desc".
func sorter(m *model, order string) (func(a, b map[string]any) int, *rpcError) {
	type key struct {
		field string
		desc  bool
	}
	var keys []key
	for part := range strings.SplitSeq(order, ",") {
		words := strings.Fields(strings.ToLower(part))
		if len(words) == 0 || len(words) > 2 || (len(words) == 2 && words[1] != "asc" && words[1] != "desc") {
			return nil, errValue("Invalid order %q", order)
		}
		if _, ok := m.fields[words[0]]; !ok {
			return nil, errValue("Invalid field %q on model %q", words[0], m.name)
		}
		keys = append(keys, key{words[0], len(words) == 2 && words[1] == "desc"})
	}
	return func(a, b map[string]any) int {
		for _, k := range keys {
			c, ok := compare(a[k.field], b[k.field])
			if x, isText := a[k.field].(string); isText && ok && m.fields[k.field].kind == Char {
				frenchMu.Lock()
				c = french.CompareString(x, b[k.field].(string))
				frenchMu.Unlock()
			}
			if !ok { // unset values last, as PostgreSQL's NULLS LAST for ASC
				c = cmp.Compare(boolInt(a[k.field] == nil), boolInt(b[k.field] == nil))
			}
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return cmp.Compare(a["id"].(int), b["id"].(int))
	}, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
