// Package pgserver runs a private PostgreSQL cluster from the machine's binaries.
//
// It exists so that `cla` and its tests need no database setup: the cluster lives
// in a folder of ours, listens only on a short Unix socket folder, and is stopped
// when we stop (and killed by the kernel if we die first).
package pgserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver used to probe readiness
)

// ErrNoBinaries is returned when neither PATH nor /usr/lib/postgresql holds initdb and postgres.
var ErrNoBinaries = errors.New("PostgreSQL introuvable : installez-le (Debian : apt-get install postgresql) ou définissez DATABASE_URL pour utiliser une base existante")

// Options configure a private cluster.
type Options struct {
	// Dir is the cluster folder (created and initialised on first start).
	Dir string
	// Fast trades durability for speed (initdb --no-sync, fsync=off). Tests only:
	// a served instance must never lose committed data.
	Fast bool
	// Logger receives start/stop messages; nil means slog.Default().
	Logger *slog.Logger
	// Attach lets a one-shot command (cla audit verify, cla council create…)
	// use the cluster that a running cla already serves from Dir, through
	// its socket, instead of failing on PostgreSQL's lock file. The returned
	// Server then does not stop that cluster.
	Attach bool
}

// Server is a running private PostgreSQL.
type Server struct {
	dir       string
	socketDir string
	binDir    string
	cmd       *exec.Cmd
	exited    chan struct{}
	logFile   *os.File
	cred      *syscall.Credential
	log       *slog.Logger
}

// User is the superuser name created by initdb.
const User = "cla"

// Start initialises the cluster if needed and starts postgres as a child process.
func Start(ctx context.Context, opts Options) (*Server, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	binDir, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, binDir: binDir, log: log, exited: make(chan struct{})}

	// PostgreSQL refuses to run as root: run it as the postgres system user.
	if os.Geteuid() == 0 {
		cred, err := postgresCredential()
		if err != nil {
			return nil, err
		}
		s.cred = cred
	}
	if opts.Attach {
		if socketDir, ok := runningSocketDir(dir); ok {
			s.socketDir = socketDir
			if err := s.ping(ctx); err == nil {
				log.Info("using the private PostgreSQL already running", "dir", dir, "socket", socketDir)
				return s, nil
			}
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dossier PostgreSQL %s : %w", dir, err)
	}
	if s.cred != nil {
		if err := makeReachable(dir, s.cred); err != nil {
			return nil, err
		}
	}
	// A socket path must stay under ~100 bytes, so the socket lives in a short
	// temporary folder rather than inside the (possibly deep) data folder.
	s.socketDir, err = os.MkdirTemp("", "clapg")
	if err != nil {
		return nil, err
	}
	if s.cred != nil {
		if err := os.Chown(s.socketDir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return nil, err
		}
	}

	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := s.initdb(ctx, opts.Fast); err != nil {
			_ = os.RemoveAll(s.socketDir)
			return nil, err
		}
	}
	if err := s.start(ctx, opts.Fast); err != nil {
		_ = os.RemoveAll(s.socketDir)
		return nil, err
	}
	return s, nil
}

// runningSocketDir reads the lock file of a cluster that is running (its
// postmaster.pid names a live process) and returns its socket folder.
func runningSocketDir(dir string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return "", false
	}
	// Line 1 is the PID, line 5 the first socket folder (PostgreSQL's
	// documented lock file layout).
	lines := strings.Split(string(b), "\n")
	if len(lines) < 5 {
		return "", false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 0 {
		return "", false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return "", false // a lock file left by a cluster that died
	}
	socketDir := strings.TrimSpace(lines[4])
	return socketDir, socketDir != ""
}

// FindBinaries returns the folder holding initdb and postgres: PATH first, then the
// newest /usr/lib/postgresql/*/bin.
func FindBinaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func postgresCredential() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New("lancé en root, cla démarre PostgreSQL sous l'utilisateur système « postgres », qui n'existe pas : installez PostgreSQL (apt-get install postgresql) ou définissez DATABASE_URL")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// makeReachable gives the cluster folder to the postgres user and lets it traverse
// the parent folders (execute bit only: it can reach the folder, not list others).
func makeReachable(dir string, cred *syscall.Credential) error {
	if err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(cred.Uid), int(cred.Gid))
	}); err != nil {
		return fmt.Errorf("donner %s à l'utilisateur postgres : %w", dir, err)
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(p, fi.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("rendre %s traversable par postgres : %w", p, err)
			}
		}
		if p == "/" || p == "." {
			return nil
		}
	}
}

func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.binDir, name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "TZ=UTC")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	return cmd
}

func (s *Server) initdb(ctx context.Context, fast bool) error {
	args := []string{"-D", s.dir, "--username=" + User, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"}
	if fast {
		args = append(args, "--no-sync")
	}
	s.log.Info("initialising private PostgreSQL", "dir", s.dir)
	out, err := s.command(ctx, "initdb", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb a échoué : %v : %s", err, lastLine(out))
	}
	return nil
}

func (s *Server) start(ctx context.Context, fast bool) error {
	args := []string{"-D", s.dir,
		"-c", "listen_addresses=",
		"-c", "unix_socket_directories=" + s.socketDir,
		"-c", "max_connections=200",
		"-c", "shared_buffers=128MB",
	}
	if fast {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	logPath := filepath.Join(s.dir, "cla-postgres.log")
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	s.logFile = lf
	if s.cred != nil {
		_ = lf.Chown(int(s.cred.Uid), int(s.cred.Gid))
	}
	// Not CommandContext: the server must outlive the start-up context.
	cmd := exec.Command(filepath.Join(s.binDir, "postgres"), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "TZ=UTC")
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: s.cred,
		// Own process group: a terminal's Ctrl-C reaches cla only, which then
		// finishes its requests before stopping the database.
		Setpgid: true,
		// If cla dies without stopping us, the kernel asks postgres for an immediate
		// shutdown, so no postgres process outlives cla.
		Pdeathsig: syscall.SIGQUIT,
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("démarrer postgres : %w", err)
	}
	s.cmd = cmd
	go func() { _ = cmd.Wait(); close(s.exited) }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		if err := s.ping(ctx); err == nil {
			s.log.Info("private PostgreSQL ready", "dir", s.dir, "socket", s.socketDir)
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("postgres s'est arrêté au démarrage, voir %s : %s", logPath, tail(logPath))
		case <-ctx.Done():
			s.Stop()
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("postgres n'a pas répondu en 60 s, voir %s", logPath)
		}
	}
}

func (s *Server) ping(ctx context.Context) error {
	db, err := sql.Open("pgx", s.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return db.PingContext(pctx)
}

// URL returns a connection URL for the named database of this cluster.
func (s *Server) URL(database string) string {
	return fmt.Sprintf("postgres://%s@/%s?host=%s&sslmode=disable", User, database, s.socketDir)
}

// Stop asks postgres for a fast shutdown (rolls back open transactions, writes a
// checkpoint) and waits for it, escalating to an immediate shutdown after 20 s.
func (s *Server) Stop() {
	if s == nil || s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Signal(syscall.SIGQUIT)
		<-s.exited
	}
	if s.logFile != nil {
		_ = s.logFile.Close()
	}
	_ = os.RemoveAll(s.socketDir)
	s.log.Info("private PostgreSQL stopped", "dir", s.dir)
}

// PID returns the postmaster's process id, 0 for a cluster this Server
// attached to (Options.Attach) rather than started.
func (s *Server) PID() int {
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > 600 {
		b = b[len(b)-600:]
	}
	return strings.TrimSpace(string(b))
}
