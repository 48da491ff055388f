package boussole

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"cla/internal/apperr"
)

// CriterionRow is one row of the criteria form: a criterion as typed, with
// its field ids' index and its errors.
type CriterionRow struct {
	Index int    // the row's number in the field names (c3_name…)
	Rank  string // the position typed, to reorder
	CriterionSpec
}

// Field is the form field id of the row's field name ("c3_name").
func (r CriterionRow) Field(name string) string {
	return "c" + strconv.Itoa(r.Index) + "_" + name
}

// CriteriaForm is the editable list of criteria: the rows, the errors keyed
// by field id, and the pillars to choose from.
type CriteriaForm struct {
	Rows    []CriterionRow
	Errors  apperr.Fields
	Pillars []Pillar
}

// Err returns the error of field name of row r ("" for none).
func (f CriteriaForm) Err(r CriterionRow, name string) string {
	return f.Errors[r.Field(name)]
}

// blankRows is how many empty rows the form offers for new criteria.
const blankRows = 3

// firstBlankRows is how many empty rows a boussole written from nothing
// gets: the form works without JavaScript, so rows cannot be added on the page.
const firstBlankRows = 12

// NewCriteriaForm fills the form with spec, plus empty rows to add criteria.
func NewCriteriaForm(spec []CriterionSpec) CriteriaForm {
	f := CriteriaForm{Pillars: Pillars}
	for i, c := range spec {
		f.Rows = append(f.Rows, CriterionRow{Index: i + 1, Rank: strconv.Itoa(i + 1), CriterionSpec: c})
	}
	if len(spec) == 0 {
		f.addRows(firstBlankRows)
	} else {
		f.addBlanks()
	}
	return f
}

func (f *CriteriaForm) addBlanks() { f.addRows(blankRows) }

func (f *CriteriaForm) addRows(n int) {
	last := 0
	for _, r := range f.Rows {
		last = max(last, r.Index)
	}
	for i := 1; i <= n; i++ {
		f.Rows = append(f.Rows, CriterionRow{Index: last + i})
	}
}

// RowCount is the highest row index, posted back in the hidden "rows" field.
func (f CriteriaForm) RowCount() int {
	n := 0
	for _, r := range f.Rows {
		n = max(n, r.Index)
	}
	return n
}

// ParseCriteriaForm reads the posted criteria: rows c1…cN (N in "rows"), each
// with name, question, description, pillar, rank (its new position) and
// remove (a checkbox). Empty rows are ignored; the criteria are ordered by
// rank, then grouped by pillar. On a problem the form to re-render is returned
// with the French errors beside their fields.
func ParseCriteriaForm(get func(string) string) ([]CriterionSpec, CriteriaForm, error) {
	n, _ := strconv.Atoi(strings.TrimSpace(get("rows")))
	n = min(max(n, 0), MaxCriteria+blankRows*4)
	form := CriteriaForm{Pillars: Pillars, Errors: apperr.Fields{}}
	type ranked struct {
		row  CriterionRow
		rank int
	}
	var kept []ranked
	for i := 1; i <= n; i++ {
		r := CriterionRow{Index: i}
		val := func(name string) string { return strings.TrimSpace(get(r.Field(name))) }
		r.Name, r.Question, r.Description, r.Pillar, r.Rank = val("name"), val("question"), val("description"), Pillar(val("pillar")), val("rank")
		if val("remove") != "" || (r.Name == "" && r.Question == "" && r.Description == "") {
			continue
		}
		rank, err := strconv.Atoi(r.Rank)
		if err != nil {
			if r.Rank != "" {
				form.Errors.Add(r.Field("rank"), "Le rang est un nombre entier.")
			}
			rank = i
		}
		kept = append(kept, ranked{r, rank})
	}
	slices.SortStableFunc(kept, func(a, b ranked) int { return cmp.Compare(a.rank, b.rank) })
	var spec []CriterionSpec
	for _, k := range kept {
		form.Rows = append(form.Rows, k.row)
		spec = append(spec, k.row.CriterionSpec)
	}
	for key, msg := range ValidateSpec(spec) {
		// "criteria.K.field" → the field of the K-th kept row.
		parts := strings.Split(key, ".")
		if len(parts) == 3 {
			if k, err := strconv.Atoi(parts[1]); err == nil && k >= 1 && k <= len(form.Rows) {
				form.Errors.Add(form.Rows[k-1].Field(parts[2]), msg)
				continue
			}
		}
		form.Errors.Add("criteria", msg)
	}
	form.addBlanks()
	if len(form.Errors) > 0 {
		return nil, form, form.Errors.Err()
	}
	return OrderByPillar(spec), form, nil
}
