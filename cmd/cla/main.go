// Command cla serves the food council's platform. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/app"
	"cla/demo"
	"cla/governance/lokavaluto"
	"cla/governance/notify"
	"cla/internal/auth"
	"cla/internal/database"
	"cla/internal/jobs"
	"cla/internal/mail"
	"cla/internal/outbound"
	"cla/internal/pgserver"
	"cla/internal/webhook"
)

func main() {
	tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "cla:", err)
			stop()
			os.Exit(1)
		}
	}
}

// run dispatches the sub-command; it returns when the command is done (for serve:
// after a signal and a clean shutdown).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "admin", "audit":
		return runAdmin(ctx, cmd, args, stdout, stderr)
	case "operator", "council":
		return runInstance(ctx, cmd, args, stdout, stderr)
	case "sortition":
		return runSortition(args, stdout)
	case "demo":
		if hasScaleFlag(args) { // generated network (cmd/cla/scale.go)
			return scaleDemoCommand(ctx, args, stdout, stderr)
		}
	case "serve", "migrate":
	case "help":
		_, _, err := parseConfig("cla", []string{"-h"}, stdout)
		return err
	default:
		return fmt.Errorf("sous-commande inconnue %q (voir cla --help)", cmd)
	}
	cfg, rest, err := parseConfig("cla "+cmd, args, stdout)
	if err != nil {
		return err
	}
	m := &Main{Config: *cfg, Logger: newLogger(stderr, cfg.LogLevel), Attach: cmd != "serve"}
	defer m.Close()
	switch cmd {
	case "migrate":
		return m.migrateCommand(ctx, rest, stdout)
	case "demo":
		if err := m.OpenDatabase(ctx); err != nil {
			return err
		}
		co, err := demo.Load(ctx, m.DB)
		if err == nil {
			fmt.Fprintf(stdout, "demo loaded: %s\n", co.Name)
		}
		return err
	}
	if err := m.Run(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	m.Logger.Info("shutting down")
	return m.Close()
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// tuneGC lets the heap grow to three times its live size between
// collections (GOGC=200 instead of Go's 100), under a soft limit of
// defaultMemoryLimit. cla's live heap is small and its pages allocate a lot:
// with the default, a tenth of a page's CPU went to collecting
// (docs/perf.md). GOGC and GOMEMLIMIT set in the environment win: an instance
// serving many councils, whose live heap nears the limit, raises it there.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

// defaultMemoryLimit is the Go runtime's soft memory limit. Three times the
// live heap is not bounded by itself: each sign-in's argon2id hash allocates
// 19 MiB that is garbage when it returns, and with two hashes live the heap
// goal went past 190 MiB; 32 sign-ins left the process at 170 MiB resident.
// Under 96 MiB (plus ~25 MiB of the binary's mapped code) it stays within the
// 128 MiB target, at the same CPU per request in clabench (docs/perf.md).
const defaultMemoryLimit = 96 << 20

// Main is a running cla: its database (private or external), its HTTP app and
// listener. Tests start one with Run and stop it with Close.
type Main struct {
	Config Config
	Logger *slog.Logger

	PG  *pgserver.Server // nil with an external DATABASE_URL
	DB  *bun.DB
	App *fiber.App
	// Workers are the jobs this instance can run (NewWorkers); Jobs runs
	// them, nil with --jobs=false.
	Workers *jobs.Workers
	Jobs    *jobs.Runner

	// Attach makes a one-shot command use the private PostgreSQL that a
	// running cla serves from the same data folder (pgserver.Options.Attach).
	Attach bool

	listener net.Listener
	served   chan error
	pprof    *http.Server
	// PprofURL is the profiler's base URL when Config.PprofAddr is set.
	PprofURL string
}

// OpenDatabase connects (see connect) and applies pending migrations.
func (m *Main) OpenDatabase(ctx context.Context) error {
	if err := m.connect(ctx); err != nil {
		return err
	}
	n, err := database.Migrate(ctx, m.DB)
	if err != nil {
		return err
	}
	if n > 0 {
		m.Logger.Info("migrations applied", "count", n)
	}
	return nil
}

// connect opens DATABASE_URL, or starts the private PostgreSQL and opens its
// "cla" database (created on first start).
func (m *Main) connect(ctx context.Context) error {
	url := m.Config.DatabaseURL
	if url == "" {
		pg, err := pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(m.Config.DataDir, "postgres"), Logger: m.Logger, Attach: m.Attach})
		if err != nil {
			return err
		}
		m.PG = pg
		admin, err := database.Open(ctx, pg.URL("postgres"))
		if err != nil {
			return err
		}
		err = database.CreateDatabase(ctx, admin.DB, "cla")
		_ = admin.Close()
		if err != nil {
			return fmt.Errorf("créer la base cla : %w", err)
		}
		url = pg.URL("cla")
	}
	db, err := database.Open(ctx, url)
	if err != nil {
		return err
	}
	m.DB = db
	return nil
}

// Run opens the database, loads the demo into an empty database (unless
// --no-demo), builds the app and starts serving in the background.
func (m *Main) Run(ctx context.Context) error {
	// The address first: when it is taken, say so before starting anything.
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return listenError("", "--addr (ou CLA_ADDR)", m.Config.Addr, err)
	}
	m.listener = ln
	if err := m.OpenDatabase(ctx); err != nil {
		return err
	}
	if !m.Config.NoDemo {
		empty, err := noCouncil(ctx, m.DB)
		if err != nil {
			return err
		}
		if empty {
			co, err := demo.Load(ctx, m.DB)
			if err != nil {
				return fmt.Errorf("chargement de la démo : %w", err)
			}
			m.Logger.Info("demo loaded", "council", co.Name)
		}
	}
	if _, err := mailSender(&m.Config); err != nil {
		return err
	}
	a, err := app.New(m.DB, m.Config.App(), m.Logger)
	if err != nil {
		return err
	}
	m.App = a
	if m.Workers, err = NewWorkers(m.DB, &m.Config); err != nil {
		return err
	}
	if !m.Config.NoJobs {
		if m.Jobs, err = jobs.Start(ctx, m.DB, jobs.Config{Workers: m.Workers, Logger: m.Logger,
			Backoff: m.Config.JobBackoff, PollInterval: m.Config.jobPoll()}); err != nil {
			return err
		}
	}
	m.served = make(chan error, 1)
	go func() { m.served <- a.Listener(ln) }()
	m.Logger.Info("cla is serving", "url", "http://"+ln.Addr().String()+"/")
	if m.Config.PprofAddr != "" {
		if err := m.servePprof(); err != nil {
			return err
		}
	}
	return nil
}

// listenError says in one line why an address cannot be listened on, with
// what to do when it is taken (what is "du profileur " or "", flag the
// option that sets the address).
func listenError(what, flag, addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("l'adresse %s%s est déjà utilisée (un autre cla tourne-t-il ?) : arrêtez ce qui l'occupe ou choisissez-en une autre avec %s", what, addr, flag)
	}
	return fmt.Errorf("écoute %ssur %s impossible : %v", what, addr, err)
}

// servePprof serves Go's profiler on its own loopback listener, apart from the
// app's router and middleware (Config.PprofAddr).
func (m *Main) servePprof() error {
	ln, err := net.Listen("tcp", m.Config.PprofAddr)
	if err != nil {
		return listenError("du profileur ", "--pprof-addr", m.Config.PprofAddr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	m.pprof = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = m.pprof.Serve(ln) }()
	m.PprofURL = "http://" + ln.Addr().String() + "/debug/pprof/"
	m.Logger.Info("profiler listening", "url", m.PprofURL)
	return nil
}

// Addr returns the address the app listens on (useful with port 0).
func (m *Main) Addr() string { return m.listener.Addr().String() }

// Close stops accepting requests, lets those in flight finish, lets running
// jobs finish (or hands them back to the queue after jobs.Config.StopTimeout),
// closes the pool and stops the private PostgreSQL. It is safe to call more
// than once.
func (m *Main) Close() error {
	var errs []error
	if m.pprof != nil {
		_ = m.pprof.Close()
		m.pprof = nil
	}
	if m.App != nil {
		if err := m.App.ShutdownWithTimeout(8 * time.Second); err != nil {
			errs = append(errs, err)
		}
		// A Close right after Run can shut the server down before it started
		// serving the listener, which it would then serve for ever: close it.
		// (No listener when Run failed before listening.)
		if m.listener != nil {
			_ = m.listener.Close()
			<-m.served
			m.listener = nil
		}
		m.App = nil
	}
	if m.listener != nil { // Run stopped before serving: the address is freed
		_ = m.listener.Close()
		m.listener = nil
	}
	if m.Jobs != nil {
		if err := m.Jobs.Stop(context.Background()); err != nil {
			errs = append(errs, fmt.Errorf("arrêt des tâches de fond : %w", err))
		}
		m.Jobs = nil
	}
	if m.DB != nil {
		if err := m.DB.Close(); err != nil {
			errs = append(errs, err)
		}
		m.DB = nil
	}
	if m.PG != nil {
		m.PG.Stop()
		m.PG = nil
	}
	return errors.Join(errs...)
}

func noCouncil(ctx context.Context, db bun.IDB) (bool, error) {
	exists, err := db.NewSelect().Table("councils").Exists(ctx)
	return !exists, err
}

// NewWorkers lists the background jobs an instance can run: each domain
// registers its workers and periodic jobs here, beside its routes in NewApp
// (internal/jobs).
func NewWorkers(db *bun.DB, cfg *Config) (*jobs.Workers, error) {
	sender, err := mailSender(cfg)
	if err != nil {
		return nil, err
	}
	ws := jobs.NewWorkers()
	jobs.Register(ws, &mail.Worker{Sender: sender})
	jobs.Register(ws, &auth.ResetWorker{DB: db, Sender: sender})
	auth.RegisterTermSweep(ws, db)
	base := cfg.BaseURL
	if base == "" {
		base = "http://" + cfg.Addr
	}
	notify.Register(ws, &notify.Service{DB: db, Sender: sender, From: cfg.SMTPFrom, BaseURL: base})
	jobs.Register(ws, &webhook.Worker{DB: db, Client: outbound.New(outbound.Options{
		AllowPrivate: cfg.WebhooksAllowPrivate, RootCAs: cfg.WebhooksRootCAs})})
	lokavaluto.Register(ws, db, cfg.OdooConnector())
	return ws, nil
}

// mailSender returns the SMTP sender of the --smtp-* flags, or nil when mail
// is off.
func mailSender(cfg *Config) (mail.Sender, error) {
	if cfg.SMTPAddr == "" {
		return nil, nil
	}
	s, err := mail.NewSMTP(mail.SMTPConfig{Addr: cfg.SMTPAddr, From: cfg.SMTPFrom, Username: cfg.SMTPUser,
		Password: cfg.SMTPPassword, TLS: cfg.SMTPTLS, TLSConfig: cfg.SMTPTLSConfig})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (m *Main) migrateCommand(ctx context.Context, args []string, out io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage : cla migrate status|up|down")
	}
	switch args[0] {
	case "up":
		// OpenDatabase applies pending migrations.
		if err := m.OpenDatabase(ctx); err != nil {
			return err
		}
		fmt.Fprintln(out, "migrations: up to date")
		return nil
	case "status", "down":
	default:
		return fmt.Errorf("usage : cla migrate status|up|down (reçu %q)", args[0])
	}
	if err := m.connect(ctx); err != nil {
		return err
	}
	if args[0] == "down" {
		undone, err := database.Rollback(ctx, m.DB)
		if err != nil {
			return err
		}
		for _, mg := range undone {
			fmt.Fprintf(out, "rolled back %s\n", mg.Name)
		}
		if len(undone) == 0 {
			fmt.Fprintln(out, "nothing to roll back")
		}
		return nil
	}
	all, err := database.Status(ctx, m.DB)
	if err != nil {
		return err
	}
	for _, mg := range all {
		state := "pending"
		if mg.IsApplied() {
			state = "applied " + mg.MigratedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(out, "%s_%s\t%s\n", mg.Name, mg.Comment, state)
	}
	// River's tables (the job queue) follow River's own numbering.
	v, err := database.RiverVersion(ctx, m.DB)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "river\tschema version %d\n", v)
	return nil
}
