package pagecache

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"sync"

	"github.com/gofiber/fiber/v2"
	"github.com/klauspost/compress/flate"
)

// Part is HTML that many signed-in pages show alike (a debate's argument
// columns), kept with its deflate form so that each page around it can be
// sent gzipped without compressing it again (SendSpliced).
//
// The deflate form is made once, by the first request that wants it, with a
// fresh compressor ended by a sync flush: its back-references stay within the
// part, and it ends on a byte boundary without a final block, so it is valid
// anywhere in a deflate stream. Each request sends its own bytes around it
// in stored blocks, and the gzip trailer's CRC-32 is combined from the
// parts' own (shift), not computed again over the part.
type Part struct {
	html string

	once     sync.Once
	deflated []byte
	crc      uint32
	// shift appends len(html) zero bytes to a CRC-32: crc(a‖html) is
	// shift·crc(a) ⊕ crc(html).
	shift crcOperator
}

// NewPart keeps html for SendSpliced; nothing is compressed yet.
func NewPart(html string) *Part { return &Part{html: html} }

// HTML is the part as rendered.
func (p *Part) HTML() string { return p.html }

// compressed returns the part's deflate block, made on first use.
func (p *Part) compressed() []byte {
	p.once.Do(func() {
		var buf bytes.Buffer
		buf.Grow(len(p.html) / 4)
		zw := partDeflaters.get(&buf)
		_, _ = io.WriteString(zw, p.html) // a bytes.Buffer does not fail
		_ = zw.Flush()
		partDeflaters.put(zw)
		p.deflated = bytes.Clone(buf.Bytes())
		p.crc = crc32.ChecksumIEEE([]byte(p.html))
		p.shift = zerosOperator(len(p.html))
	})
	return p.deflated
}

// StandIn takes the place of a Part in a page rendered around it (a
// template's action returns it instead of the part's HTML); SendSpliced puts
// the part there. It is an HTML comment, which no escaped text can contain,
// with a random name drawn at start, which no stored HTML can guess.
var StandIn = func() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return "<!--part-" + hex.EncodeToString(b) + "-->"
}()

// errStandIns is a page rendered with a different number of stand-ins than
// parts given: a template that lost or repeated its action.
var errStandIns = errors.New("pagecache: the page's stand-ins do not match its parts")

// SendSpliced sends page, rendered with one StandIn for each of parts (in
// order), with each stand-in replaced by its part. A client that accepts gzip
// gets the page gzipped: the parts' deflate blocks copied as they are, the
// request's own bytes around them in stored blocks (writeSpliced). The
// answer is the same page either way, so it keeps no validator; it varies
// on Accept-Encoding.
//
// Only pages for one viewer are sent gzipped: a page that Handler may store
// (an anonymous GET, Shared) is sent as it is, since the stored entry is its
// body and gets its own gzip copy (Entry.compress).
func SendSpliced(c *fiber.Ctx, page []byte, parts ...*Part) error {
	pieces, err := splitStandIns(page, len(parts))
	if err != nil {
		return err
	}
	c.Vary(fiber.HeaderAcceptEncoding)
	resp := c.Response()
	resp.ResetBody()
	if Shared(c) || !acceptsGzip(c.Get(fiber.HeaderAcceptEncoding)) {
		for i, piece := range pieces {
			resp.AppendBody(piece)
			if i < len(parts) {
				resp.AppendBodyString(parts[i].html)
			}
		}
		return nil
	}
	c.Set(fiber.HeaderContentEncoding, "gzip")
	writeSpliced(resp.BodyWriter(), pieces, parts)
	return nil
}

// splitStandIns cuts page at its n stand-ins.
func splitStandIns(page []byte, n int) ([][]byte, error) {
	pieces := make([][]byte, 0, n+1)
	for range n {
		before, after, ok := bytes.Cut(page, []byte(StandIn))
		if !ok {
			return nil, errStandIns
		}
		pieces = append(pieces, before)
		page = after
	}
	if bytes.Contains(page, []byte(StandIn)) {
		return nil, errStandIns
	}
	return append(pieces, page), nil
}

// gzipHeader is a gzip member's header: deflate, no name, no time, unknown
// system (as compress/gzip writes it without a Header).
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// finalBlock is an empty stored deflate block marked final: it ends a stream
// whose blocks all end on a byte boundary (stored ones, and parts ended by
// a sync flush).
var finalBlock = []byte{1, 0, 0, 0xff, 0xff}

// writeSpliced writes one gzip member holding pieces[0], parts[0],
// pieces[1]… to w. The request's own pieces are sent as stored (not
// compressed) deflate blocks: a signed-in debate page's ~6 KiB of them then
// add ~3 KB to its ~20 KB answer, where compressing them cost a fifth to a
// third of the request's CPU in clabench (two Huffman trees built per request; see
// docs/perf.md, session 29).
func writeSpliced(w io.Writer, pieces [][]byte, parts []*Part) {
	_, _ = w.Write(gzipHeader)
	crc, size := uint32(0), uint32(0)
	for i, piece := range pieces {
		writeStored(w, piece)
		crc = crc32.Update(crc, crc32.IEEETable, piece)
		size += uint32(len(piece)) //nolint:gosec // gzip's ISIZE is the length mod 2^32
		if i < len(parts) {
			p := parts[i]
			_, _ = w.Write(p.compressed())
			crc = p.shift.times(crc) ^ p.crc
			size += uint32(len(p.html)) //nolint:gosec // as above
		}
	}
	_, _ = w.Write(finalBlock)
	var trailer [8]byte
	trailer[0], trailer[1], trailer[2], trailer[3] = byte(crc), byte(crc>>8), byte(crc>>16), byte(crc>>24)
	trailer[4], trailer[5], trailer[6], trailer[7] = byte(size), byte(size>>8), byte(size>>16), byte(size>>24)
	_, _ = w.Write(trailer[:])
}

// writeStored writes b as stored deflate blocks, not final. Every block
// before it ends on a byte boundary, so each header is one zero byte
// (BFINAL 0, BTYPE 00, padding), then LEN and its complement.
func writeStored(w io.Writer, b []byte) {
	for len(b) > 0 {
		n := min(len(b), 0xffff)
		_, _ = w.Write([]byte{0, byte(n), byte(n >> 8), ^byte(n), ^byte(n >> 8)})
		_, _ = w.Write(b[:n])
		b = b[n:]
	}
}

// deflaters keeps compressors between parts: a new one allocates its
// tables (hundreds of KiB), Reset does not.
type deflaters struct {
	level int
	pool  sync.Pool
}

// partDeflaters compress the parts, once each, at the default level.
var partDeflaters = &deflaters{level: flate.DefaultCompression}

// get returns a compressor writing to w, with no history.
func (d *deflaters) get(w io.Writer) *flate.Writer {
	if zw, ok := d.pool.Get().(*flate.Writer); ok {
		zw.Reset(w)
		return zw
	}
	zw, err := flate.NewWriter(w, d.level)
	if err != nil {
		panic(err) // only for an invalid level
	}
	return zw
}

// put keeps zw for a later get.
func (d *deflaters) put(zw *flate.Writer) {
	zw.Reset(io.Discard) // drop the reference to the destination
	d.pool.Put(zw)
}

// crcOperator is a linear map on CRC-32 (IEEE) values over GF(2): entry i is
// the image of bit i (zlib's crc32_combine, with the operator kept).
type crcOperator [32]uint32

// times applies m to v.
func (m *crcOperator) times(v uint32) uint32 {
	var sum uint32
	for i := 0; v != 0; i, v = i+1, v>>1 {
		if v&1 != 0 {
			sum ^= m[i]
		}
	}
	return sum
}

// mul is m·n (n applied first).
func (m *crcOperator) mul(n *crcOperator) crcOperator {
	var out crcOperator
	for i := range n {
		out[i] = m.times(n[i])
	}
	return out
}

// zerosOperator is the operator that appends n zero bytes to a CRC-32: for
// any a and b, crc32(a‖b) = zerosOperator(len(b))·crc32(a) ⊕ crc32(b).
func zerosOperator(n int) crcOperator {
	// One zero bit: the reflected register shifts right, and the bit that
	// leaves it brings in the polynomial.
	var op crcOperator
	op[0] = crc32.IEEE
	for i := 1; i < 32; i++ {
		op[i] = 1 << (i - 1)
	}
	for range 3 { // 2, 4, then 8 bits: one zero byte
		op = op.mul(&op)
	}
	var result crcOperator
	for i := range result {
		result[i] = 1 << i
	}
	for ; n > 0; n >>= 1 {
		if n&1 != 0 {
			result = op.mul(&result)
		}
		op = op.mul(&op)
	}
	return result
}
