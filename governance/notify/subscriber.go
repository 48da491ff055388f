package notify

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/council"
	"cla/internal/database"
	"cla/internal/web"
)

// Citizens subscribe to a council's public digest without an account: an
// address, a confirmation mail (double opt-in: a single-use link, valid
// confirmWindow), then a weekly digest of decisions, register changes, new
// debates and the next meeting, with a one-click leave that deletes the
// address. The form answers the same whatever the address's state (no one
// learns who is subscribed); the addresses are shown to the instance's
// operator only.

// Subscriber is a citizen's address on a council's public digest.
type Subscriber struct {
	bun.BaseModel `bun:"table:subscribers"`

	ID           int64      `bun:"id,pk,autoincrement"`
	CouncilID    int64      `bun:"council_id"`
	Email        string     `bun:"email"`
	ConfirmHash  []byte     `bun:"confirm_hash"`
	ConfirmUntil *time.Time `bun:"confirm_until"`
	ConfirmedAt  *time.Time `bun:"confirmed_at"`
	CreatedAt    time.Time  `bun:"created_at,nullzero,default:current_timestamp"`
}

// Limits of the subscription form.
const (
	confirmWindow = 48 * time.Hour
	// SubscribeLimit is how many subscriptions a client address may ask for
	// in subscribeWindow (a robot filling the form is stopped).
	SubscribeLimit  = 10
	subscribeWindow = time.Hour
	// Confirmation mails to one address: at most 3 a day, however many
	// clients ask (nobody floods a stranger's mailbox through the form).
	perAddressLimit  = 3
	perAddressWindow = 24 * time.Hour
)

// subscriberRecipient is the recipient key of a subscriber.
func subscriberRecipient(id int64) string { return subscriberPrefix + itoa(id) }

// NormalizeEmail checks an address typed in the subscription form and
// returns it in lower case; the error is a French message for the field.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	bad := apperr.Fields{"email": "Saisissez une adresse électronique valide, par exemple nom@exemple.fr."}.Err()
	switch {
	case s == "":
		return "", apperr.Fields{"email": "Saisissez votre adresse électronique."}.Err()
	case len(s) > auth.MaxEmailLen:
		return "", apperr.Fields{"email": "Cette adresse est trop longue (254 caractères au plus)."}.Err()
	case strings.ContainsAny(s, "\r\n\t <>\",;:()[]\\"):
		return "", bad
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", bad
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at+1:], ".") || strings.HasSuffix(s, ".") {
		return "", bad
	}
	return strings.ToLower(s), nil
}

func newConfirmToken() (token string, hash []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashConfirm(token)
}

func hashConfirm(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Subscribe asks for a confirmation of email's subscription to councilID's
// public digest, unless clientIP asked too often (TooMany). Whether the
// address is new, pending or confirmed, the caller answers the same: a new
// or pending address gets a (new) confirmation mail, within the per-address
// limit; a confirmed one gets nothing.
func (s *Service) Subscribe(ctx context.Context, councilID int64, email, clientIP string) error {
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	slot, err := auth.TakeSlot(ctx, s.DB, "subscribe:ip:"+clientIP, SubscribeLimit, subscribeWindow)
	if err != nil {
		return err
	}
	if !slot.Taken {
		return apperr.TooManyFor(slot.Wait, "Trop de demandes d'abonnement depuis cette connexion. %s", auth.RetryIn(slot.Wait))
	}
	perAddress, err := auth.TakeSlot(ctx, s.DB, "subscribe:email:"+itoa(councilID)+":"+email, perAddressLimit, perAddressWindow)
	if err != nil {
		return err
	}
	if !perAddress.Taken {
		return nil // the same answer; the address got enough mails today
	}
	co, err := council.ByID(ctx, s.DB, councilID)
	if err != nil {
		return err
	}
	base, err := s.baseURL(ctx, councilID)
	if err != nil {
		return err
	}
	token, hash := newConfirmToken()
	until := s.now().Add(confirmWindow)
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// A new address is inserted pending; a pending one gets a new link
		// (the old one dies); a confirmed one is left as it is.
		var ids []int64
		err := tx.NewRaw(`INSERT INTO subscribers (council_id, email, confirm_hash, confirm_until) VALUES (?, ?, ?, ?)
			ON CONFLICT (council_id, email) DO UPDATE SET confirm_hash = EXCLUDED.confirm_hash, confirm_until = EXCLUDED.confirm_until
			WHERE subscribers.confirmed_at IS NULL
			RETURNING id`, councilID, email, hash, until).Scan(ctx, &ids)
		if err != nil || len(ids) == 0 {
			return err
		}
		c := &content{Council: co.Name, Name: email,
			Subject: "Confirmez votre abonnement au résumé de " + co.Name,
			Lead: []string{"Quelqu'un, vous sans doute, a demandé à recevoir chaque semaine le résumé public de " + co.Name +
				" (décisions, changements du registre, nouveaux débats, prochaine séance) à cette adresse.",
				"Pour confirmer, ouvrez le lien ci-dessous (valable 48 heures, une seule fois).",
				"Si ce n'est pas vous, ignorez ce message : sans confirmation, rien ne vous sera envoyé et l'adresse sera oubliée."},
			Link: base + "/abonnement/confirmer/" + token, LinkLabel: "Confirmer l'abonnement",
			Why: "Vous recevez ce message parce que cette adresse a été saisie dans le formulaire d'abonnement du site."}
		eventKey := "subscribe-" + itoa(ids[0]) + "-" + hex.EncodeToString(hash[:6])
		n, err := c.notification(councilID, subscriberRecipient(ids[0]), email, KindSubscription, eventKey, s.messageHost(base))
		if err != nil {
			return err
		}
		return queueTx(ctx, tx, []*Notification{n})
	})
}

// errConfirmLink answers a confirmation link unknown, used or expired.
var errConfirmLink = apperr.New(apperr.NotFound, "Ce lien de confirmation n'est plus valable : il a déjà servi, ou il a expiré (48 heures). "+
	"Abonnez-vous de nouveau depuis la page d'accueil pour en recevoir un autre.")

// checkConfirm reports whether token is a live confirmation link of councilID.
func checkConfirm(ctx context.Context, db bun.IDB, councilID int64, token string, now time.Time) error {
	if len(token) < 40 || len(token) > 60 {
		return errConfirmLink
	}
	ok, err := db.NewSelect().Model((*Subscriber)(nil)).
		Where("council_id = ? AND confirm_hash = ? AND confirm_until > ?", councilID, hashConfirm(token), now).Exists(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return errConfirmLink
	}
	return nil
}

// Confirm confirms the subscription whose link is token: once (the link
// dies), before it expires.
func Confirm(ctx context.Context, db bun.IDB, councilID int64, token string, now time.Time) error {
	if err := checkConfirm(ctx, db, councilID, token, now); err != nil {
		return err
	}
	res, err := db.NewUpdate().Model((*Subscriber)(nil)).
		Set("confirmed_at = coalesce(confirmed_at, ?)", now).Set("confirm_hash = NULL").Set("confirm_until = NULL").
		Where("council_id = ? AND confirm_hash = ? AND confirm_until > ?", councilID, hashConfirm(token), now).Exec(ctx)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errConfirmLink // used meanwhile
	}
	return nil
}

// liveSubscribers returns the recipient keys of a council's subscribers,
// true for the confirmed ones.
func liveSubscribers(ctx context.Context, db bun.IDB, councilID int64) (map[string]bool, error) {
	var rows []Subscriber
	err := db.NewSelect().Model(&rows).Column("id", "confirmed_at").Where("council_id = ?", councilID).Scan(ctx)
	out := make(map[string]bool, len(rows))
	for _, r := range rows {
		out[subscriberRecipient(r.ID)] = r.ConfirmedAt != nil
	}
	return out, err
}

// deleteSubscriber forgets a subscriber's address (id as in its recipient
// key).
func deleteSubscriber(ctx context.Context, db bun.IDB, councilID int64, id string) error {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil
	}
	_, err = db.NewDelete().Model((*Subscriber)(nil)).Where("council_id = ? AND id = ?", councilID, n).Exec(ctx)
	return err
}

// publicDigests records and queues the week's public digest of every
// confirmed subscriber of a council, when there is something new.
func (s *Service) publicDigests(ctx context.Context, councilID int64, eventKey string) error {
	var subs []Subscriber
	if err := s.DB.NewSelect().Model(&subs).Column("id", "email").
		Where("council_id = ? AND confirmed_at IS NOT NULL", councilID).Order("id").Scan(ctx); err != nil || len(subs) == 0 {
		return err
	}
	now := s.now()
	since, err := s.digestSince(ctx, councilID, KindPublicDigest, eventKey, now)
	if err != nil {
		return err
	}
	nw, err := s.readNews(ctx, councilID, since, now, true)
	if err != nil {
		return err
	}
	versions, err := catalog.Versions(ctx, s.DB, councilID)
	if err != nil {
		return err
	}
	co, err := council.ByID(ctx, s.DB, councilID)
	if err != nil {
		return err
	}
	base, err := s.baseURL(ctx, councilID)
	if err != nil {
		return err
	}
	var list []string
	for _, d := range nw.Decisions {
		list = append(list, "Décision — "+d.Title+" ("+d.Outcome.Label()+") : "+base+d.Path())
	}
	for _, v := range versions {
		if v.CreatedAt.After(since) && len(list) < 3*digestMaxPerList {
			list = append(list, "Registre — version "+strconv.Itoa(v.Number)+" : "+v.Summary+" ("+base+"/registre/versions)")
		}
	}
	for _, d := range nw.Opened {
		list = append(list, "Nouveau débat — "+d.Title+" : "+base+d.Path())
	}
	if len(list) == 0 {
		return nil // nothing new: no mail
	}
	done, err := recipientsOf(ctx, s.DB, councilID, eventKey)
	if err != nil {
		return err
	}
	key, err := web.InstanceSecret(ctx, s.DB, tokenSecretName)
	if err != nil {
		return err
	}
	host := s.messageHost(base)
	var ns []*Notification
	for _, sub := range subs {
		recipient := subscriberRecipient(sub.ID)
		if done[recipient] {
			continue
		}
		c := &content{Council: co.Name, Name: "", List: list,
			Subject: "Les nouvelles de la semaine — " + co.Name, ListTitle: "Depuis le dernier résumé",
			Lead: []string{"Voici ce qui a changé au " + co.Name + " depuis le dernier résumé."},
			Link: base + "/decisions", LinkLabel: "Toutes les décisions",
			Why:         "Vous recevez ce résumé parce que vous vous y êtes abonné·e sur le site (et l'avez confirmé).",
			Unsubscribe: base + "/desabonnement/" + recipientToken(key, councilID, recipient, KindPublicDigest)}
		if nw.Next != nil {
			c.Lead = append(c.Lead, "Prochaine séance : « "+nw.Next.Title+" », le "+frDateTime(nw.Next.StartsAt)+".")
		}
		n, err := c.notification(councilID, recipient, sub.Email, KindPublicDigest, eventKey, host)
		if err != nil {
			return err
		}
		ns = append(ns, n)
	}
	return s.queue(ctx, ns)
}

// SubscriberCount is one council's subscribers, for the operator.
type SubscriberCount struct {
	CouncilID int64  `bun:"council_id"`
	Name      string `bun:"-"`
	Confirmed int    `bun:"confirmed"`
	Pending   int    `bun:"pending"`
}

// SubscriberCounts counts every council's subscribers; one query.
func SubscriberCounts(ctx context.Context, db bun.IDB) ([]SubscriberCount, error) {
	var out []SubscriberCount
	err := db.NewSelect().Model((*Subscriber)(nil)).Column("council_id").
		ColumnExpr("count(confirmed_at)::int AS confirmed, (count(*) - count(confirmed_at))::int AS pending").
		Group("council_id").Order("council_id").Scan(ctx, &out)
	return out, err
}

// SubscribersOf lists a council's subscribers, for the operator only.
func SubscribersOf(ctx context.Context, db bun.IDB, councilID int64) ([]Subscriber, error) {
	var out []Subscriber
	err := db.NewSelect().Model(&out).Column("id", "email", "confirmed_at", "created_at").
		Where("council_id = ?", councilID).Order("email").Limit(10000).Scan(ctx)
	if database.IsNoRows(err) {
		return nil, nil
	}
	return out, err
}
