package assembly_test

import (
	"context"
	"sync/atomic"
	"testing"

	"cla/governance/assembly"
	"cla/internal/testdb"
)

// BenchmarkCastBallot measures the hot path of a meeting: one cast per
// statement (CastBallot) and concurrent casts through a BallotWriter, each
// replacing a member's ballot in an open online vote (the common case at a
// meeting: members change their minds until the close).
//
//	go test -run '^$' -bench BenchmarkCastBallot -count 5 ./governance/assembly/
func BenchmarkCastBallot(b *testing.B) {
	db := testdb.New(b)
	f := newMeetingFixture(b, db, 50)
	maj := f.openVote(b, f.freeItem(b, "Majorité"), &assembly.Vote{Question: "Adopter ?", Method: assembly.MethodMajority})
	jug := f.openVote(b, f.freeItem(b, "Jugement"), &assembly.Vote{Question: "Quel statut ?", Method: assembly.MethodJudgment,
		Options: []assembly.VoteOption{{Label: "Conventionner"}, {Label: "Sous conditions"}, {Label: "Ne pas conventionner"}}})
	ctx := context.Background()
	choices := []assembly.Choice{assembly.ChoiceFor, assembly.ChoiceAgainst, assembly.ChoiceAbstain}

	b.Run("single", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var err error
			if i%2 == 0 {
				err = assembly.CastBallot(ctx, db, f.councilID, maj.ID, f.members[i%len(f.members)], &assembly.Ballot{Choice: choices[i%3]})
			} else {
				err = assembly.CastBallot(ctx, db, f.councilID, jug.ID, f.members[i%len(f.members)], &assembly.Ballot{Grades: []int16{int16(i%7 + 1), 4, 2}})
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("writer", func(b *testing.B) {
		w := assembly.NewBallotWriter(db)
		var next atomic.Int64
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(next.Add(1))
				err := w.Cast(ctx, f.councilID, maj.ID, f.members[i%len(f.members)], &assembly.Ballot{Choice: choices[i%3]})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
