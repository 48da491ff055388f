package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// parseSubcommand parses the flags of a one-shot command "cla <cmd> <sub> …"
// (admin, audit, operator, council): the configuration flags every command
// takes, then those define binds for sub (define answers false for an unknown
// sub). Help prints usage; stray arguments are refused.
func parseSubcommand(cmd string, args []string, usage string, stdout io.Writer,
	define func(sub string, fs *flag.FlagSet) bool) (string, *Config, error) {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return "", nil, errors.New("sous-commande manquante")
		}
		return "", nil, flag.ErrHelp
	}
	sub := cmd + " " + args[0]
	cfg := &Config{}
	fs := flag.NewFlagSet("cla "+sub, flag.ContinueOnError)
	fs.SetOutput(stdout)
	raw := cfg.bindFlags(fs)
	if !define(sub, fs) {
		fmt.Fprint(stdout, usage)
		return "", nil, fmt.Errorf("sous-commande inconnue %q", sub)
	}
	fs.Usage = func() {
		fmt.Fprint(stdout, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		return "", nil, err
	}
	if fs.NArg() > 0 {
		return "", nil, fmt.Errorf("argument inattendu %q (voir cla %s --help)", fs.Arg(0), sub)
	}
	if err := cfg.finish(raw); err != nil {
		return "", nil, err
	}
	return sub, cfg, nil
}
