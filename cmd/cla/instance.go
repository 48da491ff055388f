package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"cla/governance/instance"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/council"
)

const instanceUsage = `Usage:
  cla operator create --email <adresse> --name <nom> [flags]
      makes the account (created when new) an operator of the instance and
      prints a one-time link to set its password, valid 3 days; then sign in
      at /instance/connexion. Run it again for a new link.
  cla operator remove --email <adresse> [flags]
      takes the operator role away (the account and its memberships stay)
  cla council create --slug <slug> --name <nom> --host <nom d'hôte> --admin-email <adresse>
                     [--caisse <nom court>] [--commune <commune>] [--territory <territoire>]
                     [--contact <adresse>] [--timezone Europe/Paris]
                     [--start empty|model|file] [--file <fichier d'échange>] [flags]
      creates a council (--host may be repeated) and prints its first
      admin's one-time link. A slug already taken changes nothing.

Flags (each also read from the environment variable shown):
`

// runInstance runs "cla operator …" and "cla council …".
func runInstance(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) error {
	var email, name, file string
	var hosts listFlag
	in := instance.Input{}
	sub, cfg, err := parseSubcommand(cmd, args, instanceUsage, stdout, func(sub string, fs *flag.FlagSet) bool {
		switch sub {
		case "operator create":
			fs.StringVar(&email, "email", "", "email address of the operator")
			fs.StringVar(&name, "name", "", "display name (for a new account)")
		case "operator remove":
			fs.StringVar(&email, "email", "", "email address of the operator")
		case "council create":
			fs.StringVar(&in.Slug, "slug", "", "identifier: lower case letters, digits and dashes")
			fs.StringVar(&in.Name, "name", "", "name of the council")
			fs.Var(&hosts, "host", "host name of the council (repeatable)")
			fs.StringVar(&in.AdminEmail, "admin-email", "", "email address of the first admin (gets a one-time link)")
			fs.StringVar(&in.CaisseName, "caisse", "", "short name of the caisse")
			fs.StringVar(&in.Commune, "commune", "", "commune")
			fs.StringVar(&in.Territory, "territory", "", "territory")
			fs.StringVar(&in.ContactEmail, "contact", "", "contact address")
			fs.StringVar(&in.Timezone, "timezone", "Europe/Paris", "time zone")
			fs.StringVar((*string)(&in.Start), "start", string(instance.StartEmpty), "starting point: empty, model or file")
			fs.StringVar(&file, "file", "", "exchange file of another council (with --start file)")
		default:
			return false
		}
		return true
	})
	if err != nil {
		return err
	}
	in.Hosts = strings.Join(hosts, "\n")
	if sub == "council create" {
		// Checked before the database starts: a wrong flag fails fast.
		if in.Start == instance.StartFile && file != "" {
			f, err := os.Open(file)
			if err != nil {
				return fmt.Errorf("--file : %w", err)
			}
			defer f.Close()
			in.File = f
		}
		if _, fields := in.Validate(); len(fields) > 0 {
			return fieldsError(fields)
		}
	}
	m := &Main{Config: *cfg, Logger: newLogger(stderr, cfg.LogLevel), Attach: true}
	defer m.Close()
	if err := m.OpenDatabase(ctx); err != nil {
		return err
	}
	switch sub {
	case "operator create":
		token, err := instance.CreateOperator(ctx, m.DB, email, name)
		if err != nil {
			return err
		}
		base := m.Config.BaseURL
		if base == "" {
			base = "http://" + m.Config.Addr
		}
		fmt.Fprintf(stdout, "Lien à usage unique pour choisir le mot de passe (valable 3 jours) :\n%s/mot-de-passe/%s\n"+
			"Puis connectez-vous sur %s/instance/connexion.\n", base, token, base)
		return nil
	case "operator remove":
		removed, err := instance.RemoveOperator(ctx, m.DB, email)
		if err != nil {
			return errors.New(apperr.MessageOf(err))
		}
		if !removed {
			fmt.Fprintf(stdout, "%s n'était pas opérateur·ice : rien n'a changé.\n", email)
			return nil
		}
		fmt.Fprintf(stdout, "%s n'est plus opérateur·ice de l'instance.\n", email)
		return nil
	}
	res, err := instance.Create(ctx, m.DB, in, audit.Actor{Name: "système (cla council create)"})
	if fields := apperr.FieldsOf(err); fields != nil {
		return fieldsError(fields)
	}
	if res == nil {
		return err
	}
	fmt.Fprintf(stdout, "Conseil créé : %s (%s)%s\n", res.Council.Name, res.Council.Slug, defaultNote(res.Council))
	if err != nil {
		return err
	}
	base := m.Config.BaseURL
	if base == "" {
		base = "http://" + m.Config.Addr
	}
	if len(res.Hosts) > 0 {
		base = instance.LinkBase(base, res.Hosts[0])
	}
	link := base + "/invitation/" + res.InviteToken
	fmt.Fprintf(stdout, "Lien à usage unique de la première personne administratrice (%s, valable 7 jours) :\n%s\n", res.AdminEmail, link)
	if m.Config.SMTPAddr != "" {
		// Sent by the serving instances' job runner (internal/mail).
		if err := instance.InviteMail(ctx, m.DB, res.Council, res.AdminEmail, link); err != nil {
			fmt.Fprintf(stdout, "L'e-mail n'a pas pu être mis en file : %v\n", err)
		} else {
			fmt.Fprintf(stdout, "Le lien part aussi par e-mail à %s.\n", res.AdminEmail)
		}
	}
	return nil
}

func defaultNote(co *council.Council) string {
	if co.IsDefault {
		return ", conseil par défaut de l'instance"
	}
	return ""
}

// fieldsError turns validation messages into one error, a line per field in
// the flags' words.
func fieldsError(f apperr.Fields) error {
	flagOf := map[string]string{"slug": "--slug", "name": "--name", "caisse_name": "--caisse", "commune": "--commune",
		"territory": "--territory", "contact_email": "--contact", "timezone": "--timezone", "hosts": "--host",
		"admin_email": "--admin-email", "start": "--start", "file": "--file"}
	var lines []string
	for _, k := range []string{"slug", "name", "caisse_name", "commune", "territory", "contact_email", "timezone", "hosts", "admin_email", "start", "file"} {
		if msg, ok := f[k]; ok {
			lines = append(lines, flagOf[k]+" : "+msg)
		}
	}
	return errors.New(strings.Join(lines, "\n"))
}
