package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"cla/internal/mail"
	"cla/internal/testdb"
)

func TestConfigFromEnvironmentAndFlags(t *testing.T) {
	t.Setenv("CLA_ADDR", "127.0.0.1:9999")
	t.Setenv("CLA_DATA", "/srv/cla")
	t.Setenv("CLA_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.5")
	t.Setenv("CLA_LOG_LEVEL", "warn")
	t.Setenv("DATABASE_URL", "")
	cfg, rest, err := parseConfig("cla", nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9999" || cfg.DataDir != "/srv/cla" || cfg.LogLevel != slog.LevelWarn || len(rest) != 0 {
		t.Errorf("environment not applied: %+v", cfg)
	}
	if len(cfg.TrustedProxies) != 2 || cfg.TrustedProxies[1] != "192.168.1.5" {
		t.Errorf("trusted proxies: %q", cfg.TrustedProxies)
	}
	if cfg.NoJobs || cfg.SMTPTLS != mail.TLSAuto {
		t.Errorf("defaults: jobs off %v, SMTP TLS %q", cfg.NoJobs, cfg.SMTPTLS)
	}
	t.Setenv("CLA_JOBS", "false")
	t.Setenv("CLA_SMTP_TLS", "starttls")
	if cfg, _, err = parseConfig("cla", nil, &bytes.Buffer{}); err != nil || !cfg.NoJobs || cfg.SMTPTLS != mail.TLSStartTLS {
		t.Errorf("CLA_JOBS=false, CLA_SMTP_TLS=starttls: %+v %v", cfg, err)
	}
	if cfg, _, err = parseConfig("cla", []string{"--jobs=true", "--smtp-tls", "tls"}, &bytes.Buffer{}); err != nil || cfg.NoJobs || cfg.SMTPTLS != mail.TLSImplicit {
		t.Errorf("--jobs=true --smtp-tls tls: %+v %v", cfg, err)
	}
	// Flags win over the environment.
	cfg, _, err = parseConfig("cla", []string{"--addr", "0.0.0.0:80", "--data", "d", "--base-url", "https://cla.example.org/", "--no-demo"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "0.0.0.0:80" || cfg.DataDir != "d" || cfg.BaseURL != "https://cla.example.org" || !cfg.NoDemo {
		t.Errorf("flags not applied: %+v", cfg)
	}
}

func TestConfigRejectsBadValues(t *testing.T) {
	t.Setenv("CLA_ADDR", "")
	for _, args := range [][]string{
		{"--addr", "8080"},
		{"--base-url", "ftp://x"},
		{"--base-url", "cla.example.org"},
		{"--trusted-proxies", "not-an-ip"},
		{"--log-level", "loud"},
		{"--data", " "},
		{"--pprof-addr", "0.0.0.0:6060"}, // the profiler is never public
		{"--pprof-addr", "example.org:6060"},
		{"--pprof-addr", "6060"},
		{"--smtp-tls", "ssl3"},
		{"--smtp-addr", "smtp.example.org", "--smtp-from", "cla@example.org"},
		{"--unknown"},
	} {
		if _, _, err := parseConfig("cla", args, &bytes.Buffer{}); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func TestHelpListsEveryOption(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"--help"}, &out, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	for _, want := range []string{"-addr", "CLA_ADDR", "-data", "CLA_DATA", "DATABASE_URL", "-trusted-proxies", "-base-url", "-log-level", "-no-demo", "-pprof-addr", "-jobs", "CLA_JOBS", "-smtp-tls", "migrate status|up|down"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help does not mention %s", want)
		}
	}
	if err := run(context.Background(), []string{"frobnicate"}, &out, &out); err == nil {
		t.Error("an unknown sub-command was accepted")
	}
}

func TestMigrateSubcommand(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	url := testdb.URL(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "--database-url", url, "status"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "0001_foundation") || strings.Contains(out.String(), "\tpending") || !strings.Contains(out.String(), "river\tschema version") {
		t.Errorf("migrate status on a migrated database:\n%s", out.String())
	}
	if err := run(context.Background(), []string{"migrate", "--database-url", url, "sideways"}, &out, &bytes.Buffer{}); err == nil {
		t.Error("migrate sideways accepted")
	}
}

// The profiler answers on its own loopback listener only when asked for, not on
// the app's address, and stops with the app.
func TestProfilerOnlyWhenConfigured(t *testing.T) {
	t.Parallel()
	m := &Main{Config: Config{Addr: "127.0.0.1:0", DatabaseURL: testdb.URL(t), DataDir: t.TempDir(), PprofAddr: "127.0.0.1:0"}, Logger: quiet}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	resp, err := http.Get(m.PprofURL)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("profiler at %q: %v %v", m.PprofURL, resp, err)
	}
	resp.Body.Close()
	if resp, err := http.Get("http://" + m.Addr() + "/debug/pprof/"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the app's address serves the profiler: %v %v", resp, err)
	}
	url := m.PprofURL
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Fatal("the profiler still answers after Close")
	}
	// Off by default.
	plain := startServer(t)
	if plain.PprofURL != "" || plain.pprof != nil {
		t.Fatalf("profiler started without --pprof-addr: %q", plain.PprofURL)
	}
}

// The payment tool's connector: on only with a URL; the API key comes from
// the environment alone (there is no flag for it); an incomplete setting
// refuses to start.
func TestOdooSettings(t *testing.T) {
	t.Setenv("CLA_ADDR", "")
	t.Setenv("CLA_ODOO_URL", "")
	t.Setenv("CLA_ODOO_API_KEY", "")
	cfg, _, err := parseConfig("cla", nil, &bytes.Buffer{})
	if err != nil || cfg.OdooConnector().Configured() {
		t.Fatalf("no URL: %v, configured %v", err, cfg.OdooConnector().Configured())
	}
	if _, _, err := parseConfig("cla", []string{"--odoo-api-key", "secret"}, &bytes.Buffer{}); err == nil {
		t.Error("an API key flag was accepted: it would show in the process list")
	}
	base := []string{"--odoo-url", "https://monnaie.example.org", "--odoo-db", "lokavaluto", "--odoo-user", "cla"}
	if _, _, err := parseConfig("cla", base, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "clé d'API") {
		t.Errorf("no CLA_ODOO_API_KEY: %v", err)
	}
	if _, _, err := parseConfig("cla", []string{"--odoo-url", "http://10.0.0.5:8069", "--odoo-db", "d", "--odoo-user", "u"}, &bytes.Buffer{}); err == nil {
		t.Error("a private http Odoo was accepted without --odoo-allow-private")
	}
	t.Setenv("CLA_ODOO_API_KEY", "0123456789abcdef")
	cfg, _, err = parseConfig("cla", base, &bytes.Buffer{})
	if err != nil || !cfg.OdooConnector().Configured() || cfg.Odoo.APIKey != "0123456789abcdef" || cfg.OdooCategoriesField != "x_cla_categories" {
		t.Fatalf("complete settings: %v %+v", err, cfg.Odoo.DB)
	}
}
