// Package k8s_test checks the Kubernetes manifests beside it without a cluster: each document
// decodes strictly into the Kubernetes API types (an unknown or misspelt field fails), and what
// they name exists in GoShop: the commands and flags, the probes' routes, the port, every
// environment variable, and a drain that fits the termination grace period.
//
// It is a package of its own so that only this small test binary compiles k8s.io/api; the app's
// test binary, built on every change, stays as it is.
package k8s_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/goshop/goshop/internal/app"
	"github.com/goshop/goshop/internal/platform/config"
)

// manifests are the decoded documents of this directory, by kind.
type manifests struct {
	configMap  *corev1.ConfigMap
	secret     *corev1.Secret
	service    *corev1.Service
	api        *appsv1.Deployment
	worker     *appsv1.Deployment
	migrate    *batchv1.Job
	hpa        *autoscalingv2.HorizontalPodAutoscaler
	pdb        *policyv1.PodDisruptionBudget
	containers map[string]corev1.Container // by workload: api, worker, migrate
	pods       map[string]corev1.PodSpec
}

// kinds maps each apiVersion/kind the directory may hold to a new value of its Go type.
var kinds = map[string]func() any{
	"v1/ConfigMap":                           func() any { return new(corev1.ConfigMap) },
	"v1/Secret":                              func() any { return new(corev1.Secret) },
	"v1/Service":                             func() any { return new(corev1.Service) },
	"apps/v1/Deployment":                     func() any { return new(appsv1.Deployment) },
	"batch/v1/Job":                           func() any { return new(batchv1.Job) },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return new(autoscalingv2.HorizontalPodAutoscaler) },
	"policy/v1/PodDisruptionBudget":          func() any { return new(policyv1.PodDisruptionBudget) },
}

// load decodes every .yaml file of the directory, one document a file.
func load(t *testing.T) manifests {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	m := manifests{containers: map[string]corev1.Container{}, pods: map[string]corev1.PodSpec{}}
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NotContains(t, string(data), "\n---", "%s: one document a file", f)
		var tm metav1.TypeMeta
		require.NoError(t, yaml.Unmarshal(data, &tm), f)
		newObj, ok := kinds[tm.APIVersion+"/"+tm.Kind]
		require.True(t, ok, "%s: unexpected %s %s", f, tm.APIVersion, tm.Kind)
		obj := newObj()
		require.NoError(t, yaml.UnmarshalStrict(data, obj), "%s does not decode strictly into %T", f, obj)
		switch o := obj.(type) {
		case *corev1.ConfigMap:
			require.Nil(t, m.configMap, "one ConfigMap")
			m.configMap = o
		case *corev1.Secret:
			require.Nil(t, m.secret, "one Secret")
			m.secret = o
		case *corev1.Service:
			require.Nil(t, m.service, "one Service")
			m.service = o
		case *appsv1.Deployment:
			require.Len(t, o.Spec.Template.Spec.Containers, 1, f)
			name := o.Spec.Template.Spec.Containers[0].Name
			switch name {
			case "api":
				m.api = o
			case "worker":
				m.worker = o
			default:
				t.Fatalf("%s: unexpected container %q", f, name)
			}
			m.containers[name] = o.Spec.Template.Spec.Containers[0]
			m.pods[name] = o.Spec.Template.Spec
		case *batchv1.Job:
			require.Len(t, o.Spec.Template.Spec.Containers, 1, f)
			m.migrate = o
			m.containers["migrate"] = o.Spec.Template.Spec.Containers[0]
			m.pods["migrate"] = o.Spec.Template.Spec
		case *autoscalingv2.HorizontalPodAutoscaler:
			m.hpa = o
		case *policyv1.PodDisruptionBudget:
			m.pdb = o
		}
	}
	for name, v := range map[string]any{"ConfigMap": m.configMap, "Secret": m.secret, "Service": m.service,
		"API Deployment": m.api, "worker Deployment": m.worker, "migration Job": m.migrate,
		"HorizontalPodAutoscaler": m.hpa, "PodDisruptionBudget": m.pdb} {
		require.False(t, reflect.ValueOf(v).IsNil(), "the directory has no %s", name)
	}
	return m
}

// env is the configuration the pods start with: the ConfigMap and the Secret together.
func (m manifests) env() map[string]string {
	out := map[string]string{}
	for k, v := range m.configMap.Data {
		out[k] = v
	}
	for k, v := range m.secret.StringData {
		out[k] = v
	}
	for k, v := range m.secret.Data {
		out[k] = string(v)
	}
	return out
}

// goshopVariables are the environment variables GoShop reads: the env tags of its config.
func goshopVariables() map[string]bool {
	out := map[string]bool{}
	typ := reflect.TypeFor[config.Config]()
	for i := range typ.NumField() {
		if name, _, _ := strings.Cut(typ.Field(i).Tag.Get("env"), ","); name != "" {
			out[name] = true
		}
	}
	return out
}

// runtimeVariables are read by Go's runtime, not by GoShop.
var runtimeVariables = map[string]bool{"GOMEMLIMIT": true, "GOMAXPROCS": true, "GOGC": true}

func TestManifestsDecodeStrictlyAndHangTogether(t *testing.T) {
	t.Parallel()
	m := load(t)

	t.Run("the configuration starts GoShop in production", func(t *testing.T) {
		cfg, err := config.FromMap(m.env())
		require.NoError(t, err)
		assert.True(t, cfg.Production())
	})

	t.Run("every variable named is one GoShop reads", func(t *testing.T) {
		known := goshopVariables()
		for name := range m.env() {
			assert.True(t, known[name], "%s is not a GoShop variable", name)
		}
		for workload, c := range m.containers {
			for _, e := range c.Env {
				assert.True(t, known[e.Name] || runtimeVariables[e.Name], "%s: %s is not a GoShop variable", workload, e.Name)
			}
			var refs []string
			for _, from := range c.EnvFrom {
				switch {
				case from.ConfigMapRef != nil:
					refs = append(refs, from.ConfigMapRef.Name)
				case from.SecretRef != nil:
					refs = append(refs, from.SecretRef.Name)
				}
			}
			assert.ElementsMatch(t, []string{m.configMap.Name, m.secret.Name}, refs, "%s reads the ConfigMap and the Secret", workload)
		}
	})

	t.Run("commands are the binary's", func(t *testing.T) {
		want := map[string][]string{"api": {"serve", "-no-workers"}, "worker": {"worker"}, "migrate": {"migrate", "up"}}
		image := m.containers["api"].Image
		for workload, c := range m.containers {
			assert.Empty(t, c.Command, "%s: the image's entrypoint is the binary", workload)
			assert.NoError(t, app.CheckArgs(c.Args), "%s: %v", workload, c.Args)
			assert.Equal(t, want[workload], c.Args, workload)
			assert.Equal(t, image, c.Image, "%s runs the same image as the API", workload)
		}
		assert.Error(t, app.CheckArgs([]string{"serve", "-no-worker"}), "the check refuses a flag serve does not have")
		assert.Error(t, app.CheckArgs([]string{"migrate", "upp"}))
		assert.Error(t, app.CheckArgs([]string{"workers"}))
	})

	t.Run("probes and ports exist", func(t *testing.T) {
		cfg, err := config.FromMap(m.env())
		require.NoError(t, err)
		a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), app.Options{Offline: true})
		require.NoError(t, err)
		t.Cleanup(a.Close)
		routes, err := a.Routes()
		require.NoError(t, err)
		served := map[string]bool{}
		for _, r := range routes {
			served[r.Method+" "+r.Pattern] = true
		}

		_, portText, err := net.SplitHostPort(cfg.HTTPAddr)
		require.NoError(t, err)
		port, err := strconv.Atoi(portText)
		require.NoError(t, err)
		c := m.containers["api"]
		require.Len(t, c.Ports, 1)
		assert.EqualValues(t, port, c.Ports[0].ContainerPort, "the container port is HTTP_ADDR's")
		portName := c.Ports[0].Name

		probes := map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe}
		wantPath := map[string]string{"readiness": "/readyz", "liveness": "/healthz"}
		for kind, p := range probes {
			require.NotNil(t, p, "%s probe", kind)
			require.NotNil(t, p.HTTPGet, "%s probe is an HTTP GET", kind)
			assert.Equal(t, wantPath[kind], p.HTTPGet.Path, kind)
			assert.True(t, served["GET "+p.HTTPGet.Path], "%s probe: GoShop serves no GET %s", kind, p.HTTPGet.Path)
			assert.Equal(t, portName, p.HTTPGet.Port.String(), "%s probe targets the API's port", kind)
		}
		require.Len(t, m.service.Spec.Ports, 1)
		assert.Equal(t, portName, m.service.Spec.Ports[0].TargetPort.String(), "the Service targets the API's port")
		assert.Contains(t, m.api.Spec.Template.Annotations["prometheus.io/path"], "/metrics")
		assert.True(t, served["GET "+m.api.Spec.Template.Annotations["prometheus.io/path"]])
		assert.Equal(t, portText, m.api.Spec.Template.Annotations["prometheus.io/port"])
	})

	t.Run("selectors pick the right pods", func(t *testing.T) {
		apiPods := labels.Set(m.api.Spec.Template.Labels)
		workerPods := labels.Set(m.worker.Spec.Template.Labels)
		for name, d := range map[string]*appsv1.Deployment{"api": m.api, "worker": m.worker} {
			sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
			require.NoError(t, err)
			assert.True(t, sel.Matches(labels.Set(d.Spec.Template.Labels)), "%s: the selector matches its pods", name)
		}
		svc := labels.SelectorFromSet(m.service.Spec.Selector)
		assert.True(t, svc.Matches(apiPods), "the Service sends to API pods")
		assert.False(t, svc.Matches(workerPods), "the Service does not send to workers")
		pdb, err := metav1.LabelSelectorAsSelector(m.pdb.Spec.Selector)
		require.NoError(t, err)
		assert.True(t, pdb.Matches(apiPods))
		assert.False(t, pdb.Matches(workerPods))
		assert.Equal(t, "Deployment", m.hpa.Spec.ScaleTargetRef.Kind)
		assert.Equal(t, m.api.Name, m.hpa.Spec.ScaleTargetRef.Name, "the autoscaler scales the API")
		require.NotNil(t, m.hpa.Spec.MinReplicas)
		assert.GreaterOrEqual(t, *m.hpa.Spec.MinReplicas, int32(2), "one pod may be disrupted while one serves")
		require.NotNil(t, m.pdb.Spec.MinAvailable)
		assert.Less(t, m.pdb.Spec.MinAvailable.IntValue(), int(*m.hpa.Spec.MinReplicas), "a node can still be drained")
	})

	t.Run("graceful shutdown fits the grace period", func(t *testing.T) {
		cfg, err := config.FromMap(m.env())
		require.NoError(t, err)
		assert.LessOrEqual(t, cfg.RequestTimeout, cfg.ShutdownWait, "a request in flight ends within the drain")
		for _, workload := range []string{"api", "worker"} {
			pod := m.pods[workload]
			require.NotNil(t, pod.TerminationGracePeriodSeconds, workload)
			grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
			var pause time.Duration
			if ls := m.containers[workload].Lifecycle; ls != nil && ls.PreStop != nil {
				require.NotNil(t, ls.PreStop.Sleep, "%s: the image has no shell, so preStop sleeps natively", workload)
				pause = time.Duration(ls.PreStop.Sleep.Seconds) * time.Second
			}
			// The kubelet counts the preStop hook inside the grace period; SIGTERM comes after
			// it, and the drain then takes up to SHUTDOWN_TIMEOUT; a second is left for Close.
			assert.LessOrEqual(t, pause+cfg.ShutdownWait+time.Second, grace,
				"%s: preStop %s + SHUTDOWN_TIMEOUT %s must end before SIGKILL at %s", workload, pause, cfg.ShutdownWait, grace)
		}
		assert.NotNil(t, m.containers["api"].Lifecycle, "the API pauses before draining, while endpoints update")
	})

	t.Run("connections at full scale fit PostgreSQL", func(t *testing.T) {
		cfg, err := config.FromMap(m.env())
		require.NoError(t, err)
		// PostgreSQL's default max_connections (100) less its superuser_reserved_connections (3);
		// `goshop migrate` opens a pool of 4.
		const budget, migrateConns = 97, 4
		require.NotNil(t, m.worker.Spec.Replicas)
		total := int(m.hpa.Spec.MaxReplicas)*int(cfg.DBMaxConns) + int(*m.worker.Spec.Replicas)*int(cfg.DBMaxConns) + migrateConns
		assert.LessOrEqual(t, total, budget, "API and worker pools at the autoscaler's maximum")
	})

	t.Run("pods run unprivileged", func(t *testing.T) {
		for workload, c := range m.containers {
			pod := m.pods[workload]
			require.NotNil(t, pod.SecurityContext, workload)
			assert.True(t, pod.SecurityContext.RunAsNonRoot != nil && *pod.SecurityContext.RunAsNonRoot, workload)
			require.NotNil(t, c.SecurityContext, workload)
			assert.True(t, c.SecurityContext.ReadOnlyRootFilesystem != nil && *c.SecurityContext.ReadOnlyRootFilesystem, workload)
			assert.True(t, c.SecurityContext.AllowPrivilegeEscalation != nil && !*c.SecurityContext.AllowPrivilegeEscalation, workload)
			require.NotNil(t, c.SecurityContext.Capabilities, workload)
			assert.True(t, slices.Contains(c.SecurityContext.Capabilities.Drop, "ALL"), workload)
			assert.False(t, c.Resources.Requests.Cpu().IsZero(), "%s requests CPU (the autoscaler needs it)", workload)
			assert.False(t, c.Resources.Limits.Memory().IsZero(), "%s has a memory limit", workload)
		}
	})
}

func TestStrictDecodingRefusesUnknownFields(t *testing.T) {
	t.Parallel()
	// The check above is only worth something if a typo fails it.
	bad := []byte("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: x}\nspec: {minAvailabe: 1}\n")
	assert.Error(t, yaml.UnmarshalStrict(bad, new(policyv1.PodDisruptionBudget)))
}
