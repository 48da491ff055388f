package jobs

// QuickStart turns off River's random start-up delays, which only slow tests.
func QuickStart(cfg *Config) { cfg.testOnly = true }
