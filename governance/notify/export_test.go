package notify

// DigestSweep is the digest sweep job, for tests to run it now.
type DigestSweep = digestSweep

// RenewalSweep is the renewal sweep job, for tests to run it now.
type RenewalSweep = renewalSweep
