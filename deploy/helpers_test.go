package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "regenerate generated files (kubernetes/prometheusrule.yaml)")

const manifestDir = "kubernetes"

// newObject returns an empty typed object for each apiVersion/kind the
// manifests may contain. A kind missing here fails the decode: adding a
// manifest of a new kind means adding its type, so it is checked too.
var newObject = map[string]func() any{
	"v1/ServiceAccount":                             func() any { return &corev1.ServiceAccount{} },
	"v1/ConfigMap":                                  func() any { return &corev1.ConfigMap{} },
	"v1/Service":                                    func() any { return &corev1.Service{} },
	"apps/v1/Deployment":                            func() any { return &appsv1.Deployment{} },
	"policy/v1/PodDisruptionBudget":                 func() any { return &policyv1.PodDisruptionBudget{} },
	"rbac.authorization.k8s.io/v1/Role":             func() any { return &rbacv1.Role{} },
	"rbac.authorization.k8s.io/v1/RoleBinding":      func() any { return &rbacv1.RoleBinding{} },
	"monitoring.coreos.com/v1/ServiceMonitor":       func() any { return &monitoringv1.ServiceMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule":       func() any { return &monitoringv1.PrometheusRule{} },
	"kustomize.config.k8s.io/v1beta1/Kustomization": func() any { return &kustypes.Kustomization{} },
}

// object is one decoded manifest document.
type object struct {
	source string // file name and document index, for messages
	kind   string // apiVersion/kind
	name   string
	obj    any // a pointer to the typed object
}

// decodeStrict decodes every YAML document in data into its typed API
// object, failing on duplicate keys, unknown fields, trailing data and
// unknown kinds.
func decodeStrict(source string, data []byte) ([]object, error) {
	var objs []object
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		src := fmt.Sprintf("%s[%d]", source, i)
		jsonDoc, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		if t := bytes.TrimSpace(jsonDoc); len(t) == 0 || bytes.Equal(t, []byte("null")) {
			continue // a document of comments only
		}
		var tm metav1.TypeMeta
		if err := json.Unmarshal(jsonDoc, &tm); err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		kind := tm.APIVersion + "/" + tm.Kind
		mk, ok := newObject[kind]
		if !ok {
			return nil, fmt.Errorf("%s: unknown kind %q: add its Go type to newObject", src, kind)
		}
		// sigs.k8s.io/json is what the API server decodes with: unlike
		// encoding/json it matches field names case-sensitively, so
		// "targetport" is an unknown field, not targetPort.
		obj := mk()
		strictErrs, err := kjson.UnmarshalStrict(jsonDoc, obj, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", src, kind, err)
		}
		if err := errors.Join(strictErrs...); err != nil {
			return nil, fmt.Errorf("%s (%s): %w", src, kind, err)
		}
		name := ""
		if m, ok := obj.(interface{ GetName() string }); ok {
			name = m.GetName()
		}
		objs = append(objs, object{source: src, kind: kind, name: name, obj: obj})
	}
}

// rawManifests decodes every YAML file in kubernetes/ but the statussync
// configuration, keyed by file name.
func rawManifests(tb testing.TB) map[string][]object {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(manifestDir, "*.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string][]object{}
	for _, f := range files {
		if filepath.Base(f) == "config.yaml" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		objs, err := decodeStrict(f, data)
		if err != nil {
			tb.Fatal(err)
		}
		out[filepath.Base(f)] = objs
	}
	return out
}

var (
	builtOnce sync.Once
	builtYAML []byte
	builtErr  error
)

// kustomizeBuild runs `kustomize build kubernetes` in-process, offline, and
// returns the output YAML.
func kustomizeBuild(tb testing.TB) []byte {
	tb.Helper()
	builtOnce.Do(func() {
		k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
		m, err := k.Run(filesys.MakeFsOnDisk(), manifestDir)
		if err != nil {
			builtErr = err
			return
		}
		builtYAML, builtErr = m.AsYaml()
	})
	if builtErr != nil {
		tb.Fatalf("kustomize build %s: %v", manifestDir, builtErr)
	}
	return builtYAML
}

// built is the kustomize output decoded strictly.
func built(tb testing.TB) []object {
	tb.Helper()
	objs, err := decodeStrict("kustomize build "+manifestDir, kustomizeBuild(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return objs
}

// only returns the single object of type T in objs.
func only[T any](tb testing.TB, objs []object) T {
	tb.Helper()
	var found []T
	for _, o := range objs {
		if v, ok := o.obj.(T); ok {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		var zero T
		tb.Fatalf("want exactly one %T, found %d", zero, len(found))
	}
	return found[0]
}

// statussyncContainer is the Deployment's statussync container.
func statussyncContainer(tb testing.TB, d *appsv1.Deployment) corev1.Container {
	tb.Helper()
	cs := d.Spec.Template.Spec.Containers
	if len(cs) != 1 || cs[0].Name != "statussync" {
		tb.Fatalf("want one container named statussync, got %d", len(cs))
	}
	return cs[0]
}

var (
	binaryOnce sync.Once
	binaryDir  string
	binaryErr  error
)

// Stamped into the test binary, and looked for in its output.
const (
	testVersion   = "v0.0.0-deploytest"
	testRevision  = "0123456789abcdef0123456789abcdef01234567"
	testBuildDate = "2025-01-02T03:04:05Z"
)

// statussyncBinary builds statussync from the parent directory with
// build.sh, once per test run, and returns its path. CGO_ENABLED=1 in the
// environment proves that the script, not the caller, decides.
func statussyncBinary(tb testing.TB) string {
	tb.Helper()
	binaryOnce.Do(func() {
		binaryDir, binaryErr = os.MkdirTemp("", "statussync-deploy-test")
		if binaryErr != nil {
			return
		}
		cmd := exec.Command("sh", "build.sh", filepath.Join(binaryDir, "statussync"))
		cmd.Env = append(os.Environ(),
			"CGO_ENABLED=1",
			"VERSION="+testVersion,
			"REVISION="+testRevision,
			"BUILD_DATE="+testBuildDate,
		)
		out, err := cmd.CombinedOutput()
		if err != nil {
			binaryErr = fmt.Errorf("sh build.sh: %w\n%s", err, out)
		}
	})
	if binaryErr != nil {
		tb.Fatal(binaryErr)
	}
	return filepath.Join(binaryDir, "statussync")
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if binaryDir != "" {
		_ = os.RemoveAll(binaryDir)
	}
	os.Exit(code)
}

// runStatussync runs the test binary with args and exactly env (no
// inherited environment), returning its exit code, stdout and stderr.
func runStatussync(tb testing.TB, env []string, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	cmd := exec.Command(statussyncBinary(tb), args...)
	cmd.Env = append([]string{}, env...) // never nil: nil would inherit ours
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String(), errOut.String()
	case errors.As(err, &exitErr):
		return exitErr.ExitCode(), out.String(), errOut.String()
	}
	tb.Fatalf("run statussync %s: %v", strings.Join(args, " "), err)
	return 0, "", ""
}
