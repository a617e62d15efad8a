// Package db embeds the SQL migrations of every context and applies them: one goose provider
// and one version table per context, in a fixed order, under one advisory lock so that several
// instances starting at once do not race.
package db

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations
var migrations embed.FS

// Contexts lists the contexts that own a schema, in the order their migrations run. A context
// whose migrations need another's schema never exists: no foreign key crosses schemas.
var Contexts = []string{"user", "shop", "catalog", "cart", "order", "payment", "shipping", "review", "media", "search", "notify", "analytics"}

// migrationLockID is the advisory lock taken while migrating ("goshop" in ASCII).
const migrationLockID int64 = 0x676f73686f70

// Status is one context's migration state.
type Status struct {
	Context string
	Current int64
	Latest  int64
	Pending int
}

// Direction says which way Migrate goes.
type Direction int

// Up applies every pending migration; Down rolls back the newest migration of the last context
// that has one applied.
const (
	Up Direction = iota
	Down
)

// Migrate applies (Up) or rolls back one step of (Down) the contexts' migrations.
func Migrate(ctx context.Context, pool *pgxpool.Pool, dir Direction, log *slog.Logger) error {
	return withLock(ctx, pool, func(sqlDB *sql.DB) error {
		if dir == Up {
			if err := migrateRiver(ctx, pool, log); err != nil {
				return err
			}
			for _, c := range Contexts {
				p, err := provider(sqlDB, c)
				if err != nil {
					return err
				}
				res, err := p.Up(ctx)
				if err != nil {
					return fmt.Errorf("db: migrate %s up: %w", c, err)
				}
				for _, r := range res {
					log.Info("migration applied", "context", c, "version", r.Source.Version, "duration", r.Duration)
				}
			}
			return nil
		}
		for i := len(Contexts) - 1; i >= 0; i-- {
			p, err := provider(sqlDB, Contexts[i])
			if err != nil {
				return err
			}
			v, err := p.GetDBVersion(ctx)
			if err != nil {
				return fmt.Errorf("db: version of %s: %w", Contexts[i], err)
			}
			if v == 0 {
				continue
			}
			r, err := p.Down(ctx)
			if err != nil {
				return fmt.Errorf("db: migrate %s down: %w", Contexts[i], err)
			}
			log.Info("migration rolled back", "context", Contexts[i], "version", r.Source.Version)
			return nil
		}
		return nil
	})
}

// MigrationStatus reports each context's applied and latest versions.
func MigrationStatus(ctx context.Context, pool *pgxpool.Pool) ([]Status, error) {
	sqlDB := stdlib.OpenDBFromPool(pool)
	defer sqlDB.Close()
	var out []Status
	for _, c := range Contexts {
		p, err := provider(sqlDB, c)
		if err != nil {
			return nil, err
		}
		st, err := p.Status(ctx)
		if err != nil {
			return nil, fmt.Errorf("db: status of %s: %w", c, err)
		}
		s := Status{Context: c}
		for _, m := range st {
			s.Latest = max(s.Latest, m.Source.Version)
			if m.State == goose.StateApplied {
				s.Current = max(s.Current, m.Source.Version)
			} else {
				s.Pending++
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// FS returns the embedded migrations, rooted at "migrations" (tests hash it to name templates).
func FS() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

func provider(sqlDB *sql.DB, context string) (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+context)
	if err != nil {
		return nil, fmt.Errorf("db: migrations of %s: %w", context, err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, sub,
		goose.WithTableName("goose_version_"+context),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return nil, fmt.Errorf("db: goose provider for %s: %w", context, err)
	}
	return p, nil
}

// withLock holds a session advisory lock on one pooled connection while fn migrates through a
// database/sql handle over the same pool.
func withLock(ctx context.Context, pool *pgxpool.Pool, fn func(*sql.DB) error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("db: acquire: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLockID); err != nil {
		return fmt.Errorf("db: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLockID) //nolint:errcheck
	sqlDB := stdlib.OpenDBFromPool(pool)
	defer sqlDB.Close()
	return fn(sqlDB)
}

// migrateRiver applies River's own migrations (its job tables live in public).
func migrateRiver(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: log})
	if err != nil {
		return fmt.Errorf("db: river migrator: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("db: river migrate: %w", err)
	}
	for _, v := range res.Versions {
		log.Info("river migration applied", "version", v.Version)
	}
	return nil
}
