package app_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/goshop/goshop/internal/"

// notContexts are the packages under internal/ that are not bounded contexts: the wiring, the
// shared kernel, the event catalog, the benchmark driver and the multi-process journey (which,
// like the benchmark, drives the whole binary and reads the messages of its streams).
var notContexts = map[string]bool{"app": true, "platform": true, "events": true, "bench": true, "scaletest": true}

// TestContextsDoNotImportEachOther keeps the monolith modular: a context reaches another only
// through interfaces wired in internal/app and through events, never by importing it. The
// kernel, likewise, knows no context.
func TestContextsDoNotImportEachOther(t *testing.T) {
	root := filepath.Join("..")
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	var contexts []string
	for _, e := range entries {
		if e.IsDir() && !notContexts[e.Name()] {
			contexts = append(contexts, e.Name())
		}
	}
	require.Contains(t, contexts, "user")
	isContext := func(name string) bool { return !notContexts[name] && name != "" }

	check := func(owner, dir string) {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
				return err
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if !strings.HasPrefix(p, module) {
					continue
				}
				target, _, _ := strings.Cut(strings.TrimPrefix(p, module), "/")
				if target != owner && isContext(target) {
					t.Errorf("%s imports %s: %s may not depend on the %s context", path, p, owner, target)
				}
				// Tests drive the whole app through apptest; production code never sees the wiring.
				if target == "app" && !strings.HasSuffix(path, "_test.go") {
					t.Errorf("%s imports the wiring package %s", path, p)
				}
			}
			return nil
		})
		require.NoError(t, err)
	}
	for _, c := range contexts {
		check(c, filepath.Join(root, c))
	}
	check("platform", filepath.Join(root, "platform"))
	check("events", filepath.Join(root, "events"))
}

// TestHandlersReadOnlyDeclaredQueries: a handler reads its query parameters through
// httpx.QueryOf (or PageOf), which the route declares with Op.Params, so that the OpenAPI
// document cannot miss one. Reading r.URL.Query() by hand would slip past the document; the
// exceptions read a provider's whole signed query, which the signature, not the document,
// describes.
func TestHandlersReadOnlyDeclaredQueries(t *testing.T) {
	allowed := map[string]string{
		filepath.Join("..", "payment", "http.go"): "a provider's webhook hands its signed query to the gateway as it came",
	}
	root := filepath.Join("..")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		top, _, _ := strings.Cut(strings.TrimPrefix(path, root+string(filepath.Separator)), string(filepath.Separator))
		if notContexts[top] {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, bad := range []string{"URL.Query()", "FormValue(", "URL.RawQuery", "ParseForm("} {
				if strings.Contains(line, bad) {
					if why, ok := allowed[path]; ok {
						t.Logf("%s:%d reads the raw query: %s", path, i+1, why)
						continue
					}
					t.Errorf("%s:%d reads the query with %s; declare a query type with Op.Params and read it with httpx.QueryOf", path, i+1, bad)
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
}

// TestStoresNameTheirErrors keeps every context's sqlc store on pgdb.Named, for the pool and
// for transactions alike, so that a failing query's error names it: a store made with the
// generated store.New or Queries.WithTx alone would report a bare driver error.
func TestStoresNameTheirErrors(t *testing.T) {
	root := filepath.Join("..")
	bare := regexp.MustCompile(`\bstore\.New\(|[^b]\.WithTx\(`)
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
			strings.Contains(path, "/internal/store/") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			if bare.MatchString(line) && !strings.Contains(line, "pgdb.Named(") {
				t.Errorf("%s:%d builds a store without pgdb.Named: %s", path, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	require.NoError(t, err)
}
