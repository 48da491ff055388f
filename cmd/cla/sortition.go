package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"cla/governance/sortition/drand"
	"cla/governance/sortition/draw"
)

const sortitionUsage = `Usage: cla sortition verify <draw.json>

Re-runs a published draw from its file (the committed candidate list, the
quotas, the randomness) with the algorithm it committed to, checks the
commitment's SHA-256 and, for drand, the round's signature against the
beacon's public key (no network), then prints the selection, or exactly
where it differs from the published one. "-" reads the file from standard
input. Exit status 1 when anything differs.
`

// runSortition is "cla sortition …": it needs no database.
func runSortition(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, sortitionUsage)
		if len(args) == 0 {
			return errors.New("sous-commande manquante")
		}
		return flag.ErrHelp
	}
	if args[0] != "verify" {
		fmt.Fprint(stdout, sortitionUsage)
		return fmt.Errorf("sous-commande inconnue %q", "sortition "+args[0])
	}
	fs := flag.NewFlagSet("cla sortition verify", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() { fmt.Fprint(stdout, sortitionUsage) }
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("donnez un seul fichier draw.json (voir cla sortition verify --help)")
	}
	var r io.Reader = os.Stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	return sortitionVerify(r, stdout)
}

// sortitionVerify re-runs the draw of the file and reports.
func sortitionVerify(r io.Reader, w io.Writer) error {
	f, err := draw.ReadFile(r)
	if err != nil {
		return err
	}
	got, diffs, err := draw.Verify(f, drand.CheckSource)
	if err != nil {
		for _, d := range diffs {
			fmt.Fprintln(w, "DIFFÉRENCE", d)
		}
		return fmt.Errorf("le tirage ne peut pas être recalculé : %w", err)
	}
	c := f.Commitment
	fmt.Fprintf(w, "Tirage %s (%s) : %d sièges parmi %d volontaires, %s version %d\n",
		c.Draw, c.Council, c.Seats, len(c.Candidates), c.Algorithm, c.AlgorithmVersion)
	fmt.Fprintf(w, "Engagement SHA-256 : %s\n", f.CommitmentSHA256)
	switch c.Source.Kind {
	case draw.SourceDrand:
		chain, _ := drand.ByHash(c.Source.Chain)
		fmt.Fprintf(w, "Hasard : drand %s, tour %d (%s/public/%d)\n", chain.Name, c.Source.Round, chain.URL, c.Source.Round)
	default:
		fmt.Fprintf(w, "Hasard : %q — %s\n", f.Randomness, c.Source.Description)
	}
	fmt.Fprintf(w, "Graine : %s\n", got.Seed)
	fmt.Fprintf(w, "Sièges : %s\n", strings.Join(got.Selected, " "))
	fmt.Fprintf(w, "Suppléance : %s\n", strings.Join(got.Reserve, " "))
	for _, q := range got.Quotas {
		fmt.Fprintf(w, "Quota %s : %s  %d (entre %d et %d)\n", q.Category, q.Value, q.Count, q.Min, q.Max)
	}
	if len(diffs) > 0 {
		for _, d := range diffs {
			fmt.Fprintln(w, "DIFFÉRENCE", d)
		}
		return fmt.Errorf("le fichier publié ne correspond pas au tirage recalculé (%d différence%s)", len(diffs), plural(len(diffs)))
	}
	fmt.Fprintln(w, "OK : le tirage recalculé est identique au tirage publié.")
	return nil
}

func plural(n int) string {
	if n > 1 {
		return "s"
	}
	return ""
}
