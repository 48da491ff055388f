package notify

// DigestSweep is the digest sweep job, for tests to run it now.
type DigestSweep = digestSweep
