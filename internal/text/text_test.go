package text_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"cla/internal/testdb"
	"cla/internal/text"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func TestNormalize(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"Epicerie\x00Nul", "EpicerieNul"},
		{"caf\xe9", "caf\uFFFD"},
		{"\xed\xa0\x80x", "\uFFFD\uFFFD\uFFFDx"}, // a lone surrogate's UTF-8 bytes are invalid
		{"ligne 1\r\nligne 2\rligne 3\n", "ligne 1\nligne 2\nligne 3\n"},
		{"e\u0301te\u0301", "été"},
		{"e\x00\u0301", "é"}, // the removal brings the mark next to its letter
		{"\u202egnp.exe\u202c", "gnp.exe"},
		{"a\u200fb", "a\u200fb"}, // a right-to-left mark stays
		{"tab\tok\x7f\u0085\u009b", "tab\tok"},
		{"Sécurité sociale de l'alimentation", "Sécurité sociale de l'alimentation"},
	} {
		if got := text.Normalize(c.in); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
		if text.IsNormal(c.in) != (c.in == c.want) || text.IsNormalBytes([]byte(c.in)) != (c.in == c.want) {
			t.Errorf("IsNormal(%q) = %v", c.in, text.IsNormal(c.in))
		}
	}
}

// Clean text, what almost every request carries, costs no allocation.
func TestNormalizeCleanTextDoesNotAllocate(t *testing.T) {
	s := "Épicerie des Remparts, 3 rue des Écoles\nDieulefit"
	if n := testing.AllocsPerRun(100, func() { _ = text.Normalize(s) }); n != 0 {
		t.Errorf("%v allocations for clean text", n)
	}
}

// hostile is the seed corpus: what attackers and careless copy-pastes send.
var hostile = []string{
	"", "Epicerie\x00Nul", "\x00", "caf\xe9", "\xff\xfe\xfd", "\xed\xa0\x80", "\xed\xbf\xbf\xed\xa0\x80",
	"\xc0\xaf", "\xf4\x90\x80\x80", "a\r\nb\rc\n\r", "\r", "e\u0301", "e\x00\u0301", "\u0301début",
	"\u202egnp.exe", "\u2066isolé\u2069", "\u200e\u200f", "\t\v\f\x1b[31mrouge\x1b[0m", "\u0085\u009f\x7f",
	"\ufeffBOM", "\uffff\ufffe", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀", "한국어", "\u1100\u1161\u11a8", // Hangul jamo compose under NFC
	"a" + strings.Repeat("\u0301", 40), // more than 30 combining marks: stream-safe format
	"ﬁ ℌ Å Ω", "=HYPERLINK(\"http://x\")", "<script>alert(1)</script>", "'; DROP TABLE x; --",
}

// FuzzNormalize checks the properties the audit chain relies on: the result is
// idempotent, valid UTF-8, free of forbidden controls, in NFC, and stored by
// PostgreSQL unchanged (a real text column, for the seed corpus and for every
// input the fuzzer finds).
func FuzzNormalize(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	db := testdb.New(f)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE fuzz_text (id bigserial PRIMARY KEY, t text NOT NULL)"); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := text.Normalize(in)
		if again := text.Normalize(out); again != out {
			t.Fatalf("not idempotent: %q → %q → %q", in, out, again)
		}
		if !text.IsNormal(out) || !text.IsNormalBytes([]byte(out)) {
			t.Fatalf("IsNormal(Normalize(%q)) is false", in)
		}
		if text.IsNormal(in) != (in == out) {
			t.Fatalf("IsNormal(%q) = %v but Normalize gives %q", in, text.IsNormal(in), out)
		}
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 from %q: %q", in, out)
		}
		for _, r := range out {
			if r == '\r' || r < 0x20 && r != '\n' && r != '\t' || r >= 0x7f && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
				t.Fatalf("forbidden %U in %q (from %q)", r, out, in)
			}
		}
		if !norm.NFC.IsNormalString(out) {
			t.Fatalf("not NFC: %q", out)
		}
		var stored string
		if err := db.NewRaw("INSERT INTO fuzz_text (t) VALUES (?) RETURNING t", out).Scan(ctx, &stored); err != nil {
			t.Fatalf("PostgreSQL refuses %q (from %q): %v", out, in, err)
		}
		if stored != out {
			t.Fatalf("PostgreSQL stores %q for %q", stored, out)
		}
	})
}
