package assembly

import "cla/internal/batch"

// Unexported names the external tests (package assembly_test) use.

type CastRequest = castRequest

var Profile = profile

// BatchOf is the writer's batching group, for tests that watch or hold its
// batches.
func BatchOf(w *BallotWriter) *batch.Group[*castRequest, struct{}] { return &w.group }
