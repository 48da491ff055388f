package application

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"golang.org/x/text/unicode/norm"

	"cla/catalog"
	"cla/governance/boussole"
	"cla/governance/notify/event"
	"cla/governance/proposal"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/auth"
	"cla/internal/database"
	"cla/internal/markdown"
	"cla/internal/text"
	"cla/internal/web"
)

// effectiveStateSQL is an application's state as the shop and the council see
// it: once turned into a proposal, the proposal's fate decides (adopted or
// applied: acceptée; rejected: refusée; withdrawn by its author: back to en
// examen, so that it can be proposed again). It needs the proposal joined as p.
// It is written from the state constants (words without quotes), as it is a
// fragment of several statements, not a bind argument.
const effectiveStateSQL = `CASE WHEN a.state = '` + string(AppProposed) + `' AND p.state IN ('` + string(proposal.ProposalAdopted) + `', '` + string(proposal.ProposalApplied) + `') THEN '` + string(AppAccepted) + `'
	WHEN a.state = '` + string(AppProposed) + `' AND p.state = '` + string(proposal.ProposalRejected) + `' THEN '` + string(AppRefused) + `'
	WHEN a.state = '` + string(AppProposed) + `' AND p.state = '` + string(proposal.ProposalWithdrawn) + `' THEN '` + string(AppReview) + `' ELSE a.state END`

func selectApplications(db bun.IDB, dst any) *bun.SelectQuery {
	return db.NewSelect().Model(dst).ColumnExpr("a.*").
		ColumnExpr(effectiveStateSQL + " AS effective_state").
		ColumnExpr("coalesce(p.state, '') AS proposal_state").
		Join("LEFT JOIN proposals AS p ON p.id = a.proposal_id AND p.council_id = a.council_id")
}

// NewApplicationToken returns a random follow-up token (256 bits, URL-safe)
// and the hash that is stored in its place.
func NewApplicationToken() (token string, hash []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashApplicationToken(token)
}

// hashApplicationToken is the stored form of a follow-up token.
func hashApplicationToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Application rate limits: submissions per client address, in PostgreSQL (the
// counters of internal/auth) so that every instance sees them.
const (
	ApplyLimit  = 5
	applyWindow = time.Hour
)

// applyRateKey names the counter of applications sent from one address.
func applyRateKey(ip string) string { return "application:ip:" + ip }

// Attempts (valid or not, honeypot included) per client address: a robot
// posting invalid forms in a loop is stopped too.
const (
	AttemptLimit  = 30
	attemptWindow = 10 * time.Minute
)

// countApplyAttempt takes one slot of the attempts limit of clientIP, before
// the form is looked at, and returns a TooMany error beyond AttemptLimit in
// AttemptWindow.
func countApplyAttempt(ctx context.Context, db bun.IDB, clientIP string) error {
	slot, err := auth.TakeSlot(ctx, db, "application-attempt:ip:"+clientIP, AttemptLimit, attemptWindow)
	if err != nil {
		return err
	}
	if !slot.Taken {
		return errApplyTooMany(slot.Wait)
	}
	return nil
}

// errApplyTooMany answers submissions beyond the rate limits, saying when to
// try again.
func errApplyTooMany(wait time.Duration) error {
	return apperr.TooManyFor(wait, "Trop de candidatures envoyées depuis cette connexion en peu de temps. %s Vous pouvez aussi écrire au Conseil.", auth.RetryIn(wait))
}

// categoryOption is a register category a shop may say it sells.
type categoryOption = catalog.CategoryOption

// applicationCategories lists the register's categories under their family,
// in register order.
func applicationCategories(ctx context.Context, db bun.IDB, councilID int64) ([]categoryOption, error) {
	return catalog.CategoryOptions(ctx, db, councilID)
}

// categoryNames are the names of the categories a ticked, in the order it
// ticked them (unknown slugs skipped).
func categoryNames(a *Application, opts []categoryOption) []string {
	names := make(map[string]string, len(opts))
	for _, o := range opts {
		names[o.Slug] = o.Name
	}
	var out []string
	for _, s := range a.Categories {
		if n := names[s]; n != "" {
			out = append(out, n)
		}
	}
	return out
}

func knownCategories(opts []categoryOption) map[string]bool {
	m := make(map[string]bool, len(opts))
	for _, o := range opts {
		m[o.Slug] = true
	}
	return m
}

// SubmitApplication validates a and saves it as a new application accepting
// the council's current charter, unless clientIP sent too many lately or a
// pending application already exists for the same SIRET or the same name and
// commune. It returns the follow-up token, which is not stored.
func SubmitApplication(ctx context.Context, db *bun.DB, a *Application, clientIP string) (string, error) {
	cats, err := applicationCategories(ctx, db, a.CouncilID)
	if err != nil {
		return "", err
	}
	if err := a.Validate(knownCategories(cats)); err != nil {
		return "", err
	}
	charter, err := CurrentCharter(ctx, db, a.CouncilID)
	if err != nil {
		return "", err
	}
	// The slot is taken once the form is valid (a typo costs nothing) and
	// before anything is written; a submission refused after all (a
	// duplicate) gives it back.
	key := applyRateKey(clientIP)
	slot, err := auth.TakeSlot(ctx, db, key, ApplyLimit, applyWindow)
	if err != nil {
		return "", err
	}
	if !slot.Taken {
		return "", errApplyTooMany(slot.Wait)
	}
	token, hash := NewApplicationToken()
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?, ?)", applicationLockKey, a.CouncilID); err != nil {
			return err
		}
		if err := checkDuplicate(ctx, tx, a); err != nil {
			return err
		}
		a.TokenHash, a.State = hash, AppNew
		a.CharterID, a.CharterVersion, a.CharterAcceptedAt = charter.ID, charter.Version, time.Now()
		if _, err := tx.NewInsert().Model(a).ExcludeColumn("created_at", "updated_at").
			Returning("id, created_at").Exec(ctx); err != nil {
			return fmt.Errorf("insert application: %w", err)
		}
		// The receipt, with the follow-up link, is mailed by governance/notify.
		if err := event.Enqueue(ctx, tx, event.ApplicationReceived{CouncilID: a.CouncilID, ApplicationID: a.ID, Link: "/candidature/" + token}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Actor{Name: a.ContactName}.Entry(&a.CouncilID, "application.submit",
			"shop_application", fmt.Sprint(a.ID),
			fmt.Sprintf("Candidature de « %s » (%s) reçue, charte v%d acceptée", a.ShopName, a.Commune, a.CharterVersion)),
			nil, map[string]any{"shop_name": a.ShopName, "commune": a.Commune, "siret": a.SIRET, "charter_version": a.CharterVersion})
	})
	if err != nil {
		if gerr := auth.GiveBack(ctx, db, key, slot); gerr != nil {
			return "", errors.Join(err, gerr)
		}
		return "", err
	}
	return token, nil
}

// maxReason bounds the reasons of a refusal given to the shop.
const maxReason = 2000

// applicationLockKey serialises submissions per council, so that two
// simultaneous submissions of one shop cannot both pass the duplicate check.
const applicationLockKey = 0x61707073 // "apps"

// checkDuplicate refuses a second pending application for the same SIRET, or
// the same name and commune compared folded (NameKey: case, accents,
// punctuation, "St" for "Saint"), within the council. The council's pending
// applications are few: they are compared here, in Go, with the same fold.
func checkDuplicate(ctx context.Context, db bun.IDB, a *Application) error {
	var rows []struct {
		ID       int64  `bun:"id"`
		SIRET    string `bun:"siret"`
		ShopName string `bun:"shop_name"`
		Commune  string `bun:"commune"`
	}
	err := db.NewSelect().TableExpr("shop_applications AS a").
		Join("LEFT JOIN proposals AS p ON p.id = a.proposal_id AND p.council_id = a.council_id").
		ColumnExpr("a.id, a.siret, a.shop_name, a.commune").
		Where("a.council_id = ? AND a.id <> ?", a.CouncilID, a.ID).
		Where("("+effectiveStateSQL+") NOT IN (?)", bun.List([]ApplicationState{AppAccepted, AppRefused})).
		Scan(ctx, &rows)
	if err != nil {
		return err
	}
	name, commune := NameKey(a.ShopName), NameKey(a.Commune)
	f := apperr.Fields{}
	for _, r := range rows {
		sameSIRET := a.SIRET != "" && r.SIRET == a.SIRET
		if !sameSIRET && (NameKey(r.ShopName) != name || NameKey(r.Commune) != commune) {
			continue
		}
		if sameSIRET {
			f.Add("siret", "Une candidature pour ce SIRET est déjà en cours d'examen : suivez-la avec le lien reçu lors de son envoi (ou écrivez au Conseil si vous l'avez perdu).")
		} else {
			f.Add("shop_name", "Une candidature au même nom dans la même commune est déjà en cours d'examen : suivez-la avec le lien reçu lors de son envoi (ou écrivez au Conseil si vous l'avez perdu).")
		}
	}
	return f.Err()
}

var errApplicationNotFound = apperr.New(apperr.NotFound, "Cette candidature n'existe pas, ou ce lien de suivi n'est pas valide. Vérifiez que vous avez copié le lien en entier.")

// applicationByToken loads the council's application whose follow-up token is
// token. Another council's application, or a wrong token, is not found.
func applicationByToken(ctx context.Context, db bun.IDB, councilID int64, token string) (*Application, error) {
	if len(token) < 22 || len(token) > 100 {
		return nil, errApplicationNotFound
	}
	a := new(Application)
	err := selectApplications(db, a).Where("a.council_id = ? AND a.token_hash = ?", councilID, hashApplicationToken(token)).Scan(ctx)
	if database.IsNoRows(err) {
		return nil, errApplicationNotFound
	}
	return a, err
}

// GetApplication loads one of the council's applications by id.
func GetApplication(ctx context.Context, db bun.IDB, councilID, id int64) (*Application, error) {
	a := new(Application)
	err := selectApplications(db, a).Where("a.council_id = ? AND a.id = ?", councilID, id).Scan(ctx)
	if database.IsNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Cette candidature n'existe pas dans ce Conseil.")
	}
	return a, err
}

// ListApplications lists the council's applications in state (every state when
// ""), newest first, in one query.
func ListApplications(ctx context.Context, db bun.IDB, councilID int64, state ApplicationState) ([]Application, error) {
	var out []Application
	q := selectApplications(db, &out).Where("a.council_id = ?", councilID)
	if state != "" {
		q = q.Where("("+effectiveStateSQL+") = ?", state)
	}
	err := q.Order("a.created_at DESC", "a.id DESC").Limit(500).Scan(ctx)
	return out, err
}

// applicationCounts counts the council's applications per effective state.
func applicationCounts(ctx context.Context, db bun.IDB, councilID int64) (map[ApplicationState]int, error) {
	var rows []struct {
		State ApplicationState `bun:"state"`
		N     int              `bun:"n"`
	}
	err := db.NewSelect().TableExpr("shop_applications AS a").
		Join("LEFT JOIN proposals AS p ON p.id = a.proposal_id AND p.council_id = a.council_id").
		ColumnExpr("("+effectiveStateSQL+") AS state, count(*) AS n").
		Where("a.council_id = ?", councilID).GroupExpr("1").Scan(ctx, &rows)
	m := map[ApplicationState]int{}
	for _, r := range rows {
		m[r.State] = r.N
	}
	return m, err
}

// applicationMessages is the conversation of an application, oldest first;
// internal comments only when withComments.
func applicationMessages(ctx context.Context, db bun.IDB, councilID, applicationID int64, withComments bool) ([]ApplicationMessage, error) {
	var out []ApplicationMessage
	q := db.NewSelect().Model(&out).Column("id", "kind", "body", "author_name", "created_at").
		Where("council_id = ? AND application_id = ?", councilID, applicationID)
	if !withComments {
		q = q.Where("kind <> ?", msgComment)
	}
	err := q.Order("id").Scan(ctx)
	return out, err
}

// AddApplicationMessage appends a message to an application's conversation.
// A question may also ask the shop to complete its application (state
// à compléter). An answer from the shop is refused once the application is
// decided.
func AddApplicationMessage(ctx context.Context, db *bun.DB, a *Application, m *ApplicationMessage, actor audit.Actor, askToComplete bool) error {
	if err := validateMessage(&m.Body); err != nil {
		return err
	}
	if m.Kind == MsgAnswer && !a.Effective.Pending() {
		return apperr.New(apperr.Conflict, "Cette candidature est close : vous ne pouvez plus y répondre.")
	}
	m.CouncilID, m.ApplicationID = a.CouncilID, a.ID
	if m.Kind == MsgAnswer {
		m.AuthorName = a.ContactName
	} else {
		m.AuthorName = actor.Name
		if actor.AccountID != 0 {
			id := actor.AccountID
			m.AuthorID = &id
		}
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(m).ExcludeColumn("created_at").Returning("id, created_at").Exec(ctx); err != nil {
			return fmt.Errorf("insert application message: %w", err)
		}
		if m.Kind == MsgQuestion && askToComplete {
			if err := setApplicationState(ctx, tx, a, appIncomplete); err != nil {
				return err
			}
		} else if m.Kind == MsgQuestion && a.State == AppNew {
			// A question means the council has started its review.
			if err := setApplicationState(ctx, tx, a, AppReview); err != nil {
				return err
			}
		}
		if m.Kind == MsgAnswer {
			return nil // the shop's own words are the record
		}
		if m.Kind == MsgQuestion {
			if err := event.Enqueue(ctx, tx, event.ApplicationQuestion{CouncilID: a.CouncilID, ApplicationID: a.ID, MessageID: m.ID}); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, actor.Entry(&a.CouncilID, "application."+m.Kind, "shop_application", strconv.FormatInt(a.ID, 10), fmt.Sprintf("Candidature de « %s » : %s", a.ShopName, map[string]string{MsgQuestion: "question posée", msgComment: "commentaire interne"}[m.Kind])),
			nil, nil)
	})
}

// applicationMoves lists the states a facilitator may set by hand, from each
// state. Proposee is reached by turning the application into a proposal, and
// acceptee or refusee after it by the council's decision.
var applicationMoves = map[ApplicationState][]ApplicationState{
	AppNew:        {AppReview, appIncomplete, AppRefused},
	AppReview:     {appIncomplete, AppRefused},
	appIncomplete: {AppReview, AppRefused},
}

// ApplicationMoves returns the states a facilitator may move a to by hand.
func ApplicationMoves(a *Application) []ApplicationState {
	if a.Effective != a.State && !(a.State == AppProposed && a.Effective == AppReview) {
		return nil
	}
	return applicationMoves[a.Effective]
}

// SetApplicationState moves a to state to by hand (see ApplicationMoves). A
// refusal needs its reason, which the shop reads on its follow-up page and
// in the mail it is sent (an Invalid error on the field "reason"
// otherwise); other moves ignore it.
func SetApplicationState(ctx context.Context, db *bun.DB, a *Application, to ApplicationState, actor audit.Actor, reason string) error {
	ok := false
	for _, s := range ApplicationMoves(a) {
		ok = ok || s == to
	}
	if !ok {
		return apperr.New(apperr.Conflict, "Cette candidature est « %s » : elle ne peut pas passer à « %s ».", a.Effective.Label(), to.Label())
	}
	reason = strings.TrimSpace(reason)
	if to == AppRefused {
		switch n := utf8.RuneCountInString(reason); {
		case n == 0:
			return apperr.Fields{"reason": "Donnez la raison du refus : le point de vente la lira sur sa page de suivi."}.Err()
		case n > maxReason:
			return apperr.Fields{"reason": fmt.Sprintf("La raison fait %d caractères : %d au plus.", n, maxReason)}.Err()
		}
	} else {
		reason = ""
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		from := a.State
		a.RefusalReason = reason
		if err := setApplicationState(ctx, tx, a, to); err != nil {
			return err
		}
		after := map[string]any{"state": to}
		if to == AppRefused {
			after["refusal_reason"] = reason
			if err := event.Enqueue(ctx, tx, event.ApplicationRefused{CouncilID: a.CouncilID, ApplicationID: a.ID, Reason: reason}); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, actor.Entry(&a.CouncilID, "application.state", "shop_application", strconv.FormatInt(a.ID, 10), fmt.Sprintf("Candidature de « %s » : %s → %s", a.ShopName, from.Label(), to.Label())),
			map[string]any{"state": from}, after)
	})
}

func setApplicationState(ctx context.Context, db bun.IDB, a *Application, to ApplicationState) error {
	a.State, a.Effective, a.UpdatedAt = to, to, time.Now()
	_, err := db.NewUpdate().Model(a).Column("state", "refusal_reason", "updated_at").
		Where("id = ? AND council_id = ?", a.ID, a.CouncilID).Exec(ctx)
	return err
}

// completeApplication replaces the shop's answers with upd while the council
// asked it to complete them, and puts the application back under review.
// The charter stays the one accepted first unless the shop accepts it again.
func completeApplication(ctx context.Context, db *bun.DB, a *Application, upd *Application) error {
	if a.Effective != appIncomplete {
		return apperr.New(apperr.Conflict, "Cette candidature n'est pas « à compléter » : elle ne peut plus être modifiée.")
	}
	cats, err := applicationCategories(ctx, db, a.CouncilID)
	if err != nil {
		return err
	}
	upd.CharterAccepted = true // accepted when the application was sent
	if err := upd.Validate(knownCategories(cats)); err != nil {
		return err
	}
	upd.ID, upd.CouncilID = a.ID, a.CouncilID
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?, ?)", applicationLockKey, a.CouncilID); err != nil {
			return err
		}
		if err := checkDuplicate(ctx, tx, upd); err != nil {
			return err
		}
		upd.State, upd.UpdatedAt = AppReview, time.Now()
		if _, err := tx.NewUpdate().Model(upd).
			Column("shop_name", "kind", "siret", "address", "commune", "contact_name", "email", "phone", "website",
				"network", "categories", "local_share", "organic_share", "seasonality", "message", "state", "updated_at").
			Where("id = ? AND council_id = ?", a.ID, a.CouncilID).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Actor{Name: upd.ContactName}.Entry(&a.CouncilID, "application.complete",
			"shop_application", fmt.Sprint(a.ID),
			fmt.Sprintf("Candidature de « %s » complétée par le point de vente", upd.ShopName)), nil, nil)
	})
}

// AdhesionDraft is the prefilled point-de-vente proposal an application turns into.
type AdhesionDraft struct {
	Title     string
	Outcome   string
	Rationale string
}

// DraftProposal prefills the adhesion proposal of an application.
func DraftProposal(a *Application, categoryNames map[string]string) AdhesionDraft {
	var b strings.Builder
	fmt.Fprintf(&b, "Candidature reçue le %s via le formulaire « Devenir point de vente ».\n\n", web.FrenchDate(a.CreatedAt))
	fmt.Fprintf(&b, "- **Type** : %s\n", a.Kind.Label())
	fmt.Fprintf(&b, "- **Commune** : %s\n", a.Commune)
	if a.Network == "" {
		b.WriteString("- **Indépendant** (ni réseau ni franchise)\n")
	} else {
		fmt.Fprintf(&b, "- **Réseau ou franchise** : %s\n", a.Network)
	}
	names := make([]string, 0, len(a.Categories))
	for _, c := range a.Categories {
		if n := categoryNames[c]; n != "" {
			names = append(names, n)
		} else {
			names = append(names, c)
		}
	}
	fmt.Fprintf(&b, "- **Catégories vendues** : %s\n", strings.Join(names, ", "))
	fmt.Fprintf(&b, "- **Part de produits locaux** : %s\n", strings.ToLower(shareLabel(a.LocalShare)))
	fmt.Fprintf(&b, "- **Part de produits bio** : %s\n", strings.ToLower(shareLabel(a.OrganicShare)))
	if a.Seasonality != "" {
		fmt.Fprintf(&b, "- **Saisonnalité** : %s\n", strings.ReplaceAll(a.Seasonality, "\n", " "))
	}
	fmt.Fprintf(&b, "- **Charte d'engagement** : version %d acceptée le %s\n", a.CharterVersion, web.FrenchDate(a.CharterAcceptedAt))
	if a.Message != "" {
		b.WriteString("\nMessage du point de vente :\n\n> ")
		b.WriteString(strings.ReplaceAll(a.Message, "\n", "\n> "))
		b.WriteString("\n")
	}
	title := "Adhésion " + text.De(a.ShopName) + " (" + a.Commune + ")"
	if r := []rune(title); len(r) > proposal.MaxTitle {
		title = string(r[:proposal.MaxTitle])
	}
	return AdhesionDraft{
		Title:     title,
		Outcome:   "Conventionner « " + a.ShopName + " » (" + a.Commune + ") comme point de vente de la caisse, pour la durée d'une convention.",
		Rationale: b.String(),
	}
}

// ProposeApplication turns a into a point-de-vente adhesion proposal written by
// actor from draft: it creates the shop as a candidat in the register (with the
// categories it sells) unless it exists, the proposal as a draft targeting it,
// and moves the application to proposée — in one transaction.
func ProposeApplication(ctx context.Context, db *bun.DB, a *Application, draft AdhesionDraft, actor audit.Actor) (*proposal.Proposal, error) {
	if a.Effective != AppNew && a.Effective != AppReview && a.Effective != appIncomplete {
		return nil, apperr.New(apperr.Conflict, "Cette candidature est « %s » : elle ne peut plus devenir une proposition.", a.Effective.Label())
	}
	p := &proposal.Proposal{CouncilID: a.CouncilID, Kind: proposal.ProposalShopAdhesion, State: proposal.ProposalDraft, Title: draft.Title,
		Outcome: draft.Outcome, RationaleMD: strings.TrimSpace(draft.Rationale), AuthorID: &actor.AccountID, AuthorName: actor.Name}
	// Checked with a placeholder target; the shop is created below.
	placeholder := int64(0)
	p.TargetShopID = &placeholder
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p.RationaleHTML = markdown.ToHTML(p.RationaleMD)
	if ok, err := boussole.BoussoleExists(ctx, db, a.CouncilID); err != nil {
		return nil, err
	} else if !ok {
		return nil, apperr.New(apperr.Conflict, "%s", proposal.ErrNoBoussoleYet)
	}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Lock the application: a double click makes one proposal.
		var state ApplicationState
		if err := tx.NewSelect().TableExpr("shop_applications AS a").
			Join("LEFT JOIN proposals AS p ON p.id = a.proposal_id AND p.council_id = a.council_id").
			ColumnExpr(effectiveStateSQL).
			Where("a.id = ? AND a.council_id = ?", a.ID, a.CouncilID).For("UPDATE OF a").Scan(ctx, &state); err != nil {
			return err
		}
		if state == AppProposed || !state.Pending() {
			return apperr.New(apperr.Conflict, "Cette candidature a déjà été traitée.")
		}
		shopID, err := candidateShop(ctx, tx, a)
		if err != nil {
			return err
		}
		p.TargetShopID = &shopID
		if err := proposal.InsertProposal(ctx, tx, p, actor); err != nil {
			return err
		}
		a.ProposalID, a.ShopID, a.State, a.UpdatedAt = &p.ID, &shopID, AppProposed, time.Now()
		if _, err := tx.NewUpdate().Model(a).Column("proposal_id", "shop_id", "state", "updated_at").
			Where("id = ? AND council_id = ?", a.ID, a.CouncilID).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor.Entry(&a.CouncilID, "application.propose", "shop_application", strconv.FormatInt(a.ID, 10), fmt.Sprintf("Candidature de « %s » transformée en proposition n° %d", a.ShopName, p.ID)), nil,
			map[string]any{"proposal_id": p.ID, "shop_id": shopID})
	})
	if err != nil {
		return nil, err
	}
	a.Effective = AppProposed
	return p, nil
}

// candidateShop returns the shop the application names — the one created by a
// previous application of the same shop, else a new point de vente with status
// candidat and the categories it sells. A candidate is not a register change
// (no version); the public pages are told through catalog.Touch.
func candidateShop(ctx context.Context, tx bun.Tx, a *Application) (int64, error) {
	if a.ShopID != nil {
		return *a.ShopID, nil
	}
	base := catalog.Slug(a.ShopName + " " + a.Commune)
	if len(base) > 100 {
		base = strings.TrimRight(base[:100], "-")
	}
	slug, err := catalog.FreeShopSlug(ctx, tx, a.CouncilID, base)
	if err != nil {
		return 0, err
	}
	shop := &catalog.Shop{CouncilID: a.CouncilID, Slug: slug, Name: a.ShopName, Kind: a.Kind, Address: a.Address,
		Commune: a.Commune, Status: catalog.ShopCandidat, Website: a.Website, Network: a.Network}
	if err := shop.Validate(); err != nil {
		return 0, err
	}
	if _, err := tx.NewInsert().Model(shop).ExcludeColumn("created_at", "updated_at").Returning("id").Exec(ctx); err != nil {
		return 0, fmt.Errorf("insert candidate shop: %w", err)
	}
	if err := catalog.AddShopCategories(ctx, tx, a.CouncilID, shop.ID, a.Categories); err != nil {
		return 0, err
	}
	if err := audit.Record(ctx, tx, audit.Actor{}.Entry(&a.CouncilID, "shop.candidate", "shop",
		fmt.Sprint(shop.ID), fmt.Sprintf("Point de vente candidat « %s » (%s)", shop.Name, shop.Commune)),
		nil, map[string]any{"slug": shop.Slug, "status": shop.Status}); err != nil {
		return 0, err
	}
	return shop.ID, catalog.Touch(ctx, tx, a.CouncilID)
}

// NameKey folds a shop or commune name for comparison: lower case, without
// accents or ligatures, punctuation as spaces, "St"/"Ste" as "saint"/"sainte":
// "ÉPICERIE LE PANIER DRÔMOIS" and "épicerie le panier drômois" meet, and
// so do "St-Paul-Trois-Châteaux" and "Saint Paul trois chateaux".
func NameKey(s string) string {
	s = strings.NewReplacer("œ", "oe", "Œ", "oe", "æ", "ae", "Æ", "ae").Replace(s)
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
	}
	words := strings.Fields(b.String())
	for i, w := range words {
		switch w {
		case "st":
			words[i] = "saint"
		case "ste":
			words[i] = "sainte"
		}
	}
	return strings.Join(words, " ")
}
