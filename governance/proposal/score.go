package proposal

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"cla/governance/boussole"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/database"
)

// Score is one member's grade of one criterion of a proposal, given against the
// boussole version that criterion belongs to.
type Score struct {
	bun.BaseModel `bun:"table:proposal_scores,alias:sc"`

	ID                int64          `bun:"id,pk,autoincrement"`
	CouncilID         int64          `bun:"council_id"`
	ProposalID        int64          `bun:"proposal_id"`
	AccountID         int64          `bun:"account_id"`
	CriterionID       int64          `bun:"criterion_id"`
	BoussoleVersionID int64          `bun:"boussole_version_id"`
	Grade             boussole.Grade `bun:"grade"`
	Comment           string         `bun:"comment"`
	CreatedAt         time.Time      `bun:"created_at,nullzero,default:current_timestamp"`
	UpdatedAt         time.Time      `bun:"updated_at,nullzero,default:current_timestamp"`

	// Read with the score: the grader's name.
	GraderName string `bun:"grader_name,scanonly"`
}

// ScoreInput is what a member sent for one criterion.
type ScoreInput struct {
	CriterionID int64
	Set         bool           // false: the criterion is left ungraded (an earlier grade is removed)
	Grade       boussole.Grade // meaningful when Set; NoOpinion is "sans avis"
	Comment     string
}

// scoreField names the form fields of a criterion.
func scoreField(criterionID int64) string { return "grade_" + strconv.FormatInt(criterionID, 10) }

// commentField names the comment field of a criterion.
func commentField(criterionID int64) string { return "comment_" + strconv.FormatInt(criterionID, 10) }

// ParseScoreForm reads a scoring form against the boussole b: one grade field
// and one comment field per criterion. A grade outside the scale, a comment too
// long, or a field naming a criterion that is not in b (another boussole version)
// is a field error; the inputs read are returned even then, so the form can be
// shown again as typed.
func ParseScoreForm(b *boussole.Boussole, form map[string]string) ([]ScoreInput, error) {
	f := apperr.Fields{}
	known := map[int64]bool{}
	var out []ScoreInput
	for _, g := range b.Groups {
		for _, c := range g.Criteria {
			known[c.ID] = true
			in := ScoreInput{CriterionID: c.ID, Comment: strings.TrimSpace(form[commentField(c.ID)])}
			if raw := strings.TrimSpace(form[scoreField(c.ID)]); raw != "" {
				gr, ok := boussole.ParseGrade(raw)
				if !ok {
					f.Add(scoreField(c.ID), fmt.Sprintf("« %s » n'est pas une mention de l'échelle : choisissez d'Excellent à À rejeter, ou Sans avis.", raw))
				} else {
					in.Set, in.Grade = true, gr
				}
			}
			if tooLong(in.Comment, maxComment) {
				f.Add(commentField(c.ID), "Le commentaire ne doit pas dépasser 500 caractères.")
			}
			out = append(out, in)
		}
	}
	for k := range form {
		for _, prefix := range []string{"grade_", "comment_"} {
			if id, ok := strings.CutPrefix(k, prefix); ok {
				n, err := strconv.ParseInt(id, 10, 64)
				if err != nil || !known[n] {
					f.Add("boussole", fmt.Sprintf("Le formulaire note un critère qui n'appartient pas à la boussole en vigueur (version %d). Rechargez la page et notez les critères affichés.", b.Version.Number))
				}
			}
		}
	}
	return out, f.Err()
}

// SaveScores records actor's grades of a proposal of the council against the
// boussole in force, replacing their earlier grades, in one transaction. It
// refuses an anonymous actor, a proposal of another council (not found), a
// proposal not open to scoring (frozen once the vote opens), and criteria that
// are not in the boussole in force. Who may score is the route's rule
// (auth.Require(authz.ScoreProposal)), not checked again here.
func SaveScores(ctx context.Context, db *bun.DB, councilID, proposalID int64, actor audit.Actor, inputs []ScoreInput) error {
	if actor.AccountID == 0 {
		return apperr.New(apperr.Unauthorized, "Connectez-vous pour évaluer une proposition.")
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		p := new(Proposal)
		// Locked against a concurrent transition: no grade lands after the vote opens.
		err := tx.NewSelect().Model(p).Column("id", "state", "title").
			Where("id = ? AND council_id = ?", proposalID, councilID).For("SHARE").Scan(ctx)
		if database.IsNoRows(err) {
			return errProposalNotFound
		}
		if err != nil {
			return err
		}
		if !p.State.Scorable() {
			return apperr.New(apperr.Conflict, "Les évaluations de cette proposition sont closes : elle est « %s ». On évalue une proposition ouverte ou inscrite à l'ordre du jour, jusqu'à l'ouverture du vote.", p.State.Label())
		}
		b, err := boussole.CurrentBoussole(ctx, tx, councilID)
		if err != nil {
			return err
		}
		inBoussole := map[int64]bool{}
		for _, g := range b.Groups {
			for _, c := range g.Criteria {
				inBoussole[c.ID] = true
			}
		}
		var upserts []Score
		var cleared []int64
		for _, in := range inputs {
			if !inBoussole[in.CriterionID] {
				return apperr.Fields{"boussole": fmt.Sprintf("Un critère noté n'appartient pas à la boussole en vigueur (version %d).", b.Version.Number)}.Err()
			}
			if in.Set && (in.Grade < boussole.NoOpinion || in.Grade > boussole.Excellent) {
				return apperr.Fields{scoreField(in.CriterionID): "Cette mention n'est pas dans l'échelle."}.Err()
			}
			if tooLong(in.Comment, maxComment) {
				return apperr.Fields{commentField(in.CriterionID): "Le commentaire ne doit pas dépasser 500 caractères."}.Err()
			}
			if !in.Set {
				cleared = append(cleared, in.CriterionID)
				continue
			}
			upserts = append(upserts, Score{CouncilID: councilID, ProposalID: proposalID, AccountID: actor.AccountID,
				CriterionID: in.CriterionID, BoussoleVersionID: b.Version.ID, Grade: in.Grade, Comment: in.Comment})
		}
		if len(upserts) > 0 {
			if _, err := tx.NewInsert().Model(&upserts).ExcludeColumn("created_at", "updated_at").
				On("CONFLICT (proposal_id, account_id, criterion_id) DO UPDATE").
				Set("grade = EXCLUDED.grade, comment = EXCLUDED.comment, boussole_version_id = EXCLUDED.boussole_version_id, updated_at = now()").
				Exec(ctx); err != nil {
				return fmt.Errorf("save scores: %w", err)
			}
		}
		if len(cleared) > 0 {
			if _, err := tx.NewDelete().Model((*Score)(nil)).
				Where("council_id = ? AND proposal_id = ? AND account_id = ?", councilID, proposalID, actor.AccountID).
				Where("criterion_id IN (?)", bun.List(cleared)).Exec(ctx); err != nil {
				return fmt.Errorf("clear scores: %w", err)
			}
		}
		return audit.Record(ctx, tx, actor.Entry(&councilID, "proposal.score", "proposal", strconv.FormatInt(proposalID, 10),
			fmt.Sprintf("%s a évalué la proposition « %s » (%d critères notés)", actor.Name, p.Title, len(upserts))),
			nil, map[string]any{"boussole_version": b.Version.Number, "graded": len(upserts), "cleared": len(cleared)})
	})
}

// ProposalScores reads every score of the council's proposals ids, with the
// graders' names, in one query.
func ProposalScores(ctx context.Context, db bun.IDB, councilID int64, ids ...int64) ([]Score, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := db.QueryContext(ctx, proposalScoresSQL, councilID, pgdialect.Array(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanScores(rows, councilID)
}

// scoresSelect and scoresOrder frame the scores' statements (the bun one
// here, the batch one in page.go), in the order scanScores reads them.
const (
	scoresSelect = `SELECT sc.proposal_id, sc.account_id, sc.criterion_id, sc.boussole_version_id,
		sc.grade, sc.comment, sc.updated_at, a.name
	FROM proposal_scores AS sc JOIN accounts AS a ON a.id = sc.account_id `
	scoresOrder = ` ORDER BY sc.proposal_id, a.name, sc.account_id`
)

// proposalScoresSQL reads the scores of a council's (?) proposals (?, an
// array), with the graders' names, for bun.
const proposalScoresSQL = scoresSelect + `WHERE sc.council_id = ? AND sc.proposal_id = ANY (?::bigint[])` + scoresOrder

// scanScores reads the rows of proposalScoresSQL or proposalScoresBatchSQL. Scanned by hand: a proposal
// graded by the whole council has hundreds of scores, and bun's reflective
// scan was a fifth of its page's time.
func scanScores(rows database.RowScanner, councilID int64) ([]Score, error) {
	var out []Score
	for rows.Next() {
		s := Score{CouncilID: councilID}
		var grade int16 // a plain type: pgx scans it without reflection
		if err := rows.Scan(&s.ProposalID, &s.AccountID, &s.CriterionID, &s.BoussoleVersionID, &grade, &s.Comment, &s.UpdatedAt, &s.GraderName); err != nil {
			return nil, err
		}
		s.Grade = boussole.Grade(grade)
		out = append(out, s)
	}
	return out, rows.Err()
}
