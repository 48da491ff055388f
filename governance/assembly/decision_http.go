package assembly

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"cla/governance/proposal"
	"cla/internal/auth"
	"cla/internal/web"
)

// decisionsView lists the council's decisions.
type decisionsView struct {
	web.Page
	Decisions []Decision
}

func (h *Handlers) decisions(c *fiber.Ctx) error {
	ds, err := Decisions(c.UserContext(), h.DB, web.Council(c).ID, 0)
	if err != nil {
		return err
	}
	return web.Render(c, "governance/decisions", decisionsView{Page: web.NewPage(c, "Décisions du Conseil"), Decisions: ds})
}

// debateLink is a debate a decision's proposal was argued in.
type debateLink struct {
	Slug  string `bun:"slug"`
	Title string `bun:"title"`
}

// decisionView is a decision's page.
type decisionView struct {
	web.Page
	Decision *Decision
	Vote     *Vote
	Proposal *proposal.Proposal
	Debates  []debateLink
	Graders  int
	// Corrections: the decisions this one rectifies and is rectified by,
	// and the facilitator's rectification form (correction_http.go).
	Correction correctionPanel
}

// TallyLine is the vote's result in one sentence.
func (v decisionView) TallyLine() string {
	if v.Vote == nil {
		return ""
	}
	return tallyLine(v.Vote)
}

// Results are the vote's majority-judgment lines.
func (v decisionView) Results() []optionResult {
	if v.Vote == nil {
		return nil
	}
	return voteView{Vote: v.Vote}.Results()
}

func (h *Handlers) decision(c *fiber.Ctx) error {
	view, err := h.decisionView(c)
	if err != nil {
		return err
	}
	return web.Render(c, "governance/decision", view)
}

func (h *Handlers) decisionView(c *fiber.Ctx) (*decisionView, error) {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return nil, err
	}
	ctx, co := c.UserContext(), web.Council(c)
	d, err := getDecision(ctx, h.DB, co.ID, id)
	if err != nil {
		return nil, err
	}
	view := &decisionView{Page: web.NewPage(c, d.Title), Decision: d}
	if d.VoteID != nil {
		if view.Vote, err = GetVote(ctx, h.DB, co.ID, *d.VoteID); err != nil {
			return nil, err
		}
	}
	if d.ProposalID != nil {
		if view.Proposal, err = proposal.GetProposal(ctx, h.DB, co.ID, *d.ProposalID); err != nil {
			return nil, err
		}
		if err := h.DB.NewRaw(`SELECT d.slug, d.title FROM debate_proposals dp JOIN debates d ON d.id = dp.debate_id AND d.council_id = dp.council_id
			WHERE dp.council_id = ? AND dp.proposal_id = ? ORDER BY d.title`, co.ID, *d.ProposalID).Scan(ctx, &view.Debates); err != nil {
			return nil, err
		}
		if err := h.DB.NewSelect().Table("proposal_scores").ColumnExpr("count(DISTINCT account_id)").
			Where("council_id = ? AND proposal_id = ?", co.ID, *d.ProposalID).Scan(ctx, &view.Graders); err != nil {
			return nil, err
		}
	}
	if err := h.fillCorrections(c, view); err != nil {
		return nil, err
	}
	return view, nil
}

func (h *Handlers) decisionsAtom(c *fiber.Ctx) error {
	co := web.Council(c)
	ds, err := Decisions(c.UserContext(), h.DB, co.ID, 50)
	if err != nil {
		return err
	}
	base := auth.PublicURL(c, "")
	feed := &atomFeed{Lang: "fr", ID: "tag:" + co.Slug + ".cla,2024:decisions", Title: "Décisions — " + co.Name,
		Links: []atomLink{{Rel: "self", Type: "application/atom+xml", Href: base + "/decisions.atom"},
			{Rel: "alternate", Type: "text/html", Href: base + "/decisions"}},
		Author: atomPerson{Name: co.Name}, Updated: atomTime(co.CreatedAt)}
	for i, d := range ds {
		if i == 0 || d.CreatedAt.After(latest(feed.Updated)) {
			feed.Updated = atomTime(d.CreatedAt)
		}
		summary := d.Outcome.Label() + " — séance du " + web.FrenchDate(d.MeetingStart)
		if d.RegisterVersion != nil {
			summary += " — registre version " + strconv.Itoa(*d.RegisterVersion)
		}
		feed.Entries = append(feed.Entries, atomEntry{
			ID: "tag:" + co.Slug + ".cla,2024:decision/" + strconv.FormatInt(d.ID, 10), Title: d.Title,
			Updated: atomTime(d.CreatedAt), Published: atomTime(d.DecidedAt),
			Links:   []atomLink{{Rel: "alternate", Type: "text/html", Href: base + d.Path()}},
			Summary: &atomText{Type: "text", Body: summary},
			Content: &atomText{Type: "html", Body: d.MotivationHTML},
		})
	}
	out, err := feed.Marshal()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/atom+xml; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.Send(out)
}

func latest(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

func (h *Handlers) meetingsICS(c *fiber.Ctx) error {
	ctx, co := c.UserContext(), web.Council(c)
	ms, err := Meetings(ctx, h.DB, co.ID)
	if err != nil {
		return err
	}
	var items []AgendaItem
	if err := h.DB.NewSelect().Model(&items).Column("meeting_id", "position", "title").
		Where("council_id = ?", co.ID).Order("meeting_id", "position").Scan(ctx); err != nil {
		return err
	}
	agenda := map[int64][]string{}
	for _, it := range items {
		agenda[it.MeetingID] = append(agenda[it.MeetingID], strconv.Itoa(it.Position)+". "+it.Title)
	}
	host := co.Slug + ".cla"
	events := make([]iCalEvent, 0, len(ms))
	for _, m := range ms {
		desc := "Séance du " + co.Name + "."
		if a := agenda[m.ID]; len(a) > 0 {
			desc += "\nOrdre du jour :\n" + strings.Join(a, "\n")
		}
		if m.Note != "" {
			desc += "\n\n" + m.Note
		}
		events = append(events, iCalEvent{UID: m.UID + "@" + host, Sequence: m.Sequence, Stamp: m.UpdatedAt,
			Start: m.StartsAt, End: m.EndsAt, Summary: m.Title, Location: m.Place, Desc: desc,
			URL: auth.PublicURL(c, MeetingPath(m.ID)), Cancelled: m.State == MeetingCancelled})
	}
	c.Set(fiber.HeaderContentType, "text/calendar; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	c.Set(fiber.HeaderContentDisposition, `inline; filename="seances.ics"`)
	return c.SendString(iCalendar("Séances — "+co.Name, events))
}
