package web

import (
	"reflect"
	"strings"
	"testing"
)

func execute(t *testing.T, name string, view any) string {
	t.Helper()
	var b strings.Builder
	if err := ExecuteTemplate(&b, name, view); err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// A field says what it is, links its hint and error to its control, marks the
// control invalid only with an error, and escapes what was typed.
func TestFieldPartial(t *testing.T) {
	view := map[string]any{"Errors": map[string]string{"title": `Trop "long" <b>`}}
	got := execute(t, "partials/field", map[string]any{"Name": "title", "Label": "Titre", "Note": "(facultatif)",
		"Hint": "Une ligne.", "Value": `<script>"x"</script> & é`, "Error": view["Errors"].(map[string]string)["title"],
		"Required": true, "MaxLength": 200})
	want := `<label for="title">Titre <span class="muted">(facultatif)</span></label> ` +
		`<p class="field-hint" id="title-hint">Une ligne.</p> ` +
		`<input type="text" id="title" name="title" value="&lt;script&gt;&#34;x&#34;&lt;/script&gt; &amp; é" required maxlength="200" aria-invalid="true" aria-describedby="title-hint title-error"> ` +
		`<p class="field-error" id="title-error">Trop &#34;long&#34; &lt;b&gt;</p>`
	if got != want {
		t.Errorf("text field:\ngot  %s\nwant %s", got, want)
	}
	got = execute(t, "partials/field", map[string]any{"Name": "duration", "ID": "edit-ends_at", "Label": "Durée", "Type": "textarea",
		"Value": "a\nb", "Rows": "3", "Error": ""})
	want = `<label for="edit-ends_at">Durée</label> <textarea id="edit-ends_at" name="duration" rows="3">a b</textarea>`
	if got != want {
		t.Errorf("textarea without error:\ngot  %s\nwant %s", got, want)
	}
	if got := execute(t, "partials/field", map[string]any{"Name": "password", "Label": "Mot de passe", "Type": "password", "Value": "secret"}); strings.Contains(got, "secret") || strings.Contains(got, "aria-") {
		t.Errorf("password field: %s", got)
	}
}

// The summary lists the messages in form order, each linking to its field,
// then the messages of no field; nothing without errors.
func TestErrorsSummaryPartial(t *testing.T) {
	errs := map[string]string{"title": "Titre manquant", "body": "Texte <vide>", "_idem": "Déjà envoyé", "kind": "Type ?"}
	got := execute(t, "partials/errors-summary", map[string]any{"Errors": errs, "Lead": "Corrigez :", "Order": "kind title ends_at:edit-duree body", "Prefix": "edit-"})
	want := `<div class="error-summary" role="alert"><p>Corrigez :</p> <ul><li><a href="#edit-kind">Type ?</a></li><li><a href="#edit-title">Titre manquant</a></li>` +
		`<li><a href="#edit-body">Texte &lt;vide&gt;</a></li><li>Déjà envoyé</li></ul></div>`
	if got != want {
		t.Errorf("summary:\ngot  %s\nwant %s", got, want)
	}
	if got := execute(t, "partials/errors-summary", map[string]any{"Errors": map[string]string(nil), "Lead": "x"}); got != "" {
		t.Errorf("no errors: %q", got)
	}
	if got := FormErrors(map[string]string{"ends_at": "Durée ?"}, "title ends_at:edit-duree", "edit-"); !reflect.DeepEqual(got, []FieldError{{ID: "edit-duree", Message: "Durée ?"}}) {
		t.Errorf("id given in order: %+v", got)
	}
	ordered := FormErrors(map[string]string{"reason": "Trop long", "choice": "Choisissez"}, "choice: reason", "")
	if want := []FieldError{{Message: "Choisissez"}, {ID: "reason", Message: "Trop long"}}; !reflect.DeepEqual(ordered, want) {
		t.Errorf("field without a control to link to: %+v", ordered)
	}
}
