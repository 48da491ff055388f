package pagecache

import (
	"bytes"
	"compress/gzip"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"cla/internal/web"
)

// TestZerosOperatorCombinesCRCs: crc32(a‖b) is computed from crc32(a),
// crc32(b) and len(b) alone, for lengths around the powers of two.
func TestZerosOperatorCombinesCRCs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 70000)
	for i := range data {
		data[i] = byte(rng.UintN(256))
	}
	for _, n := range []int{0, 1, 2, 3, 7, 8, 255, 256, 4095, 4096, 65537, 69000} {
		a, b := data[:len(data)-n], data[len(data)-n:]
		op := zerosOperator(len(b))
		got := op.times(crc32.ChecksumIEEE(a)) ^ crc32.ChecksumIEEE(b)
		if want := crc32.ChecksumIEEE(data); got != want {
			t.Errorf("len(b) = %d: combined %08x, want %08x", n, got, want)
		}
	}
}

// gunzip decompresses one gzip member with the standard library, which
// checks the trailer's CRC-32 and length at EOF, and fails on trailing data.
func gunzip(t *testing.T, z []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatalf("gzip header: %v", err)
	}
	zr.Multistream(false)
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gzip body: %v", err)
	}
	if rest, _ := io.ReadAll(zr); len(rest) > 0 {
		t.Fatalf("%d bytes after the gzip member", len(rest))
	}
	return out
}

// TestSplicedGzipIsThePage: a page spliced around kept parts decompresses,
// checksum and length verified, to exactly the page with the parts in place,
// whatever the pieces around them: empty, repeating the part, binary,
// deflate and gzip look-alikes, stand-in look-alikes, longer than a stored
// block (65,535 bytes).
func TestSplicedGzipIsThePage(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 50000)
	for i := range random {
		random[i] = byte(rng.UintN(256))
	}
	shared := "<section>" + strings.Repeat(`<article class="arg">Les circuits courts rémunèrent mieux les producteurs.</article>`, 3000) + "</section>"
	big := NewPart(shared)
	empty := NewPart("")
	other := NewPart(string(random[:3000]))
	hostile := []string{
		"",
		"<!doctype html><header>Bonjour Zoé</header>",
		shared[:5000], // the part's own text, before it
		"<!--part-" + strings.Repeat("0", 32) + "-->",
		string(random),
		"\x00\x00\xff\xff\x01\x00\x00\xff\xff" + strings.Repeat("\x1f\x8b", 100),
		strings.Repeat("é", 40000),
	}
	check := func(name string, pieces [][]byte, parts []*Part) {
		t.Helper()
		var want, z bytes.Buffer
		for i, p := range pieces {
			want.Write(p)
			if i < len(parts) {
				want.WriteString(parts[i].HTML())
			}
		}
		writeSpliced(&z, pieces, parts)
		if got := gunzip(t, z.Bytes()); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%s: decompressed %d bytes, want the page's %d", name, len(got), want.Len())
		}
	}
	for _, before := range hostile {
		for _, after := range hostile {
			check("one part", [][]byte{[]byte(before), []byte(after)}, []*Part{big})
		}
	}
	check("no part", [][]byte{[]byte(hostile[1])}, nil)
	check("no part, empty page", [][]byte{nil}, nil)
	check("empty part", [][]byte{[]byte("a"), []byte("b")}, []*Part{empty})
	check("three parts", [][]byte{nil, []byte(shared[100:900]), []byte(hostile[4]), nil}, []*Part{big, other, big})

	// The deflate block is made once: the part keeps the same bytes.
	first := big.compressed()
	if second := big.compressed(); &first[0] != &second[0] {
		t.Error("the part was compressed again")
	}
	if len(first) > len(shared)/10 {
		t.Errorf("the part's deflate block is %d bytes for %d of repetitive HTML", len(first), len(shared))
	}
}

// TestSendSpliced: through Fiber, a client accepting gzip gets the spliced
// page gzipped, one that does not gets it plain, both varying on
// Accept-Encoding and with the same content; a page whose stand-ins do not
// match its parts is an error, not a page with a hole.
func TestSendSpliced(t *testing.T) {
	part := NewPart(strings.Repeat("<p>Une part commune à tous les membres.</p>", 500))
	app := fiber.New()
	app.Use(func(c *fiber.Ctx) error {
		if c.Get("X-Member") != "" {
			web.SetViewer(c, &web.Viewer{Name: "Zoé"})
		}
		return c.Next()
	})
	app.Get("/:standins", func(c *fiber.Ctx) error {
		page := "<header>Zoé</header>" + strings.Repeat(StandIn, len(c.Params("standins"))-1) + "<footer>fin</footer>"
		return SendSpliced(c, []byte(page), part)
	})
	want := "<header>Zoé</header>" + part.HTML() + "<footer>fin</footer>"
	get := func(path, acceptEncoding string, member bool) (int, string, string, []byte) {
		req := httptest.NewRequest("GET", path, nil)
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		if member {
			req.Header.Set("X-Member", "1")
		}
		resp, err := app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"), body
	}
	_, enc, vary, body := get("/xx", "gzip, deflate, br", true)
	if enc != "gzip" || !strings.Contains(vary, "Accept-Encoding") {
		t.Fatalf("member accepting gzip: Content-Encoding %q, Vary %q", enc, vary)
	}
	if got := string(gunzip(t, body)); got != want {
		t.Errorf("gzipped page differs from the plain one (%d bytes, want %d)", len(got), len(want))
	}
	if len(body) > len(want)/5 {
		t.Errorf("gzipped page is %d bytes for %d", len(body), len(want))
	}
	for _, ae := range []string{"", "gzip;q=0", "br"} {
		_, enc, vary, body = get("/xx", ae, true)
		if enc != "" || string(body) != want || !strings.Contains(vary, "Accept-Encoding") {
			t.Errorf("member, Accept-Encoding %q: Content-Encoding %q, Vary %q, plain page %v", ae, enc, vary, string(body) == want)
		}
	}
	// An anonymous page may be stored whole by Handler: it stays plain.
	if _, enc, _, body = get("/xx", "gzip", false); enc != "" || string(body) != want {
		t.Errorf("anonymous: Content-Encoding %q, plain page %v", enc, string(body) == want)
	}
	for _, path := range []string{"/x", "/xxx"} {
		if status, _, _, _ := get(path, "gzip", true); status != fiber.StatusInternalServerError {
			t.Errorf("%s (stand-ins ≠ parts): status %d, want 500", path, status)
		}
	}
}
