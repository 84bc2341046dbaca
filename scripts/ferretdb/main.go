// Command ferretdb runs FerretDB v1 (SQLite backend) as the MongoDB-compatible
// database for this project's tests; with -postgresql-url, on its PostgreSQL backend
// instead (bench/plan.ts --ferretdb-backend postgresql compares the two; bench/write-growth.ts
// runs its 100,000 writes there, where SQLite scans would measure FerretDB, not this project).
//
// It uses FerretDB as a library (package github.com/FerretDB/FerretDB/ferretdb)
// because the upstream cmd/ferretdb binary, when built with `go install`,
// panics at start-up (it needs build/version/version.txt, which only exists in a
// FerretDB checkout; upstream issue #2982).
//
// Usage:
//
//	ferretdb -listen 127.0.0.1:27017 -dir /tmp/ferret-data
//	ferretdb -listen 127.0.0.1:0 -postgresql-url postgres://127.0.0.1:5432/DB
//
// Once the TCP port is bound, it prints exactly one line to stdout:
//
//	ferretdb: listening on 127.0.0.1:PORT (mongodb://127.0.0.1:PORT/)
//
// and runs until SIGINT or SIGTERM, then exits 0 (at the latest after
// -shutdown-timeout, even if clients are still connected). A second signal
// exits at once, with status 1.
// With -exit-on-stdin-eof it also stops when its standard input is closed, so a
// test harness that dies without cleaning up does not leave it running.
// Logging (to stderr) is at warn level unless -log-level says otherwise.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	os.Exit(run())
}

func run() int {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on (host:port; port 0 picks a free one)")
	dir := flag.String("dir", "", "SQLite data directory (created if missing)")
	postgresqlURL := flag.String("postgresql-url", "", "use the PostgreSQL backend at this URL (postgres://host:port/database) instead of SQLite; -dir is then not used")
	logLevel := flag.String("log-level", "warn", "log level: debug, info, warn or error")
	stdinEOF := flag.Bool("exit-on-stdin-eof", false, "stop when standard input is closed (parent went away)")
	shutdownTimeout := flag.Duration("shutdown-timeout", 5*time.Second,
		"after SIGINT/SIGTERM, exit (status 0) at the latest after this long, even if clients are still connected "+
			"(FerretDB itself gives connected clients up to 3s); committed writes are already durable in SQLite")
	flag.Parse()

	if *dir == "" && *postgresqlURL == "" {
		fmt.Fprintln(os.Stderr, "ferretdb: -dir (or -postgresql-url) is required")
		flag.Usage()
		return 2
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: bad -log-level %q: %s\n", *logLevel, err)
		return 2
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)

	cfg := ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Logger:   logger,
	}
	where := ""

	if *postgresqlURL != "" {
		cfg.Handler = "postgresql"
		cfg.PostgreSQLURL = *postgresqlURL
		where = "PostgreSQL backend"
	} else {
		absDir, err := filepath.Abs(*dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "ferretdb: bad -dir %q: %s\n", *dir, err)
			return 1
		}

		if err = os.MkdirAll(absDir, 0o755); err != nil {
			fmt.Fprintf(os.Stderr, "ferretdb: cannot create data directory: %s\n", err)
			return 1
		}

		// The SQLite handler wants a "file:" URI naming an existing directory,
		// with a trailing slash. Escape the path so spaces, '?' or '%' survive.
		p := filepath.ToSlash(absDir)
		if !strings.HasSuffix(p, "/") {
			p += "/"
		}

		cfg.Handler = "sqlite"
		cfg.SQLiteURL = "file:" + (&url.URL{Path: p}).EscapedPath()
		where = "data directory " + absDir
	}

	f, err := ferretdb.New(&cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: cannot start on %s with %s: %s\n", *listen, where, err)
		return 1
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)

	go func() {
		<-sigs
		cancel()

		// A second signal means "stop now" (Run waits up to ~3 s for clients).
		<-sigs
		fmt.Fprintln(os.Stderr, "ferretdb: second signal, exiting immediately")
		os.Exit(1)
	}()

	// Bound the shutdown: idle client connections would otherwise hold it for ~3s.
	go func() {
		<-ctx.Done()
		time.Sleep(*shutdownTimeout)
		fmt.Fprintf(os.Stderr, "ferretdb: clients still connected after %s, exiting\n", *shutdownTimeout)
		os.Exit(0)
	}()

	if *stdinEOF {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			cancel()
		}()
	}

	// The TCP listener is bound by ferretdb.New; MongoDBURI reports the real
	// address (useful with port 0).
	uri := f.MongoDBURI()
	host := strings.TrimSuffix(strings.TrimPrefix(uri, "mongodb://"), "/")
	fmt.Printf("ferretdb: listening on %s (%s)\n", host, uri)

	if err = f.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %s\n", err)
		return 1
	}

	return 0
}
