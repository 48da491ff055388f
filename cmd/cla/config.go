package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"cla/app"
	"cla/governance/lokavaluto"
	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/jobs"
	"cla/internal/mail"
	"cla/internal/odoo"
	"cla/internal/outbound"
	"cla/internal/web"
)

// Config is the whole configuration of a cla process: flags, each with an
// environment variable as its default.
type Config struct {
	Addr           string
	DataDir        string
	DatabaseURL    string
	BaseURL        string
	TrustedProxies []string
	LogLevel       slog.Level
	NoDemo         bool
	// PprofAddr, when set, serves Go's profiler (net/http/pprof) on this
	// address, apart from the app: for measuring (cmd/clabench), never public.
	PprofAddr string

	// NoJobs makes an instance that only serves: it enqueues jobs but runs
	// none (another instance does). Set with --jobs=false.
	NoJobs bool

	// Optional mail (invitations, password links, notifications); off when
	// SMTPAddr is "".
	SMTPAddr     string
	SMTPFrom     string
	SMTPUser     string
	SMTPPassword string // from CLA_SMTP_PASSWORD only, never a flag
	SMTPTLS      mail.TLSMode
	// SMTPTLSConfig, when set (by tests only), replaces the TLS settings of
	// the SMTP connection, to trust a test server's certificate.
	SMTPTLSConfig *tls.Config

	// RequestContext, when set (by tests only), wraps every request's context;
	// see web.Options.RequestContext.
	RequestContext func(context.Context) context.Context

	// WebhooksAllowPrivate lets webhook endpoints be on private networks
	// (an intranet till) and plain http on this machine (tests). Link-local
	// and other reserved addresses stay refused (internal/outbound).
	WebhooksAllowPrivate bool
	// WebhooksRootCAs, when set (by tests only), are the certificates that
	// webhook deliveries trust instead of the system's.
	WebhooksRootCAs *x509.CertPool
	// Odoo is the connection to the payment tool's Odoo (Lokavaluto): URL,
	// database and login from flags or the environment, the API key from
	// CLA_ODOO_API_KEY only (never a flag, never stored). No URL: the
	// connector is off.
	Odoo odoo.Config
	// OdooCategoriesField is the res.partner field that receives the
	// register categories ("" pushes none).
	OdooCategoriesField string
	// OdooAllowPrivate lets the Odoo be on a private network (the
	// intranet), or plain http on this machine (tests).
	OdooAllowPrivate bool
	// JobBackoff, when set (by tests only), replaces the jobs' retry policy
	// (jobs.DefaultBackoff), so that retries come within a second.
	JobBackoff jobs.Backoff
}

// jobPoll is the job runner's poll interval: the default, or a short one
// when tests set JobBackoff.
func (c *Config) jobPoll() time.Duration {
	if c.JobBackoff != (jobs.Backoff{}) {
		return 50 * time.Millisecond
	}
	return 0
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// rawFlags are the flags that finish turns into Config fields.
type rawFlags struct {
	proxies, level, smtpTLS string
	jobs                    bool
}

// bindFlags declares the flags shared by every sub-command on fs.
func (c *Config) bindFlags(fs *flag.FlagSet) *rawFlags {
	raw := &rawFlags{}
	fs.StringVar(&c.Addr, "addr", envOr("CLA_ADDR", "127.0.0.1:8080"), "address to listen on (env CLA_ADDR)")
	fs.StringVar(&c.DataDir, "data", envOr("CLA_DATA", "./data"), "data folder; the private PostgreSQL lives in <data>/postgres (env CLA_DATA)")
	fs.StringVar(&c.DatabaseURL, "database-url", envOr("DATABASE_URL", ""), "PostgreSQL URL; empty starts a private PostgreSQL (env DATABASE_URL)")
	fs.StringVar(&c.BaseURL, "base-url", envOr("CLA_BASE_URL", ""), "public base URL, e.g. https://cla.example.org; https turns on Secure cookies and HSTS (env CLA_BASE_URL)")
	fs.StringVar(&raw.proxies, "trusted-proxies", envOr("CLA_TRUSTED_PROXIES", ""), "comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-* headers are trusted (env CLA_TRUSTED_PROXIES)")
	fs.StringVar(&raw.level, "log-level", envOr("CLA_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env CLA_LOG_LEVEL)")
	noDemo, _ := strconv.ParseBool(envOr("CLA_NO_DEMO", "false"))
	fs.BoolVar(&c.NoDemo, "no-demo", noDemo, "do not load the Dieulefit demo into an empty database (env CLA_NO_DEMO)")
	fs.StringVar(&c.PprofAddr, "pprof-addr", envOr("CLA_PPROF_ADDR", ""), "serve Go's profiler (/debug/pprof/) on this loopback address, e.g. 127.0.0.1:6060; empty: off (env CLA_PPROF_ADDR)")
	jobsOn, _ := strconv.ParseBool(envOr("CLA_JOBS", "true"))
	fs.BoolVar(&raw.jobs, "jobs", jobsOn, "run background jobs (mail, reminders…) on this instance; false: only serve, another instance runs them (env CLA_JOBS)")
	fs.StringVar(&c.SMTPAddr, "smtp-addr", envOr("CLA_SMTP_ADDR", ""), "SMTP server host:port for mail (invitations, password links, notifications); empty: no mail, links are only shown on screen (env CLA_SMTP_ADDR)")
	fs.StringVar(&c.SMTPFrom, "smtp-from", envOr("CLA_SMTP_FROM", ""), "sender address of mails (env CLA_SMTP_FROM)")
	fs.StringVar(&c.SMTPUser, "smtp-user", envOr("CLA_SMTP_USER", ""), "SMTP user name; the password is read from CLA_SMTP_PASSWORD (env CLA_SMTP_USER)")
	fs.StringVar(&raw.smtpTLS, "smtp-tls", envOr("CLA_SMTP_TLS", "auto"), "SMTP encryption: auto (TLS on port 465, STARTTLS required on 587, STARTTLS when offered elsewhere), starttls, tls or none (env CLA_SMTP_TLS)")
	allowPrivate, _ := strconv.ParseBool(envOr("CLA_WEBHOOKS_ALLOW_PRIVATE", "false"))
	fs.BoolVar(&c.WebhooksAllowPrivate, "webhooks-allow-private", allowPrivate, "let webhook endpoints be on private networks, and plain http on this machine (tests); link-local addresses stay refused (env CLA_WEBHOOKS_ALLOW_PRIVATE)")
	fs.StringVar(&c.Odoo.URL, "odoo-url", envOr("CLA_ODOO_URL", ""), "base URL of the payment tool's Odoo (Lokavaluto), e.g. https://monnaie.example.org; empty: the connector is off (env CLA_ODOO_URL)")
	fs.StringVar(&c.Odoo.DB, "odoo-db", envOr("CLA_ODOO_DB", ""), "Odoo database name (env CLA_ODOO_DB)")
	fs.StringVar(&c.Odoo.Login, "odoo-user", envOr("CLA_ODOO_USER", ""), "login of the Odoo user the connector acts as; its API key is read from CLA_ODOO_API_KEY only (env CLA_ODOO_USER)")
	fs.StringVar(&c.OdooCategoriesField, "odoo-categories-field", envOr("CLA_ODOO_CATEGORIES_FIELD", lokavaluto.DefaultCategoriesField), "res.partner text field that receives the register categories; empty: not pushed (env CLA_ODOO_CATEGORIES_FIELD)")
	odooPrivate, _ := strconv.ParseBool(envOr("CLA_ODOO_ALLOW_PRIVATE", "false"))
	fs.BoolVar(&c.OdooAllowPrivate, "odoo-allow-private", odooPrivate, "let the Odoo be on a private network, and plain http on this machine (tests) (env CLA_ODOO_ALLOW_PRIVATE)")
	c.Odoo.APIKey = os.Getenv("CLA_ODOO_API_KEY")
	c.SMTPPassword = os.Getenv("CLA_SMTP_PASSWORD")
	return raw
}

// finish validates the parsed flags; errors are one line for the operator.
func (c *Config) finish(raw *rawFlags) error {
	c.NoJobs = !raw.jobs
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("--addr %q invalide : attendu hôte:port, par exemple 127.0.0.1:8080", c.Addr)
	}
	if c.PprofAddr != "" {
		host, _, err := net.SplitHostPort(c.PprofAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("--pprof-addr %q invalide : attendu une adresse de bouclage, par exemple 127.0.0.1:6060 (le profileur ne doit jamais être public)", c.PprofAddr)
		}
	}
	if strings.TrimSpace(c.DataDir) == "" {
		return errors.New("--data ne peut pas être vide")
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--base-url %q invalide : attendu http(s)://hôte", c.BaseURL)
		}
		c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	}
	c.TrustedProxies = nil
	for _, p := range strings.Split(raw.proxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
	}
	if _, err := web.ParseTrustedProxies(c.TrustedProxies); err != nil {
		return err
	}
	if c.SMTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.SMTPAddr); err != nil {
			return fmt.Errorf("--smtp-addr %q invalide : attendu hôte:port, par exemple smtp.example.org:587", c.SMTPAddr)
		}
		if a, err := netmail.ParseAddress(c.SMTPFrom); err != nil || a.Address != c.SMTPFrom {
			return fmt.Errorf("--smtp-from %q invalide : indiquez l'adresse d'expédition des e-mails", c.SMTPFrom)
		}
	}
	mode, err := mail.ParseTLSMode(raw.smtpTLS)
	if err != nil {
		return fmt.Errorf("--smtp-tls %q invalide : auto, starttls, tls ou none", raw.smtpTLS)
	}
	c.SMTPTLS = mode
	if err := c.LogLevel.UnmarshalText([]byte(raw.level)); err != nil {
		return fmt.Errorf("--log-level %q invalide : debug, info, warn ou error", raw.level)
	}
	if c.Odoo.URL != "" {
		if err := c.Odoo.Validate(c.OdooAllowPrivate); err != nil {
			var msgs []string
			for k, m := range apperr.FieldsOf(err) {
				msgs = append(msgs, "--odoo-"+strings.ReplaceAll(k, "_", "-")+" : "+m)
			}
			sort.Strings(msgs)
			return errors.New("connecteur Odoo : " + strings.Join(msgs, " ; "))
		}
	}
	return nil
}

// OdooConnector is the payment tool's connector of the --odoo-* settings:
// a connector without client when they are not set.
func (c *Config) OdooConnector() *lokavaluto.Connector {
	conn := &lokavaluto.Connector{CategoriesField: c.OdooCategoriesField}
	if c.Odoo.URL != "" {
		conn.Client = odoo.New(c.Odoo, outbound.New(outbound.Options{AllowPrivate: c.OdooAllowPrivate}))
	}
	return conn
}

const usage = `cla — the food council's platform (Conseil Local de l'Alimentation).

Usage:
  cla [serve] [flags]          serve the platform (the default)
  cla migrate status|up|down   show, apply or undo database migrations
  cla demo                     load the Dieulefit demo (idempotent)
  cla demo --scale N [--seed S]   generate a network for load tests (1 = 50 councils, 1M grades…)
  cla operator create|remove --email E [--name N]   the instance's operator (/instance); prints a set-password link
  cla council create --slug S --name N --host H --admin-email E [--start empty|model|file]   create a council
  cla admin create --email E --name N [--council S]   give an account a role in a council; prints a set-password link
  cla audit verify [--head F|URL]   check the audit trail's hash chain, and against published heads

Flags (each also read from the environment variable shown):
`

// parseConfig parses args (without the sub-command) into a Config.
func parseConfig(name string, args []string, out io.Writer) (*Config, []string, error) {
	cfg := &Config{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	raw := cfg.bindFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(out, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if err := cfg.finish(raw); err != nil {
		return nil, nil, err
	}
	return cfg, fs.Args(), nil
}

// App is the part of the configuration the HTTP app reads (app.New); the SMTP
// settings become its mailer.
//
// An SMTP configuration that mail.NewSMTP refuses gives no mailer here:
// Main.Run checks it first (mailSender) and refuses to start with it.
func (c *Config) App() app.Config {
	var mailer auth.Mailer
	if sender, err := mailSender(c); err == nil && sender != nil {
		mailer = mail.Text{Sender: sender}
	}
	return app.Config{BaseURL: c.BaseURL, TrustedProxies: c.TrustedProxies, Mailer: mailer, RequestContext: c.RequestContext,
		WebhooksAllowPrivate: c.WebhooksAllowPrivate, Odoo: c.OdooConnector()}
}
