package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"cla/internal/audit"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/council"
	"cla/internal/text"
)

const adminUsage = `Usage:
  cla admin create --email <adresse> --name <nom> [--council <slug>] [--role admin|facilitator|member] [flags]
      creates the account (or finds it) with that role in the council (the
      only council, or the default one, when --council is omitted) and prints
      a one-time link to set its password, valid 3 days
  cla audit verify [--head <file or URL>]... [--expect-head <id>:<hash>]... [flags]
      recomputes the audit trail's hash chain, reports every broken entry and
      says what to do; with --head, also compares it with heads published at
      /api/v1/audit/head (a saved copy or the URL of another copy), which
      detects deleted last entries. Exits with status 1 when broken.

Flags (each also read from the environment variable shown):
`

// runAdmin runs "cla admin …" and "cla audit …": operator commands that
// work on the database directly.
func runAdmin(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) error {
	var email, name, councilSlug, role string
	var heads, expects listFlag
	sub, cfg, err := parseSubcommand(cmd, args, adminUsage, stdout, func(sub string, fs *flag.FlagSet) bool {
		switch sub {
		case "admin create":
			fs.StringVar(&email, "email", "", "email address of the account")
			fs.StringVar(&name, "name", "", "display name of the account")
			fs.StringVar(&councilSlug, "council", "", "slug of the council (default: the default council)")
			fs.StringVar(&role, "role", string(authz.Admin), "role in that council: admin, facilitator or member")
		case "audit verify":
			fs.Var(&heads, "head", "a document of GET /api/v1/audit/head to compare with: a file or an http(s) URL (repeatable)")
			fs.Var(&expects, "expect-head", "a head to compare with, as <id>:<hex hash> (repeatable)")
		default:
			return false
		}
		return true
	})
	if err != nil {
		return err
	}
	var expected []audit.Expected
	if sub == "audit verify" {
		// Read before the database is opened: a wrong --head fails fast.
		var err error
		if expected, err = loadHeads(ctx, heads, expects); err != nil {
			return err
		}
	}
	m := &Main{Config: *cfg, Logger: newLogger(stderr, cfg.LogLevel), Attach: true}
	defer m.Close()
	if err := m.OpenDatabase(ctx); err != nil {
		return err
	}
	if sub == "audit verify" {
		return auditVerify(ctx, m, expected, stdout)
	}
	link, err := createOperator(ctx, m, email, name, councilSlug, authz.Role(role))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Lien à usage unique pour choisir le mot de passe (valable 3 jours) :\n%s\n", link)
	return nil
}

// createOperator creates (or finds) the account, gives it role in the council
// and returns a one-time link to set its password.
// adminActor is who the audit trail names for what the admin command does.
var adminActor = audit.Actor{Name: "système (cla admin)"}

func createOperator(ctx context.Context, m *Main, email, name, councilSlug string, role authz.Role) (string, error) {
	email = auth.NormalizeEmail(email)
	if msg := auth.CheckEmail(email); msg != "" {
		return "", errors.New("--email : " + msg)
	}
	if !auth.ValidRole(role) {
		return "", fmt.Errorf("--role %q : attendu admin, facilitator ou member", role)
	}
	co, err := pickCouncil(ctx, m, councilSlug)
	if err != nil {
		return "", err
	}
	a, err := auth.AccountByEmail(ctx, m.DB, email)
	if err != nil {
		return "", err
	}
	if a == nil {
		a = &auth.Account{Email: email, Name: auth.CleanName(name)}
		if msg := auth.CheckName(a.Name); msg != "" {
			return "", errors.New("--name : " + msg)
		}
		if err := auth.CreateAccount(ctx, m.DB, a); err != nil {
			return "", err
		}
		if err := audit.Record(ctx, m.DB, adminActor.Entry(&co.ID, "account.create",
			"member", strconv.FormatInt(a.ID, 10), "Compte créé en ligne de commande pour "+a.Name),
			nil, map[string]any{"email": a.Email, "name": a.Name}); err != nil {
			return "", err
		}
	}
	before, err := auth.ActiveRole(ctx, m.DB, co.ID, a.ID)
	if err != nil {
		return "", err
	}
	if before != role {
		if err := auth.SetMembership(ctx, m.DB, co.ID, a.ID, role); err != nil {
			return "", err
		}
		if err := audit.Record(ctx, m.DB, adminActor.Entry(&co.ID, "member.role",
			"member", strconv.FormatInt(a.ID, 10),
			fmt.Sprintf("Rôle %s : %s → %s (ligne de commande)", text.De(a.Name), before.Label(), role.Label())).About(a.Name),
			map[string]any{"role": before}, map[string]any{"role": role}); err != nil {
			return "", err
		}
	}
	token, err := auth.CreatePasswordLink(ctx, m.DB, nil, audit.Actor{Name: "système (cla admin)"}, a.ID)
	if err != nil {
		return "", err
	}
	base := m.Config.BaseURL
	if base == "" {
		base = "http://" + m.Config.Addr
	}
	return base + "/mot-de-passe/" + token, nil
}

// pickCouncil returns the council of slug; without slug, the only council of
// the instance, else the default one. When none fits it says which councils
// exist.
func pickCouncil(ctx context.Context, m *Main, slug string) (*council.Council, error) {
	var all []council.Council
	if err := m.DB.NewSelect().Model(&all).Column("id", "slug", "name", "is_default").Order("slug").Scan(ctx); err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, errors.New("aucun conseil sur cette instance : créez-en un (cla council create --slug … --name … --host … --admin-email …) ou chargez la démo (cla demo)")
	}
	var list []string
	for i := range all {
		c := &all[i]
		if (slug != "" && c.Slug == slug) || (slug == "" && (len(all) == 1 || c.IsDefault)) {
			return council.BySlug(ctx, m.DB, c.Slug)
		}
		list = append(list, c.Slug+" ("+c.Name+")")
	}
	if slug == "" {
		return nil, fmt.Errorf("plusieurs conseils sur cette instance, aucun par défaut : indiquez --council parmi %s", strings.Join(list, ", "))
	}
	return nil, fmt.Errorf("--council %q : aucun conseil ne porte cet identifiant ; conseils existants : %s", slug, strings.Join(list, ", "))
}
