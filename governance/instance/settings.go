package instance

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/auth"
	"cla/internal/council"
	"cla/internal/markdown"
)

// Settings is what a council's admins change on /gestion/conseil.
type Settings struct {
	Name           string
	PresentationMD string // markdown, rendered and stored when saved
	ContactEmail   string
	Hosts          string // host names, as ParseHosts reads them
	RegisterPublic bool
}

// maxPresentation is the presentation's limit, the schema's as well.
const maxPresentation = 20000

// ErrRegisterAlreadyPublic refuses to make private a register that was
// public when it had versions: published open data cannot be taken back.
const ErrRegisterAlreadyPublic = "Le registre a déjà une version publiée : il reste public (les données ouvertes déjà publiées ne se reprennent pas)."

// SaveSettings checks and saves the council's settings in one transaction:
// the presentation is rendered to sanitised HTML once, here; host names held
// by another council are refused (field "hosts"); the register may be made
// private only while it has no version (field "register_public"). The
// public pages' caches are told (catalog.Touch).
func SaveSettings(ctx context.Context, db *bun.DB, co *council.Council, s Settings, actor audit.Actor) error {
	s.Name = auth.CleanName(s.Name)
	s.PresentationMD = strings.TrimSpace(s.PresentationMD)
	s.ContactEmail = auth.NormalizeEmail(s.ContactEmail)
	f := apperr.Fields{}
	checkText(f, "name", s.Name, true, "le nom du conseil")
	if utf8.RuneCountInString(s.PresentationMD) > maxPresentation {
		f.Add("presentation", "La présentation ne doit pas dépasser 20 000 caractères.")
	}
	if msg := checkEmail(s.ContactEmail, false); msg != "" {
		f.Add("contact_email", msg)
	}
	hosts, msg := ParseHosts(s.Hosts)
	if msg != "" {
		f.Add("hosts", msg)
	}
	if err := f.Err(); err != nil {
		return err
	}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := council.LockCreation(ctx, tx); err != nil {
			return err
		}
		before, err := council.ForUpdate(ctx, tx, co.ID)
		if err != nil {
			return err
		}
		if msg, err := hostsTaken(ctx, tx, hosts, co.ID); err != nil {
			return err
		} else if msg != "" {
			return apperr.Fields{"hosts": msg}.Err()
		}
		if !s.RegisterPublic && before.RegisterPublic {
			v, err := catalog.CurrentVersion(ctx, tx, co.ID)
			if err != nil {
				return err
			}
			if v != nil {
				return apperr.Fields{"register_public": ErrRegisterAlreadyPublic}.Err()
			}
		}
		oldHosts, err := Hosts(ctx, tx, co.ID)
		if err != nil {
			return err
		}
		if err := council.SaveSettings(ctx, tx, co.ID, council.Settings{Name: s.Name, PresentationMD: s.PresentationMD,
			PresentationHTML: markdown.ToHTML(s.PresentationMD), ContactEmail: s.ContactEmail, RegisterPublic: s.RegisterPublic}); err != nil {
			return err
		}
		if strings.Join(oldHosts, " ") != strings.Join(slices.Sorted(slices.Values(hosts)), " ") {
			if err := council.ReplaceHosts(ctx, tx, co.ID, hosts); err != nil {
				return err
			}
		}
		if err := catalog.Touch(ctx, tx, co.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor.Entry(&co.ID, "council.settings", "council", strconv.FormatInt(co.ID, 10),
			"Réglages du conseil enregistrés"),
			map[string]any{"name": before.Name, "presentation": before.PresentationMD, "contact_email": before.ContactEmail,
				"hosts": oldHosts, "register_public": before.RegisterPublic},
			map[string]any{"name": s.Name, "presentation": s.PresentationMD, "contact_email": s.ContactEmail,
				"hosts": hosts, "register_public": s.RegisterPublic})
	})
	if err == nil {
		council.Invalidate()
	}
	return err
}
