package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"cla/demo/scalegen"
)

// scaleDemoCommand is `cla demo --scale N [--seed S] [config flags]`: it fills
// the database with a generated network (scalegen.Generate) instead of
// the Dieulefit demo, printing its progress on stderr.
func scaleDemoCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cla demo --scale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scale := fs.Float64("scale", 0, "size of the generated network: 1 = 50 councils, 2,000 items, 500 shops, 5,000 proposals, 1,000,000 grades, 200,000 arguments, 20,000 votes; may be fractional (0.01)")
	seed := fs.Int64("seed", 1, "seed of the generator: the same seed gives the same data")
	// The remaining flags are the usual configuration flags.
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--scale" || a == "-scale" || a == "--seed" || a == "-seed":
			if i+1 < len(args) {
				if err := fs.Parse([]string{a, args[i+1]}); err != nil {
					return err
				}
				i++
			}
		case len(a) > 7 && (a[:8] == "--scale=" || a[:7] == "--seed=" || a[:7] == "-scale=" || a[:6] == "-seed="):
			if err := fs.Parse([]string{a}); err != nil {
				return err
			}
		default:
			rest = append(rest, a)
		}
	}
	if *scale <= 0 || *scale > 20 {
		return fmt.Errorf("--scale %v invalide : attendu un nombre entre 0 (exclu) et 20, par exemple 0.2", *scale)
	}
	cfg, _, err := parseConfig("cla demo", rest, stdout)
	if err != nil {
		return err
	}
	m := &Main{Config: *cfg, Logger: newLogger(stderr, cfg.LogLevel)}
	defer m.Close()
	if err := m.OpenDatabase(ctx); err != nil {
		return err
	}
	z := scalegen.SizesFor(*scale)
	fmt.Fprintf(stderr, "generating scale %v (seed %d): %d councils × (%d members, %d items, %d shops, %d proposals, %d grades, %d arguments in %d debates, %d votes)\n",
		*scale, *seed, z.Councils, z.Members, z.Items, z.Shops, z.Proposals, z.Grades, z.Arguments, z.Debates, z.Votes)
	start := time.Now()
	if _, err := scalegen.Generate(ctx, m.DB, *scale, *seed, stderr); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "scale %v loaded in %s\n", *scale, time.Since(start).Round(100*time.Millisecond))
	return nil
}

// hasScaleFlag reports whether args ask for a generated network.
func hasScaleFlag(args []string) bool {
	for _, a := range args {
		if a == "--scale" || a == "-scale" || (len(a) > 7 && (a[:8] == "--scale=" || a[:7] == "-scale=")) {
			return true
		}
	}
	return false
}
