package assembly

import (
	"errors"
	"html/template"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/governance/boussole"
	"cla/governance/proposal"
	"cla/internal/web"
)

// packProposal is one proposal of the printable meeting pack.
type packProposal struct {
	Item      AgendaItem
	Proposal  *proposal.Proposal
	Results   *proposal.Results
	Radar     template.HTML
	Syntheses []packSynthesis
}

// packSynthesis is a debate synthesis printed in the pack.
type packSynthesis struct {
	DebateID      int64  `bun:"debate_id"`
	ProposalID    int64  `bun:"proposal_id"`
	Title         string `bun:"title"`
	SynthesisHTML string `bun:"synthesis_html"`
}

// packView is the convocation and the printable meeting pack.
type packView struct {
	MeetingView
	Proposals []packProposal
	Debates   []packSynthesis // debates on the agenda, with their synthesis
}

func (h *Handlers) convocation(c *fiber.Ctx) error {
	view, err := h.loadMeetingView(c, "")
	if err != nil {
		return err
	}
	view.Title = "Convocation — " + view.Meeting.Title
	return web.Render(c, "governance/meeting_convocation", view)
}

// meetingPack is one printable document: the agenda and, for each proposal, its
// summary, radar, score profile and debate synthesis. A fixed number of queries.
func (h *Handlers) meetingPack(c *fiber.Ctx) error {
	mv, err := h.loadMeetingView(c, "")
	if err != nil {
		return err
	}
	mv.Title = "Dossier de séance — " + mv.Meeting.Title
	ctx, co := c.UserContext(), web.Council(c)
	view := &packView{MeetingView: *mv}
	var pids, dids []int64
	for _, e := range mv.Agenda {
		if e.ProposalID != nil {
			pids = append(pids, *e.ProposalID)
		}
		if e.DebateID != nil {
			dids = append(dids, *e.DebateID)
		}
	}
	var props []proposal.Proposal
	var syntheses []packSynthesis
	var b *boussole.Boussole
	var scores []proposal.Score
	if len(pids) > 0 {
		if err := proposal.SelectProposal(h.DB, &props).Where("p.council_id = ? AND p.id IN (?)", co.ID, bun.List(pids)).Scan(ctx); err != nil {
			return err
		}
		// Without a boussole the pack shows the proposals without results.
		if b, err = boussole.CurrentBoussole(ctx, h.DB, co.ID); err != nil && !errors.Is(err, boussole.ErrNoBoussole) {
			return err
		}
		if scores, err = proposal.ProposalScores(ctx, h.DB, co.ID, pids...); err != nil {
			return err
		}
	}
	if len(pids) > 0 || len(dids) > 0 {
		if err := h.DB.NewRaw(`SELECT d.id AS debate_id, coalesce(dp.proposal_id, 0) AS proposal_id, d.title, d.synthesis_html
			FROM debates d LEFT JOIN debate_proposals dp ON dp.debate_id = d.id AND dp.council_id = d.council_id AND dp.proposal_id IN (?)
			WHERE d.council_id = ? AND (d.id IN (?) OR dp.proposal_id IS NOT NULL)
			ORDER BY d.title`, bun.List(append(pids, 0)), co.ID, bun.List(append(dids, 0))).Scan(ctx, &syntheses); err != nil {
			return err
		}
	}
	for _, e := range mv.Agenda {
		if e.DebateID != nil {
			for _, s := range syntheses {
				if s.DebateID == *e.DebateID {
					view.Debates = append(view.Debates, s)
					break
				}
			}
		}
		if e.ProposalID == nil {
			continue
		}
		pp := packProposal{Item: e.AgendaItem}
		for i := range props {
			if props[i].ID == *e.ProposalID {
				pp.Proposal = &props[i]
			}
		}
		if pp.Proposal == nil {
			continue
		}
		var mine []proposal.Score
		for _, s := range scores {
			if s.ProposalID == pp.Proposal.ID {
				mine = append(mine, s)
			}
		}
		if b != nil {
			pp.Results = proposal.Aggregate(b, mine)
			pp.Radar = boussole.RadarSVG("radar-"+strconv.FormatInt(pp.Proposal.ID, 10), "Boussole de « "+pp.Proposal.Title+" »", boussole.RadarAxesOf(b), []boussole.RadarSeries{{Label: pp.Proposal.Title, Values: pp.Results.Majorities()}}, false)
		}
		for _, s := range syntheses {
			if s.ProposalID == pp.Proposal.ID {
				pp.Syntheses = append(pp.Syntheses, s)
			}
		}
		view.Proposals = append(view.Proposals, pp)
	}
	return web.Render(c, "governance/meeting_pack", view)
}
