// Package instance holds what the operator of an instance does (the person
// who installs cla, distinct from any council's admin): operators, creating a
// council from nothing (empty, from the public model, or from an exchange
// file), its host names and its state (active, suspended, archived), the
// council's own settings page (/gestion/conseil) and the pages under
// /instance. An operator has no power inside a council without a membership
// there: authorization inside a council stays internal/authz's.
package instance

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones must load on machines without a zoneinfo database
	"unicode/utf8"

	"github.com/uptrace/bun"

	"cla/governance/exchange"
	"cla/governance/model"
	"cla/governance/proposal"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/council"
	"cla/internal/database"
	"cla/internal/mail"
	"cla/internal/text"
)

// Start is what a new council starts from.
type Start string

// The starting points.
const (
	StartEmpty Start = "empty" // an empty register, and a boussole to write
	StartModel Start = "model" // the model boussole, the model register as a proposal
	StartFile  Start = "file"  // another council's exchange file (governance/exchange)
)

// Label is the starting point in French.
func (s Start) Label() string {
	switch s {
	case StartModel:
		return "Le modèle (boussole de Dieulefit, registre de mars 2025 à adopter)"
	case StartFile:
		return "Le fichier d'échange d'un autre conseil"
	}
	return "Vide (registre vide, boussole à écrire)"
}

// Starts lists the starting points in the order forms present them.
var Starts = []Start{StartEmpty, StartModel, StartFile}

// Input is what creating a council asks for.
type Input struct {
	Slug         string
	Name         string
	CaisseName   string
	Commune      string
	Territory    string
	ContactEmail string
	Timezone     string // "" is Europe/Paris
	Hosts        string // host names separated by spaces, commas or new lines
	AdminEmail   string
	Start        Start
	File         io.Reader // the exchange file, for StartFile
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,59}$`)

// CheckSlug returns a French message when slug is not a council identifier.
func CheckSlug(slug string) string {
	if slug == "" {
		return "Indiquez un identifiant (par exemple : dieulefit)."
	}
	if !slugRE.MatchString(slug) {
		return "L'identifiant ne peut contenir que des lettres minuscules sans accent, des chiffres et des tirets " +
			"(2 à 60 caractères, sans tiret au début) : par exemple « pays-de-dieulefit »."
	}
	return ""
}

var hostLabelRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ParseHosts splits and checks a list of host names: lower case ASCII labels
// (internationalised names in their xn-- form), no scheme, port or path. It
// returns the names, without duplicates, or a French message.
func ParseHosts(s string) ([]string, string) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
	var hosts []string
	seen := map[string]bool{}
	for _, h := range fields {
		h = strings.TrimSuffix(h, ".")
		if msg := checkHost(h); msg != "" {
			return nil, msg
		}
		if !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	if len(hosts) > 20 {
		return nil, "Indiquez au plus 20 noms d'hôte."
	}
	return hosts, ""
}

func checkHost(h string) string {
	switch {
	case strings.Contains(h, "://") || strings.Contains(h, "/"):
		return fmt.Sprintf("« %s » : indiquez le nom d'hôte seul, sans « https:// » ni chemin (par exemple : cla.exemple.fr).", h)
	case strings.Contains(h, ":"):
		return fmt.Sprintf("« %s » : indiquez le nom d'hôte sans numéro de port.", h)
	case h != strings.ToLower(h):
		return fmt.Sprintf("« %s » : écrivez le nom d'hôte en minuscules.", h)
	case len(h) > 253:
		return fmt.Sprintf("« %s » : ce nom d'hôte est trop long.", h)
	}
	for _, label := range strings.Split(h, ".") {
		if !hostLabelRE.MatchString(label) {
			return fmt.Sprintf("« %s » n'est pas un nom d'hôte valide : lettres minuscules sans accent, chiffres, tirets et points "+
				"(un nom accentué s'écrit sous sa forme xn--).", h)
		}
	}
	return ""
}

// CheckTimezone returns a French message when tz is not a known time zone.
func CheckTimezone(tz string) string {
	if tz == "" || tz == "Local" || strings.EqualFold(tz, "local") {
		return "Indiquez un fuseau horaire, par exemple Europe/Paris."
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return fmt.Sprintf("Fuseau horaire inconnu « %s » : indiquez un nom comme Europe/Paris, America/Cayenne ou Indian/Reunion.", tz)
	}
	return ""
}

// checkEmail is auth.CheckEmail with a clearer message for spaces inside.
func checkEmail(email string, required bool) string {
	if email == "" && !required {
		return ""
	}
	if strings.ContainsFunc(email, func(r rune) bool { return r == ' ' || r == '\t' || r == '\u00a0' }) {
		return "Une adresse e-mail ne contient pas d'espace."
	}
	return auth.CheckEmail(email)
}

func checkText(f apperr.Fields, field, s string, required bool, label string) {
	switch n := utf8.RuneCountInString(s); {
	case n == 0 && required:
		f.Add(field, "Indiquez "+label+".")
	case n > 200:
		f.Add(field, "200 caractères au plus.")
	}
}

// normalise trims the input's fields, lower-cases the emails and defaults
// the time zone.
func (in *Input) normalise() {
	for _, s := range []*string{&in.Slug, &in.Name, &in.CaisseName, &in.Commune, &in.Territory, &in.Timezone} {
		*s = strings.TrimSpace(*s)
	}
	in.Name = auth.CleanName(in.Name)
	in.ContactEmail = auth.NormalizeEmail(in.ContactEmail)
	in.AdminEmail = auth.NormalizeEmail(in.AdminEmail)
	if in.Timezone == "" {
		in.Timezone = "Europe/Paris"
	}
	if in.Start == "" {
		in.Start = StartEmpty
	}
}

// Validate checks every field and returns the French messages by field
// (slug, name, caisse_name, commune, territory, contact_email, timezone,
// hosts, admin_email, start), and the parsed host names.
func (in *Input) Validate() ([]string, apperr.Fields) {
	in.normalise()
	f := apperr.Fields{}
	if msg := CheckSlug(in.Slug); msg != "" {
		f.Add("slug", msg)
	}
	checkText(f, "name", in.Name, true, "le nom du conseil")
	checkText(f, "caisse_name", in.CaisseName, false, "")
	checkText(f, "commune", in.Commune, false, "")
	checkText(f, "territory", in.Territory, false, "")
	if msg := checkEmail(in.ContactEmail, false); msg != "" {
		f.Add("contact_email", msg)
	}
	if msg := CheckTimezone(in.Timezone); msg != "" {
		f.Add("timezone", msg)
	}
	hosts, msg := ParseHosts(in.Hosts)
	if msg != "" {
		f.Add("hosts", msg)
	}
	if msg := checkEmail(in.AdminEmail, true); msg != "" {
		f.Add("admin_email", msg)
	}
	switch in.Start {
	case StartEmpty, StartModel:
	case StartFile:
		if in.File == nil {
			f.Add("file", "Joignez le fichier d'échange (JSON) du conseil d'origine.")
		}
	default:
		f.Add("start", "Choisissez un point de départ : vide, modèle ou fichier.")
	}
	return hosts, f
}

// Result is a created council and its first admin's single-use link token
// (an invitation to the council, to accept on one of its host names).
type Result struct {
	Council     *council.Council
	Hosts       []string
	AdminEmail  string
	InviteToken string
}

// Create validates in and creates the council with its host names and
// starting point in one transaction, then invites its first admin (a
// single-use link, InviteToken). A slug or a host name another council holds
// is refused with a message on its field and nothing is written. The first
// council of an instance becomes its default council (served on any host
// name no council claims).
func Create(ctx context.Context, db *bun.DB, in Input, actor audit.Actor) (*Result, error) {
	hosts, f := in.Validate()
	if err := f.Err(); err != nil {
		return nil, err
	}
	co := &council.Council{Slug: in.Slug, Name: in.Name, CaisseName: in.CaisseName, Territory: in.Territory,
		Commune: in.Commune, ContactEmail: in.ContactEmail, Timezone: in.Timezone}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := council.LockCreation(ctx, tx); err != nil {
			return err
		}
		f := apperr.Fields{}
		taken, err := council.SlugTaken(ctx, tx, in.Slug)
		if err != nil {
			return err
		}
		if taken {
			f.Add("slug", fmt.Sprintf("Un conseil porte déjà l'identifiant « %s » : rien n'a été créé ni modifié. Choisissez-en un autre.", in.Slug))
		}
		if msg, err := hostsTaken(ctx, tx, hosts, 0); err != nil {
			return err
		} else if msg != "" {
			f.Add("hosts", msg)
		}
		if err := f.Err(); err != nil {
			return err
		}
		if err := council.Insert(ctx, tx, co, hosts); err != nil {
			return err
		}
		if err := start(ctx, tx, co, in); err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor.Entry(&co.ID, "council.create", "council", strconv.FormatInt(co.ID, 10),
			fmt.Sprintf("Conseil « %s » créé (départ : %s)", co.Name, in.Start)), nil,
			map[string]any{"slug": co.Slug, "name": co.Name, "hosts": hosts, "start": in.Start})
	})
	if err != nil {
		return nil, err
	}
	council.Invalidate()
	res := &Result{Council: co, Hosts: hosts, AdminEmail: in.AdminEmail}
	// The invitation is the council's own, made by no member of it: an
	// operator has no rights inside, so the link names the operator only in
	// the audit trail's words (auth.CheckLink re-checks a creator's rights).
	by := audit.Actor{Name: actor.Name}
	if by.Name == "" {
		by.Name = "système"
	}
	res.InviteToken, err = auth.Invite(ctx, db, co.ID, by, in.AdminEmail, authz.Admin)
	if err != nil {
		return res, fmt.Errorf("le conseil est créé, mais l'invitation de son administrateur·ice a échoué "+
			"(relancez cla admin create --council %s) : %w", co.Slug, err)
	}
	return res, nil
}

// start fills the new council according to its starting point.
func start(ctx context.Context, tx bun.Tx, co *council.Council, in Input) error {
	switch in.Start {
	case StartModel:
		if err := model.WriteBoussole(ctx, tx, co.ID, today(co.Timezone),
			"Boussole modèle (Dieulefit, 12 critères), reprise à la création du conseil : elle se modifie par décision du conseil."); err != nil {
			return err
		}
		_, err := proposal.CreateInitialRegister(ctx, tx, co.ID, "Adopter le registre initial (modèle : liste de mars 2025)",
			"Adopter comme premier registre du conseil la liste de mars 2025 du Conseil de Dieulefit (familles, catégories et produits, "+
				"avec leurs statuts), à modifier ensuite par décision.", model.RegisterChange(),
			audit.Actor{Name: "Création du conseil"})
		return err
	case StartFile:
		return importFile(ctx, tx, co.ID, in.File)
	}
	return nil
}

// today is the civil date in the council's time zone, at midnight UTC (a
// date column's value).
func today(tz string) time.Time {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	n := time.Now().In(loc)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

// hostsTaken returns a French message naming the first of hosts that a
// council other than except holds, "" when none is.
func hostsTaken(ctx context.Context, db bun.IDB, hosts []string, except int64) (string, error) {
	host, name, err := council.HostTaken(ctx, db, hosts, except)
	if err != nil || host == "" {
		return "", err
	}
	return fmt.Sprintf("Le nom d'hôte « %s » est déjà celui du conseil « %s » : un nom d'hôte ne sert qu'à un conseil.", host, name), nil
}

// Hosts lists the council's host names in order.
func Hosts(ctx context.Context, db bun.IDB, councilID int64) ([]string, error) {
	return council.Hosts(ctx, db, councilID)
}

// SetHosts replaces the council's host names with those of s (ParseHosts),
// refusing names another council holds (field "hosts").
func SetHosts(ctx context.Context, db *bun.DB, councilID int64, s string, actor audit.Actor) error {
	hosts, msg := ParseHosts(s)
	if msg != "" {
		return apperr.Fields{"hosts": msg}.Err()
	}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := council.LockCreation(ctx, tx); err != nil {
			return err
		}
		if msg, err := hostsTaken(ctx, tx, hosts, councilID); err != nil {
			return err
		} else if msg != "" {
			return apperr.Fields{"hosts": msg}.Err()
		}
		before, err := Hosts(ctx, tx, councilID)
		if err != nil {
			return err
		}
		if err := council.ReplaceHosts(ctx, tx, councilID, hosts); err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor.Entry(&councilID, "council.hosts", "council", strconv.FormatInt(councilID, 10),
			"Noms d'hôte : "+strings.Join(hosts, ", ")), map[string]any{"hosts": before}, map[string]any{"hosts": hosts})
	})
	if err == nil {
		council.Invalidate()
	}
	return err
}

// SetState suspends, archives or reactivates a council.
func SetState(ctx context.Context, db *bun.DB, councilID int64, state council.State, actor audit.Actor) error {
	switch state {
	case council.Active, council.Suspended, council.Archived:
	default:
		return apperr.Fields{"state": "Choisissez : actif, suspendu ou archivé."}.Err()
	}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		co, err := council.ForUpdate(ctx, tx, councilID)
		if database.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "Conseil introuvable.")
		}
		if err != nil {
			return err
		}
		before := co.State
		if err := council.SetState(ctx, tx, councilID, state); err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor.Entry(&councilID, "council.state", "council", strconv.FormatInt(councilID, 10),
			fmt.Sprintf("État du conseil : %s → %s", before.Label(), state.Label())),
			map[string]any{"state": before}, map[string]any{"state": state})
	})
	if err == nil {
		council.Invalidate()
	}
	return err
}

// Summary is a council as the operator's list shows it, with its host names.
type Summary = council.WithHosts

// Councils lists every council of the instance with its host names.
func Councils(ctx context.Context, db bun.IDB) ([]Summary, error) {
	return council.ListWithHosts(ctx, db)
}

// InviteMail queues the first admin's invitation mail (internal/mail).
func InviteMail(ctx context.Context, db bun.IDB, co *council.Council, to, link string) error {
	_, err := mail.Enqueue(ctx, db, &mail.Message{From: mail.Address{Name: co.Name}, To: mail.Address{Email: to},
		Subject: "Votre accès d'administration au " + co.Name,
		Text: "Bonjour,\n\nLe conseil « " + co.Name + " » vient d'être créé sur la plateforme cla, et vous en êtes l'administrateur·ice.\n\n" +
			"Ouvrez ce lien à usage unique (valable 7 jours) pour choisir votre nom et votre mot de passe :\n" + link + "\n"})
	return err
}

// maxProblemsShown bounds the problems of a refused exchange file listed next
// to its field; the count of the others follows.
const maxProblemsShown = 30

// importFile fills the new council from another council's exchange file
// (governance/exchange), inside the creation's transaction. A refused file
// becomes a message on the file field listing each problem with its path, so
// the form (or the command) says everything that is wrong at once.
func importFile(ctx context.Context, tx bun.Tx, councilID int64, r io.Reader) error {
	rep, err := exchange.ImportInto(ctx, tx, councilID, r)
	if err == nil || rep == nil || rep.OK() {
		return err
	}
	var b strings.Builder
	b.WriteString("Le fichier d'échange est refusé, rien n'a été créé :")
	for i, p := range rep.Problems {
		if i == maxProblemsShown {
			fmt.Fprintf(&b, "\n… et %s.", text.Count(len(rep.Problems)-maxProblemsShown, "autre problème", "autres problèmes"))
			break
		}
		b.WriteString("\n– ")
		b.WriteString(p.String())
	}
	return apperr.Fields{"file": b.String()}.Err()
}
