// Command ferretdb runs FerretDB v1 as an embedded library, on its SQLite or its PostgreSQL backend.
//
// The upstream `go install .../cmd/ferretdb` binary panics at start-up because
// build/version/version.txt is generated and not part of the module
// (https://github.com/FerretDB/FerretDB/issues/2982), so we embed the package instead. Both
// backends are compiled into the same embeddable package; --handler picks one.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	handler := flag.String("handler", "sqlite", "backend: sqlite or postgresql")
	dataDir := flag.String("data-dir", "", "directory for the SQLite databases (required for --handler sqlite)")
	pgURL := flag.String("postgresql-url", "", "PostgreSQL URL, e.g. postgres://postgres@127.0.0.1:15432/ferretdb (required for --handler postgresql)")
	// Unused here: the launcher puts its state dir on the command line to recognise its own process.
	_ = flag.String("owner", "", "free text naming who started this process")
	flag.Parse()

	config := &ferretdb.Config{Listener: ferretdb.ListenerConfig{TCP: *listen}, Handler: *handler}
	var where string
	switch *handler {
	case "sqlite":
		if *dataDir == "" {
			log.Fatal("--data-dir is required with --handler sqlite")
		}
		abs, err := filepath.Abs(*dataDir)
		if err != nil {
			log.Fatalf("data dir: %v", err)
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			log.Fatalf("data dir: %v", err)
		}
		config.SQLiteURL = "file:" + abs + "/"
		where = "sqlite at " + abs
	case "postgresql":
		if *pgURL == "" {
			log.Fatal("--postgresql-url is required with --handler postgresql")
		}
		config.PostgreSQLURL = *pgURL
		where = "postgresql at " + *pgURL
	default:
		log.Fatalf("--handler must be sqlite or postgresql, got %q", *handler)
	}

	f, err := ferretdb.New(config)
	if err != nil {
		log.Fatalf("ferretdb: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	fmt.Printf("FerretDB listening on %s (%s)\n", *listen, where)
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		log.Fatalf("ferretdb: %v", err)
	}
	fmt.Println("FerretDB stopped")
}
