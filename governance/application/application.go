// Package application holds the shops' applications to become points de
// vente (the public form, the private follow-up link, the council's review,
// the proposal it turns into), the charter of commitment, the renewals of
// conventions and the export for the payment tool, with their pages.
package application

import (
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/governance/proposal"
	"cla/internal/apperr"
	"cla/internal/siret"
)

// ApplicationState is where a shop's application stands.
type ApplicationState string

// The states of an application. Proposee becomes acceptee or refusee with the
// council's decision on the proposal it turned into (see effectiveStateSQL).
const (
	AppNew        ApplicationState = "nouvelle"
	AppReview     ApplicationState = "en_examen"
	appIncomplete ApplicationState = "a_completer"
	AppProposed   ApplicationState = "proposee"
	AppAccepted   ApplicationState = "acceptee"
	AppRefused    ApplicationState = "refusee"
)

// applicationStates lists the states in the order the council's list shows them.
var applicationStates = []ApplicationState{AppNew, AppReview, appIncomplete, AppProposed, AppAccepted, AppRefused}

// Label is the state in French.
func (s ApplicationState) Label() string {
	switch s {
	case AppNew:
		return "Nouvelle"
	case AppReview:
		return "En examen"
	case appIncomplete:
		return "À compléter"
	case AppProposed:
		return "Proposée au vote"
	case AppAccepted:
		return "Acceptée"
	case AppRefused:
		return "Refusée"
	}
	return "État inconnu"
}

// Explain tells the shop, in French, what the state means for it.
func (s ApplicationState) Explain() string {
	switch s {
	case AppNew:
		return "Votre candidature est bien arrivée. Le Conseil va l'examiner."
	case AppReview:
		return "Le Conseil examine votre candidature. Il peut vous poser des questions ici."
	case appIncomplete:
		return "Le Conseil vous demande de compléter votre candidature : lisez ses questions, répondez et corrigez le formulaire ci-dessous."
	case AppProposed:
		return "Votre candidature est devenue une proposition soumise au vote du Conseil, lors d'une prochaine séance."
	case AppAccepted:
		return "Le Conseil a accepté votre candidature : vous êtes point de vente conventionné."
	case AppRefused:
		return "Le Conseil n'a pas retenu votre candidature."
	}
	return ""
}

// Pending reports whether the application still awaits a decision.
func (s ApplicationState) Pending() bool { return s != AppAccepted && s != AppRefused }

// Valid reports whether s is a known state.
func (s ApplicationState) Valid() bool {
	for _, x := range applicationStates {
		if x == s {
			return true
		}
	}
	return false
}

// Application is a shop's request to become a point de vente.
type Application struct {
	bun.BaseModel `bun:"table:shop_applications,alias:a"`

	ID                int64            `bun:"id,pk,autoincrement"`
	CouncilID         int64            `bun:"council_id"`
	TokenHash         []byte           `bun:"token_hash"`
	State             ApplicationState `bun:"state"`
	ShopName          string           `bun:"shop_name"`
	Kind              catalog.ShopKind `bun:"kind"`
	SIRET             string           `bun:"siret"`
	Address           string           `bun:"address"`
	Commune           string           `bun:"commune"`
	ContactName       string           `bun:"contact_name"`
	Email             string           `bun:"email"`
	Phone             string           `bun:"phone"`
	Website           string           `bun:"website"`
	Network           string           `bun:"network"`
	Categories        []string         `bun:"categories,array"`
	LocalShare        int              `bun:"local_share"`
	OrganicShare      int              `bun:"organic_share"`
	Seasonality       string           `bun:"seasonality"`
	Message           string           `bun:"message"`
	CharterID         int64            `bun:"charter_id"`
	CharterVersion    int              `bun:"charter_version"`
	CharterAcceptedAt time.Time        `bun:"charter_accepted_at"`
	DuplicateOf       *int64           `bun:"duplicate_of"`
	// RefusalReason is why the council refused the application by hand,
	// which the shop reads on its follow-up page.
	RefusalReason string    `bun:"refusal_reason"`
	ProposalID    *int64    `bun:"proposal_id"`
	ShopID        *int64    `bun:"shop_id"`
	DemoKey       *string   `bun:"demo_key"`
	CreatedAt     time.Time `bun:"created_at,nullzero,default:current_timestamp"`
	UpdatedAt     time.Time `bun:"updated_at,nullzero,default:current_timestamp"`

	// Read with the application: its state after the council's decision, and
	// the proposal's state.
	Effective     ApplicationState       `bun:"effective_state,scanonly"`
	ProposalState proposal.ProposalState `bun:"proposal_state,scanonly"`
	// CharterAccepted is the form's checkbox; the acceptance itself is stored
	// as CharterVersion and CharterAcceptedAt.
	CharterAccepted bool `bun:"-"`
	// InNetwork is the form's answer "part of a network or franchise".
	InNetwork bool `bun:"-"`
}

// Field limits, the schema's as well.
const (
	maxAppName        = 200
	maxAppAddress     = 300
	maxAppCommune     = 120
	maxAppPhone       = 30
	maxAppURL         = 300
	maxAppSeasonality = 2000
	maxAppMessage     = 5000
	maxAppCategories  = 40
)

// shares are the rough shares of local (or organic) produce a form offers.
var shares = []share{{0, "Aucune ou presque"}, {25, "Environ un quart"}, {50, "Environ la moitié"},
	{75, "Environ les trois quarts"}, {100, "Tout ou presque"}}

// share is one choice of rough share.
type share struct {
	Percent int
	Label   string
}

// shareLabel is the French label of a share.
func shareLabel(p int) string {
	for _, s := range shares {
		if s.Percent == p {
			return s.Label
		}
	}
	return ""
}

// LocalShareLabel is the rough share of local produce, in French.
func (a *Application) LocalShareLabel() string { return shareLabel(a.LocalShare) }

// OrganicShareLabel is the rough share of organic produce, in French.
func (a *Application) OrganicShareLabel() string { return shareLabel(a.OrganicShare) }

// siretOptional reports whether a kind of point de vente may apply without a
// SIRET: market stalls and farms selling directly.
func siretOptional(k catalog.ShopKind) bool { return k == "marche" || k == "producteur" }

// ValidSIRET reports whether s is 14 digits with a valid checksum (see
// internal/siret, which every SIRET field uses).
func ValidSIRET(s string) bool { return siret.Valid(s) }

// normalizeSIRET drops the spaces, dots and dashes people type in a SIRET.
func normalizeSIRET(s string) string { return siret.Normalize(s) }

// validEmail accepts a plain address (no display name), with a dot in its domain.
func validEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " <>\"") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	dom := s[at+1:]
	return at > 0 && strings.Contains(dom, ".") && !strings.HasPrefix(dom, ".") && !strings.HasSuffix(dom, ".")
}

// validPhone accepts French or international numbers: 10 to 15 digits, with
// spaces, dots, dashes, parentheses and a leading +.
func validPhone(s string) bool {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ', r == '.', r == '-', r == '(', r == ')':
		default:
			return false
		}
	}
	return digits >= 10 && digits <= 15
}

// validURL accepts an absolute http(s) address with a host.
func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && !strings.ContainsAny(s, " \t\n<>\"")
}

// Validate trims and checks every field of the application; the schema checks
// the same limits again. known lists the register categories a shop may pick
// (slug → true); nil skips that check.
func (a *Application) Validate(known map[string]bool) error {
	f := apperr.Fields{}
	for _, s := range []*string{&a.ShopName, &a.Address, &a.Commune, &a.ContactName, &a.Email, &a.Phone,
		&a.Website, &a.Network, &a.Seasonality, &a.Message} {
		*s = strings.TrimSpace(strings.ToValidUTF8(*s, ""))
	}
	a.SIRET = normalizeSIRET(strings.TrimSpace(a.SIRET))
	a.Email = strings.ToLower(a.Email)
	text := func(field, value string, min, max int, what string) {
		switch n := utf8.RuneCountInString(value); {
		case n < min && min > 0:
			f.Add(field, what+" est obligatoire.")
		case n > max:
			f.Add(field, what+" ne doit pas dépasser "+strconv.Itoa(max)+" caractères (actuellement "+strconv.Itoa(n)+").")
		}
	}
	text("shop_name", a.ShopName, 1, maxAppName, "Le nom du point de vente")
	if !a.Kind.Valid() {
		f.Add("kind", "Choisissez le type de point de vente.")
	}
	switch {
	case a.SIRET == "" && a.Kind.Valid() && !siretOptional(a.Kind):
		f.Add("siret", "Le SIRET est obligatoire (il est facultatif pour les marchés et les producteurs en vente directe).")
	case a.SIRET == "":
	case len(a.SIRET) != 14 || strings.Trim(a.SIRET, "0123456789") != "":
		f.Add("siret", "Un SIRET compte exactement 14 chiffres.")
	case !ValidSIRET(a.SIRET):
		f.Add("siret", "Ce SIRET n'est pas valide (la clé de contrôle ne correspond pas) : vérifiez les 14 chiffres.")
	}
	text("address", a.Address, 0, maxAppAddress, "L'adresse")
	text("commune", a.Commune, 1, maxAppCommune, "La commune")
	text("contact_name", a.ContactName, 1, maxAppName, "Le nom de la personne à contacter")
	if a.Email == "" {
		f.Add("email", "L'adresse électronique est obligatoire.")
	} else if !validEmail(a.Email) {
		f.Add("email", "Cette adresse électronique n'est pas valide (exemple : nom@exemple.fr).")
	}
	if a.Phone != "" && (utf8.RuneCountInString(a.Phone) > maxAppPhone || !validPhone(a.Phone)) {
		f.Add("phone", "Ce numéro de téléphone n'est pas valide (exemple : 04 75 00 00 00).")
	}
	if a.Website != "" && (len(a.Website) > maxAppURL || !validURL(a.Website)) {
		f.Add("website", "L'adresse du site doit commencer par https:// (300 caractères au plus).")
	}
	if a.InNetwork {
		if a.Network == "" {
			f.Add("network", "Indiquez le réseau ou la franchise dont vous faites partie.")
		}
		text("network", a.Network, 0, maxAppName, "Le nom du réseau ou de l'enseigne")
	}
	seen := map[string]bool{}
	cats := a.Categories[:0:0]
	for _, c := range a.Categories {
		c = strings.TrimSpace(c)
		if c == "" || seen[c] {
			continue
		}
		seen[c] = true
		if known != nil && !known[c] {
			f.Add("categories", "Une des catégories choisies n'existe pas dans le registre.")
			continue
		}
		cats = append(cats, c)
	}
	a.Categories = cats
	if len(a.Categories) == 0 {
		f.Add("categories", "Cochez au moins une catégorie de produits que vous vendez.")
	} else if len(a.Categories) > maxAppCategories {
		f.Add("categories", "Trop de catégories cochées.")
	}
	if shareLabel(a.LocalShare) == "" {
		f.Add("local_share", "Indiquez la part approximative de produits locaux.")
	}
	if shareLabel(a.OrganicShare) == "" {
		f.Add("organic_share", "Indiquez la part approximative de produits bio.")
	}
	text("seasonality", a.Seasonality, 0, maxAppSeasonality, "La saisonnalité")
	text("message", a.Message, 0, maxAppMessage, "Le message")
	if !a.CharterAccepted {
		f.Add("charter", "Pour candidater, lisez la charte d'engagement et cochez la case qui l'accepte.")
	}
	if len(f) > 0 {
		return f.Err() // everything typed is kept for the form
	}
	if !a.InNetwork {
		a.Network = "" // independent: a name typed before choosing is dropped
	}
	return nil
}

// ApplicationMessage is one line of the conversation around an application:
// a question from the council, an answer from the shop, or an internal comment
// that the shop never sees.
type ApplicationMessage struct {
	bun.BaseModel `bun:"table:application_messages,alias:m"`

	ID            int64     `bun:"id,pk,autoincrement"`
	CouncilID     int64     `bun:"council_id"`
	ApplicationID int64     `bun:"application_id"`
	Kind          string    `bun:"kind"` // MsgQuestion, MsgAnswer or MsgComment
	Body          string    `bun:"body"`
	AuthorID      *int64    `bun:"author_id"`
	AuthorName    string    `bun:"author_name"`
	CreatedAt     time.Time `bun:"created_at,nullzero,default:current_timestamp"`
}

// The kinds of application message.
const (
	MsgQuestion = "question"    // from the council to the shop
	MsgAnswer   = "reponse"     // from the shop
	msgComment  = "commentaire" // internal to the council
)

// validateMessage trims a message body and checks its length.
func validateMessage(body *string) error {
	*body = strings.TrimSpace(strings.ToValidUTF8(*body, ""))
	switch n := utf8.RuneCountInString(*body); {
	case n == 0:
		return apperr.Fields{"body": "Le message est vide."}.Err()
	case n > maxAppMessage:
		return apperr.Fields{"body": "Le message ne doit pas dépasser 5000 caractères (actuellement " + strconv.Itoa(n) + ")."}.Err()
	}
	return nil
}
