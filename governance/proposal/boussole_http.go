package proposal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/governance/boussole"
	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/web"
)

// boussoleFormView is the form of a proposal of kind boussole: the whole
// proposed list of criteria, starting from the version in force.
type boussoleFormView struct {
	web.Page
	Proposal *Proposal
	Current  int // the number of the version in force (0 for none)
	Form     boussole.CriteriaForm
	Errors   apperr.Fields // the proposal's own fields (title, rationale, sources)
}

func (h *Handlers) boussoleProposalForm(c *fiber.Ctx) error {
	b, err := boussole.CurrentBoussole(c.UserContext(), h.DB, web.Council(c).ID)
	var spec []boussole.CriterionSpec
	current := 0
	switch {
	case errors.Is(err, boussole.ErrNoBoussole):
	case err != nil:
		return err
	default:
		spec, current = boussole.SpecOf(b), b.Version.Number
	}
	return web.Render(c, "governance/proposal_boussole_form", boussoleFormView{Page: web.NewPage(c, "Proposer une nouvelle boussole"),
		Proposal: &Proposal{}, Current: current, Form: boussole.NewCriteriaForm(spec)})
}

func (h *Handlers) createBoussoleProposal(c *fiber.Ctx) error {
	if err := auth.Authorize(c, authz.CreateProposal); err != nil {
		return err
	}
	co := web.Council(c)
	get := func(k string) string { return web.Form(c, k) }
	p := &Proposal{CouncilID: co.ID, Kind: ProposalBoussole, Title: get("title"), RationaleMD: get("rationale"), Sources: get("sources")}
	current, err := currentBoussoleNumber(c.UserContext(), h.DB, co.ID)
	if err != nil {
		return err
	}
	spec, form, formErr := boussole.ParseCriteriaForm(get)
	fields := apperr.Fields{}
	if formErr == nil {
		p.BoussolePayload = spec
		if current == 0 {
			p.Outcome = fmt.Sprintf("Adopter la première boussole du conseil (%d critères).", len(spec))
		} else {
			p.Outcome = fmt.Sprintf("Adopter la boussole proposée (%d critères), qui remplace la version %d.", len(spec), current)
		}
		path, err := web.CreateOnce(c, h.DB, func(ctx context.Context, tx bun.Tx) (string, error) {
			if err := CreateProposal(ctx, tx, p, auth.ActorOf(web.ViewerOf(c))); err != nil {
				return "", err
			}
			return "/propositions/" + strconv.FormatInt(p.ID, 10), nil
		})
		if fields = apperr.FieldsOf(err); fields == nil {
			if err != nil {
				return err
			}
			return web.RedirectWithFlash(c, path, "Brouillon enregistré. Ouvrez-le à l'évaluation quand il est prêt.")
		}
	} else {
		// The proposal's own fields are checked too, so every problem shows at once.
		p.Outcome = "—"
		if err := p.Validate(); err != nil {
			fields = apperr.FieldsOf(err)
		}
	}
	// Criteria problems found by Validate ("criteria.N.field") are already in form.
	for k := range fields {
		if strings.HasPrefix(k, "criteria.") {
			delete(fields, k)
		}
	}
	c.Status(fiber.StatusUnprocessableEntity)
	return web.Render(c, "governance/proposal_boussole_form", boussoleFormView{Page: web.NewPage(c, "Proposer une nouvelle boussole"),
		Proposal: p, Current: current, Form: form, Errors: fields})
}

// currentBoussoleNumber is the number of the council's boussole in force (0 for none).
func currentBoussoleNumber(ctx context.Context, db bun.IDB, councilID int64) (int, error) {
	vs, err := boussole.Versions(ctx, db, councilID)
	if err != nil || len(vs) == 0 {
		return 0, err
	}
	return vs[0].Number, nil
}
