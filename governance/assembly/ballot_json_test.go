package assembly

import (
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"
)

// castBatchJSON writes what encoding/json writes from castRequest's tags, as
// PostgreSQL reads it: same values once decoded, for texts with quotes,
// backslashes, control characters, non-ASCII and invalid UTF-8, and for
// every set of variants.
func TestCastBatchJSON(t *testing.T) {
	texts := []string{"", "pour", `dit "non" \ puis`, "ligne\nsuivante\r\tfin\x01\x1f", "Jeanne d'Arc, élue — 🌾", "\u2028<&>", "bad\xffutf8\xc3", "\x00"}
	var reqs []*castRequest
	for i, s := range texts {
		reqs = append(reqs,
			newCastRequest(int64(i+1), int64(100+i), int64(1000+i), &Ballot{Choice: ChoiceAgainst, Reason: s}),
			newCastRequestBy(7, 8, 9, int64(i+2), BallotByProxy, &Ballot{Choice: ChoiceObjection, Reason: s}),
			newCastRequest(7, 8, 9, &Ballot{Grades: []int16{1, 7, int16(i % 7)}}),
			newCastRequest(7, 8, 9, &Ballot{Choice: Choice(s)}),
		)
		// A variant's texts as given, whatever ValidateFor says of them.
		reqs = append(reqs, &castRequest{CouncilID: 1, VoteID: 2, MemberID: 3, Via: BallotVia(s),
			Variants: map[VoteMethod]castVariant{MethodMajority: {Options: i, Choice: Choice(s), Reason: s, Grades: s}}})
	}
	got, err := castBatchJSON(reqs)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(reqs)
	if err != nil {
		t.Fatal(err)
	}
	// PostgreSQL refuses invalid UTF-8 where encoding/json reads U+FFFD.
	if !utf8.ValidString(got) {
		t.Errorf("invalid UTF-8: %q", got)
	}
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("castBatchJSON:\n%s\nencoding/json:\n%s", got, want)
	}
	for i, r := range reqs {
		if r.N != i {
			t.Fatalf("request %d numbered %d", i, r.N)
		}
	}
}
