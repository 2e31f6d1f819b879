// Package seed fills a database: the permission catalogue, the demo data set
// (two tenants, deterministic) and benchmark-sized data in batches.
package seed

import (
	"context"
	"fmt"
	"github.com/google/uuid"
	"io"
	"math/rand/v2"
	"os"
	"time"

	"github.com/conecrm/gateway/ent"

	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/tenancy"
)

// Sizes says how many rows of each kind one tenant gets.
type Sizes struct {
	Accounts           int
	ContactsPerAccount int
	Leads              int
	Tasks              int
}

// DemoSizes is the demo data set of each demo tenant.
var DemoSizes = Sizes{Accounts: 50, ContactsPerAccount: 3, Leads: 200, Tasks: 120}

// Tenant names a tenant to create.
type Tenant struct{ Name, Domain string }

// DemoTenants are the two tenants of the demo data set.
var DemoTenants = []Tenant{
	{"Demo Motors", "demo-motors.test"},
	{"Northwind Auto", "northwind-auto.test"},
}

// Base is the fixed "today" of generated dates, so seeding is deterministic.
var Base = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// batch is the rows per INSERT: large enough to amortise round trips, small
// enough for SQLite's and PostgreSQL's bound-parameter limits.
const batch = 500

// Permissions makes sure every permission of the catalogue exists.
func Permissions(ctx context.Context, c *ent.Client) error { return crm.EnsurePermissions(ctx, c) }

// Demo creates the demo data set: DemoTenants with DemoSizes.
func Demo(ctx context.Context, c *ent.Client, progress io.Writer) error {
	return Fill(ctx, c, DemoTenants, DemoSizes, progress)
}

// Bench creates n tenants named "Bench i" with sizes s.
func Bench(ctx context.Context, c *ent.Client, n int, s Sizes, progress io.Writer) error {
	var ts []Tenant
	for i := 1; i <= n; i++ {
		ts = append(ts, Tenant{fmt.Sprintf("Bench %d", i), fmt.Sprintf("bench-%d-%d.test", i, time.Now().UnixNano()%1e6)})
	}
	return Fill(ctx, c, ts, s, progress)
}

// Fill creates tenants with sizes s, each in one transaction.
func Fill(ctx context.Context, c *ent.Client, tenants []Tenant, s Sizes, progress io.Writer) error {
	ctx = tenancy.Bypass(ctx)
	if err := Permissions(ctx, c); err != nil {
		return fmt.Errorf("seed permissions: %w", err)
	}
	for i, t := range tenants {
		tx, err := c.Tx(ctx)
		if err != nil {
			return err
		}
		g := &gen{ctx: ctx, c: tx.Client(), rng: rand.New(rand.NewPCG(42, uint64(i))), sizes: s, p: newProgress(progress, t.Name)}
		if err := g.tenant(t); err != nil {
			tx.Rollback()
			return fmt.Errorf("seed %s: %w", t.Name, err)
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		g.p.done()
	}
	return nil
}

// progress shows a one-line counter when writing to a terminal.
type progress struct {
	w     io.Writer
	name  string
	tty   bool
	total int
}

func newProgress(w io.Writer, name string) *progress {
	p := &progress{w: w, name: name}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) add(kind string, n int) {
	p.total += n
	if p.w != nil && p.tty {
		fmt.Fprintf(p.w, "\r%s: %d rows (%s)          ", p.name, p.total, kind)
	}
}

func (p *progress) done() {
	if p.w == nil {
		return
	}
	if p.tty {
		fmt.Fprint(p.w, "\r")
	}
	fmt.Fprintf(p.w, "%s: %d rows                    \n", p.name, p.total)
}

func chunks(n int, f func(lo, hi int) error) error {
	for lo := 0; lo < n; lo += batch {
		if err := f(lo, min(lo+batch, n)); err != nil {
			return err
		}
	}
	return nil
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func ptr[T any](v T) *T { return &v }

func idsOf[T any](xs []T, id func(T) uuid.UUID) []uuid.UUID {
	out := make([]uuid.UUID, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}
