package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"cla/static"
)

type asset struct {
	body        []byte
	contentType string
	hash        string
}

// assets is the embedded static tree, read once: it never changes while running.
var assets = func() map[string]asset {
	m := map[string]asset{}
	_ = fs.WalkDir(static.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static.FS, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		if strings.HasPrefix(ct, "text/") && !strings.Contains(ct, "charset") {
			ct += "; charset=utf-8"
		}
		m[p] = asset{body: b, contentType: ct, hash: hex.EncodeToString(sum[:])[:12]}
		return nil
	})
	return m
}()

// AssetURL returns the URL of a static file with its content hash, so that it can
// be cached for a year and still change on the next release.
func AssetURL(name string) string {
	if a, ok := assets[name]; ok {
		return "/static/" + name + "?v=" + a.hash
	}
	return "/static/" + name
}

func mountStatic(app *fiber.App) {
	app.Get("/static/*", func(c *fiber.Ctx) error {
		a, ok := assets[c.Params("*")]
		if !ok {
			return fiber.ErrNotFound
		}
		etag := `"` + a.hash + `"`
		c.Set(fiber.HeaderETag, etag)
		if c.Query("v") == a.hash {
			c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
		} else {
			c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
		}
		if c.Get(fiber.HeaderIfNoneMatch) == etag {
			return c.SendStatus(fiber.StatusNotModified)
		}
		c.Set(fiber.HeaderContentType, a.contentType)
		return c.Send(a.body)
	})
}
