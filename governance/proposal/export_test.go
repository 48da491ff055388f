package proposal

// Unexported names the external tests (package proposal_test) use.

var ErrProposalNotFound = errProposalNotFound
