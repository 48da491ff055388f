package instance

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/council"
	"cla/internal/web"
)

// ErrSuspended is every public page of a suspended council (503).
var ErrSuspended = apperr.New(apperr.Unavailable, "Ce conseil est suspendu sur cette plateforme : ses pages ne sont pas disponibles pour le moment. "+
	"Pour en savoir plus, contactez l'équipe du conseil ou l'opérateur·ice de la plateforme.")

// ErrArchived refuses every change in an archived council: it stays
// readable, as a record, but nothing can change in it.
var ErrArchived = apperr.New(apperr.Forbidden, "Ce conseil est archivé : ses pages restent consultables, mais plus rien ne peut y être modifié.")

// ErrRegisterPrivate is the register's pages and open data while the
// council keeps its register private.
var ErrRegisterPrivate = apperr.New(apperr.Forbidden, "Le registre de ce conseil n'est pas encore public : il le sera quand le conseil l'aura décidé. "+
	"Les membres du conseil le consultent après connexion.")

// StateGuard answers for a suspended or archived council, before any
// domain route: a suspended council's pages answer ErrSuspended (503); an
// archived council's pages are read-only (every non-GET request but signing
// in and out answers ErrArchived). The operator's pages, password links and
// static files are always served.
func StateGuard(c *fiber.Ctx) error {
	co := web.Council(c)
	if co == nil || web.InstancePath(c.Path()) || c.Path() == "/healthz" || c.Path() == "/readyz" {
		return c.Next()
	}
	switch co.State {
	case council.Suspended:
		return ErrSuspended
	case council.Archived:
		m := c.Method()
		if m != fiber.MethodGet && m != fiber.MethodHead && m != fiber.MethodOptions && c.Path() != "/connexion" && c.Path() != "/deconnexion" {
			return ErrArchived
		}
	}
	return c.Next()
}

// openDataPath reports whether path is the register's open data.
func openDataPath(p string) bool {
	return p == "/api/v1/register" || strings.HasPrefix(p, "/api/v1/register/") || p == "/api/v1/shops" ||
		p == "/register.csv" || p == "/shops.csv"
}

// registerPagePath reports whether path is one of the register's public
// pages (the register, the search, the points de vente).
func registerPagePath(p string) bool {
	for _, prefix := range []string{"/registre", "/points-de-vente"} {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return p == "/puis-je-acheter"
}

// PrivateOpenData refuses the register's open data while the council keeps
// its register private. It runs before the session middleware (open data
// uses no session): nobody gets the data then.
func PrivateOpenData(c *fiber.Ctx) error {
	if co := web.Council(c); co != nil && !co.RegisterPublic && openDataPath(c.Path()) {
		return ErrRegisterPrivate
	}
	return c.Next()
}

// PrivatePages refuses the register's pages to anyone but the council's
// members while the council keeps its register private. It runs after the
// session middleware.
func PrivatePages(c *fiber.Ctx) error {
	if co := web.Council(c); co != nil && !co.RegisterPublic && registerPagePath(c.Path()) && auth.Role(c) == authz.None {
		return ErrRegisterPrivate
	}
	return c.Next()
}
