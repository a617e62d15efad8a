package app_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// dashboardQueries reads every PromQL expression of the Grafana dashboard: its panels' targets
// and its template variables' queries.
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../../deploy/grafana/goshop.json")
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	require.NoError(t, json.Unmarshal(raw, &dash))
	var out []string
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			require.NotEmpty(t, target.Expr, "panel %q has a target without a query", p.Title)
			out = append(out, target.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		if v.Definition != "" {
			out = append(out, v.Definition)
		}
	}
	require.NotEmpty(t, out)
	return out
}

var (
	// metricName finds the series an expression reads: GoShop's, Go's and the process's.
	metricName = regexp.MustCompile(`\b(?:goshop|go|process)_[a-z0-9_]+\b`)
	// groupedBy and matched find the labels an expression groups by or filters on.
	groupedBy = regexp.MustCompile(`\bby \(([^)]*)\)`)
	matched   = regexp.MustCompile(`([a-z_]+)\s*(?:=~|!~|!=|=)\s*"`)
)

// scrapeLabels are added by Prometheus when it scrapes, and le is every histogram bucket's.
var scrapeLabels = map[string]bool{"instance": true, "job": true, "le": true}

// TestDashboardQueriesOnlyWhatGoShopExports: every metric and label the Grafana dashboard asks
// for is on /metrics of a running app, so a renamed metric breaks this test, not a chart.
func TestDashboardQueriesOnlyWhatGoShopExports(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Dashboard")
	env.Get(t, "/users/profile", u.AccessToken)
	env.Post(t, "/auth/forgot-password", "", map[string]any{"email": u.Email}) // a River job
	res := env.Get(t, "//metrics", "")
	require.Equal(t, http.StatusOK, res.Status)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(res.Body))
	require.NoError(t, err)

	// exported maps every series name a query may use to its family's labels; a histogram's
	// series are its _bucket, _sum and _count.
	exported := map[string]map[string]bool{}
	for name, f := range families {
		labels := map[string]bool{}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = true
			}
		}
		exported[name] = labels
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				exported[name+suffix] = labels
			}
		}
	}

	seen := map[string]bool{}
	for _, expr := range dashboardQueries(t) {
		names := metricName.FindAllString(expr, -1)
		require.NotEmpty(t, names, "query reads no GoShop metric: %s", expr)
		known := map[string]bool{}
		for _, name := range names {
			seen[name] = true
			labels, ok := exported[name]
			if !assert.True(t, ok, "the dashboard queries %s, which /metrics does not export (%s)", name, expr) {
				continue
			}
			for l := range labels {
				known[l] = true
			}
		}
		var used []string
		for _, g := range groupedBy.FindAllStringSubmatch(expr, -1) {
			for _, l := range strings.Split(g[1], ",") {
				used = append(used, strings.TrimSpace(l))
			}
		}
		for _, m := range matched.FindAllStringSubmatch(expr, -1) {
			used = append(used, m[1])
		}
		for _, l := range used {
			assert.True(t, known[l] || scrapeLabels[l], "label %q is on none of the series of %s", l, expr)
		}
	}
	for _, want := range []string{"goshop_http_requests_total", "goshop_http_request_duration_seconds_bucket",
		"goshop_river_jobs", "goshop_db_pool_acquired_conns", "goshop_db_pool_acquire_wait_seconds_total", "goshop_realtime_topics", "goshop_circuit_breaker_state"} {
		assert.True(t, seen[want], "the dashboard charts %s", want)
	}
}
