package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/governance/boussole"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/text"
)

// Problem is one reason an exchange file is refused: where (a JSON path such
// as $.register_versions[2].items[5].parent, with the line when the file is
// not JSON), what is wrong and what was expected, in French.
type Problem struct {
	Path     string `json:"path"`
	Message  string `json:"message"`
	Expected string `json:"expected"`
}

// String is the problem on one line.
func (p Problem) String() string {
	s := p.Path + " : " + p.Message
	if p.Expected != "" {
		s += " (attendu : " + p.Expected + ")"
	}
	return s
}

// Report is what ImportInto found: the source council and what it copied, or
// every problem of the file (then nothing was written).
type Report struct {
	Source           string // the source council's name
	BoussoleVersions int
	RegisterVersions int
	Items            int // items of the register in force
	Decisions        int
	Problems         []Problem
}

// OK reports whether the file was accepted.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) add(path, expected, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Path: path, Message: fmt.Sprintf(format, args...), Expected: expected})
}

// ErrRefused is returned (wrapped in an apperr.Invalid) when the file has
// problems; the Report lists them.
var ErrRefused = errors.New("exchange file refused")

// refusal is the error of a refused file: Invalid, with a French summary.
type refusal struct{ n int }

func (e refusal) Error() string { return fmt.Sprintf("exchange file refused: %d problem(s)", e.n) }
func (e refusal) Unwrap() []error {
	return []error{ErrRefused, apperr.New(apperr.Invalid, "Le fichier d'échange est refusé : %s, rien n'a été importé.", text.Count(e.n, "problème", "problèmes"))}
}

// ImportInto reads an exchange file from r and fills the council (which must
// be empty: no boussole, no register, no decision) with it, in tx. The whole
// file is checked first — size (MaxBytes), JSON, format and version, then
// every version, item and decision — and on any problem nothing is written:
// the Report lists every problem and the error wraps ErrRefused. On success
// the boussole and register in force are the file's latest versions, and the
// copied history is marked "importé de <council>, <date>".
func ImportInto(ctx context.Context, tx bun.Tx, councilID int64, r io.Reader) (*Report, error) {
	rep := &Report{}
	doc := Read(r, rep)
	if !rep.OK() {
		return rep, refusal{len(rep.Problems)}
	}
	rep.Source = doc.Council.Name
	if err := checkEmpty(ctx, tx, councilID, rep); err != nil {
		return rep, err
	}
	if !rep.OK() {
		return rep, refusal{len(rep.Problems)}
	}
	now := time.Now()
	from := doc.Council.Name
	for _, b := range doc.Boussole {
		on, _ := time.Parse(time.DateOnly, b.AdoptedOn)
		if _, err := boussole.Publish(ctx, tx, councilID, b.Criteria, boussole.Publication{Number: b.Number, AdoptedOn: on,
			Note: b.Note, ImportedFrom: from, ImportedOn: now}); err != nil {
			return rep, fmt.Errorf("import boussole version %d: %w", b.Number, err)
		}
	}
	var versions []catalog.ImportedVersion
	for _, v := range doc.Register {
		on, _ := time.Parse(time.DateOnly, v.EffectiveOn)
		iv := catalog.ImportedVersion{Number: v.Number, EffectiveOn: on, Summary: v.Summary}
		if v.Decision != nil {
			iv.DecisionRef, iv.DecisionTitle = v.Decision.Ref, v.Decision.Title
		}
		for _, it := range v.Items {
			iv.Items = append(iv.Items, catalog.SnapshotItem{Slug: it.Slug, Parent: it.Parent, Kind: it.Kind, Name: it.Name, Status: it.Status,
				Conditions: it.Conditions, ReviewOn: it.ReviewOn, Reason: it.Reason, ExplanationHTML: it.ExplanationHTML})
		}
		versions = append(versions, iv)
	}
	if err := catalog.ImportHistory(ctx, tx, councilID, versions, from, now); err != nil {
		return rep, fmt.Errorf("import register: %w", err)
	}
	if len(doc.Decisions) > 0 {
		rows := make([]importedDecision, len(doc.Decisions))
		for i, d := range doc.Decisions {
			on, _ := time.Parse(time.DateOnly, d.DecidedOn)
			rows[i] = importedDecision{CouncilID: councilID, Position: i + 1, Ref: d.Ref, Title: d.Title, Outcome: d.Outcome,
				DecidedOn: on, MotivationMD: d.Motivation, RegisterVersion: d.RegisterVersion, ImportedFrom: from,
				ImportedOn: time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)}
		}
		if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
			return rep, fmt.Errorf("import decisions: %w", err)
		}
	}
	rep.BoussoleVersions, rep.RegisterVersions, rep.Decisions = len(doc.Boussole), len(doc.Register), len(doc.Decisions)
	if n := len(doc.Register); n > 0 {
		rep.Items = len(doc.Register[n-1].Items)
	}
	if err := audit.Record(ctx, tx, audit.Actor{}.Entry(&councilID, "council.import", "council",
		doc.Council.Slug, fmt.Sprintf("Import du fichier d'échange de %s : %d versions de la boussole, %d versions du registre, %d décisions",
			from, rep.BoussoleVersions, rep.RegisterVersions, rep.Decisions)), nil, nil); err != nil {
		return rep, err
	}
	return rep, nil
}

// checkEmpty adds a problem when the council already has a boussole, a
// register or decisions: an import only starts a new council.
func checkEmpty(ctx context.Context, db bun.IDB, councilID int64, rep *Report) error {
	if ok, err := catalog.HasRegister(ctx, db, councilID); err != nil {
		return err
	} else if ok {
		rep.add("$", "un conseil vide", "le conseil a déjà un registre : un fichier d'échange ne sert qu'à démarrer un conseil vide")
	}
	for _, t := range []struct{ table, what string }{
		{"boussole_versions", "une boussole"}, {"decisions", "des décisions"}, {"imported_decisions", "des décisions importées"},
	} {
		ok, err := db.NewSelect().Table(t.table).Where("council_id = ?", councilID).Exists(ctx)
		if err != nil {
			return err
		}
		if ok {
			rep.add("$", "un conseil vide", "le conseil a déjà %s : un fichier d'échange ne sert qu'à démarrer un conseil vide", t.what)
		}
	}
	return nil
}

// Read reads and checks a whole exchange file, adding every problem to rep;
// the document is meaningful only when rep.OK().
func Read(r io.Reader, rep *Report) *Document {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		rep.add("$", "un fichier lisible", "lecture impossible : %v", err)
		return nil
	}
	if len(data) > MaxBytes {
		rep.add("$", "un fichier de 10 Mo au plus", "le fichier dépasse la limite de 10 Mo")
		return nil
	}
	if !utf8.Valid(data) {
		rep.add("$", "du texte UTF-8", "le fichier n'est pas du texte UTF-8")
		return nil
	}
	var head map[string]any
	if err := json.Unmarshal(data, &head); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			line, col := position(data, syn.Offset)
			rep.add(fmt.Sprintf("ligne %d, colonne %d", line, col), "un document JSON", "ce n'est pas du JSON valide (%s)", syn.Error())
		case errors.As(err, &typ):
			rep.add("$", "un objet JSON { … }", "le document n'est pas un objet JSON")
		default:
			rep.add("$", "un document JSON", "ce n'est pas du JSON valide")
		}
		return nil
	}
	if f, _ := head["format"].(string); f != Format {
		rep.add("$.format", `"`+Format+`"`, "format inconnu : %s", describe(head["format"]))
	}
	if v, ok := head["version"].(float64); !ok || v != Version {
		rep.add("$.version", fmt.Sprint(Version), "version du format inconnue : %s", describe(head["version"]))
	}
	if !rep.OK() {
		return nil
	}
	doc := new(Document)
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(doc); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			rep.add("$."+typ.Field, expectedOf(typ.Type), "valeur de type %s", frenchJSONType(typ.Value))
		} else {
			rep.add("$", "un document d'échange", "document illisible : %v", err)
		}
		return nil
	}
	check(doc, rep)
	return doc
}

// position turns the offset of a json.SyntaxError (just past the offending
// byte) into that byte's line and column (from 1).
func position(data []byte, offset int64) (line, col int) {
	offset = min(max(offset-1, 0), int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}

func describe(v any) string {
	if v == nil {
		return "absent"
	}
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}

func expectedOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "un texte"
	case reflect.Int, reflect.Int64:
		return "un nombre entier"
	case reflect.Slice:
		return "une liste [ … ]"
	case reflect.Struct, reflect.Pointer:
		return "un objet { … }"
	}
	return t.String()
}

func frenchJSONType(v string) string {
	switch v {
	case "string":
		return "texte"
	case "number":
		return "nombre"
	case "array":
		return "liste"
	case "object":
		return "objet"
	case "bool":
		return "booléen"
	}
	return v
}

var (
	slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,119}$`)
	dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

func validDate(s string) bool {
	if !dateRE.MatchString(s) {
		return false
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

func tooLong(s string, n int) bool { return utf8.RuneCountInString(s) > n }

// check adds every inconsistency of a decoded document to rep.
func check(doc *Document, rep *Report) {
	c := doc.Council
	if n := utf8.RuneCountInString(strings.TrimSpace(c.Name)); n == 0 || n > 200 {
		rep.add("$.council.name", "le nom du conseil, 1 à 200 caractères", "nom du conseil absent ou trop long")
	}
	if tooLong(c.Caisse, 200) || tooLong(c.Territory, 200) || tooLong(c.Slug, 60) {
		rep.add("$.council", "des textes de 200 caractères au plus", "identité du conseil trop longue")
	}

	prev := 0
	for i, b := range doc.Boussole {
		p := fmt.Sprintf("$.boussole_versions[%d]", i)
		if b.Number <= prev {
			rep.add(p+".number", fmt.Sprintf("un numéro supérieur à %d", prev), "le numéro de version %d recule ou se répète", b.Number)
		}
		prev = max(prev, b.Number)
		if !validDate(b.AdoptedOn) {
			rep.add(p+".adopted_on", "une date AAAA-MM-JJ", "date d'adoption invalide : %q", b.AdoptedOn)
		}
		if tooLong(b.Note, 2000) {
			rep.add(p+".note", "2000 caractères au plus", "note trop longue")
		}
		for key, msg := range boussole.ValidateSpec(b.Criteria) {
			// "criteria.N.field" (N from 1) → criteria[N-1].field
			path := p + ".criteria"
			if parts := strings.Split(key, "."); len(parts) == 3 {
				var n int
				fmt.Sscan(parts[1], &n)
				path = fmt.Sprintf("%s[%d].%s", path, n-1, parts[2])
			}
			rep.add(path, "un critère valide", "%s", msg)
		}
	}

	prev = 0
	numbers := map[int]bool{}
	for i, v := range doc.Register {
		p := fmt.Sprintf("$.register_versions[%d]", i)
		if v.Number <= prev {
			rep.add(p+".number", fmt.Sprintf("un numéro supérieur à %d", prev), "le numéro de version %d recule ou se répète", v.Number)
		}
		prev = max(prev, v.Number)
		numbers[v.Number] = true
		if !validDate(v.EffectiveOn) {
			rep.add(p+".effective_on", "une date AAAA-MM-JJ", "date d'effet invalide : %q", v.EffectiveOn)
		}
		if n := utf8.RuneCountInString(strings.TrimSpace(v.Summary)); n == 0 || n > 500 {
			rep.add(p+".summary", "un résumé de 1 à 500 caractères", "résumé absent ou trop long")
		}
		if v.Decision != nil && (tooLong(v.Decision.Ref, 200) || tooLong(v.Decision.Title, 300)) {
			rep.add(p+".decision", "une référence de 200 et un titre de 300 caractères au plus", "décision trop longue")
		}
		checkItems(p, v.Items, rep)
	}

	refs := map[string]bool{}
	for i, d := range doc.Decisions {
		p := fmt.Sprintf("$.decisions[%d]", i)
		if n := utf8.RuneCountInString(d.Ref); n == 0 || n > 200 {
			rep.add(p+".ref", "une référence de 1 à 200 caractères", "référence absente ou trop longue")
		} else if refs[d.Ref] {
			rep.add(p+".ref", "une référence unique", "la référence %q est déjà celle d'une autre décision", d.Ref)
		}
		refs[d.Ref] = true
		if n := utf8.RuneCountInString(d.Title); n == 0 || n > 300 {
			rep.add(p+".title", "un titre de 1 à 300 caractères", "titre absent ou trop long")
		}
		if d.Outcome != "adoptee" && d.Outcome != "rejetee" && d.Outcome != "ajournee" {
			rep.add(p+".outcome", "adoptee, rejetee ou ajournee", "issue inconnue : %q", d.Outcome)
		}
		if !validDate(d.DecidedOn) {
			rep.add(p+".decided_on", "une date AAAA-MM-JJ", "date de décision invalide : %q", d.DecidedOn)
		}
		if tooLong(d.Motivation, 20000) {
			rep.add(p+".motivation", "20 000 caractères au plus", "motivation trop longue")
		}
		if d.RegisterVersion != nil && !numbers[*d.RegisterVersion] {
			rep.add(p+".register_version", "le numéro d'une version du registre de ce fichier", "la version %d du registre n'est pas dans le fichier", *d.RegisterVersion)
		}
	}
}

// checkItems checks one register version's items: slugs unique and well
// formed, parents present before their children and of the right kind,
// statuses known with their conditions or reason.
func checkItems(p string, items []RegisterEntry, rep *Report) {
	kinds := map[string]catalog.Kind{}
	for j, it := range items {
		ip := fmt.Sprintf("%s.items[%d]", p, j)
		if !slugRE.MatchString(it.Slug) {
			rep.add(ip+".slug", "minuscules, chiffres et tirets (120 au plus)", "identifiant invalide : %q", it.Slug)
		} else if _, dup := kinds[it.Slug]; dup {
			rep.add(ip+".slug", "un identifiant unique dans la version", "l'identifiant %q est en double", it.Slug)
		}
		if n := utf8.RuneCountInString(strings.TrimSpace(it.Name)); n == 0 || n > 200 {
			rep.add(ip+".name", "un nom de 1 à 200 caractères", "nom absent ou trop long")
		}
		var wantParent catalog.Kind
		switch it.Kind {
		case catalog.Family:
			if it.Parent != "" {
				rep.add(ip+".parent", `"" (une famille n'a pas de parent)`, "une famille ne peut pas avoir de parent")
			}
		case catalog.Category:
			wantParent = catalog.Family
		case catalog.Product:
			wantParent = catalog.Category
		default:
			rep.add(ip+".kind", "family, category ou product", "genre inconnu : %q", it.Kind)
		}
		if wantParent != "" {
			switch pk, ok := kinds[it.Parent]; {
			case it.Parent == "":
				rep.add(ip+".parent", "l'identifiant de son parent", "l'élément %q n'a pas de parent", it.Slug)
			case !ok:
				rep.add(ip+".parent", "un parent cité plus haut dans la même version", "le parent %q de %q est absent de cette version", it.Parent, it.Slug)
			case pk != wantParent && !(it.Kind == catalog.Product && pk == catalog.Family):
				rep.add(ip+".parent", "une famille pour une catégorie, une catégorie pour un produit", "le parent %q de %q n'est pas du bon genre", it.Parent, it.Slug)
			}
		}
		if !it.Status.Valid() {
			rep.add(ip+".status", "conventionne, sous_conditions, non_conventionne ou debat_souhaite", "statut inconnu : %q", it.Status)
		}
		if it.Status == catalog.SousConditions && strings.TrimSpace(it.Conditions) == "" {
			rep.add(ip+".conditions", "les conditions d'un élément sous conditions", "conditions absentes")
		}
		if it.Status == catalog.NonConventionne && strings.TrimSpace(it.Reason) == "" {
			rep.add(ip+".reason", "la raison d'un élément non conventionné", "raison absente")
		}
		if tooLong(it.Conditions, 2000) || tooLong(it.Reason, 2000) {
			rep.add(ip, "des conditions et une raison de 2000 caractères au plus", "texte trop long")
		}
		if tooLong(it.ExplanationHTML, 40000) {
			rep.add(ip+".explanation_html", "40 000 caractères au plus", "explication trop longue")
		}
		if it.ReviewOn != "" && !validDate(it.ReviewOn) {
			rep.add(ip+".review_on", "une date AAAA-MM-JJ ou \"\"", "date de réexamen invalide : %q", it.ReviewOn)
		}
		if _, dup := kinds[it.Slug]; !dup {
			kinds[it.Slug] = it.Kind
		}
	}
}
