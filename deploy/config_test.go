package deploy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// deployedConfig is the part of the statussync configuration the manifests
// depend on. `statussync check` validates the whole file.
type deployedConfig struct {
	Cachet struct {
		URL       string `json:"url"`
		TokenFile string `json:"token_file"`
	} `json:"cachet"`
	CloudNS struct {
		PasswordFile string `json:"password_file"`
	} `json:"cloudns"`
	HA struct {
		Enabled        bool   `json:"enabled"`
		LeaseName      string `json:"lease_name"`
		LeaseNamespace string `json:"lease_namespace"`
	} `json:"ha"`
}

// haSettings is the ha block of kubernetes/config.yaml with its defaults.
type haSettings struct {
	Enabled   bool
	LeaseName string
}

// haConfig reads the ha block of kubernetes/config.yaml; lease_name
// defaults to "statussync" as in config.Default.
func haConfig(tb testing.TB) haSettings {
	tb.Helper()
	c := readDeployedConfig(tb)
	ha := haSettings{Enabled: c.HA.Enabled, LeaseName: c.HA.LeaseName}
	if ha.LeaseName == "" {
		ha.LeaseName = "statussync"
	}
	return ha
}

func readDeployedConfig(tb testing.TB) deployedConfig {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(manifestDir, "config.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	var c deployedConfig
	if err := yaml.Unmarshal(data, &c); err != nil {
		tb.Fatal(err)
	}
	return c
}

// podFiles maps the paths the container sees to their sources in the
// built manifests: the ConfigMap's keys and the Secrets' items.
type podFiles struct {
	configMaps map[string]string // container path -> content
	secrets    map[string]string // container path -> "secret/key"
}

func mountedFiles(tb testing.TB, d *appsv1.Deployment, cms map[string]*corev1.ConfigMap) podFiles {
	tb.Helper()
	pf := podFiles{configMaps: map[string]string{}, secrets: map[string]string{}}
	volumes := map[string]corev1.Volume{}
	for _, v := range d.Spec.Template.Spec.Volumes {
		volumes[v.Name] = v
	}
	for _, m := range statussyncContainer(tb, d).VolumeMounts {
		v, ok := volumes[m.Name]
		if !ok {
			tb.Fatalf("volumeMount %s: no such volume", m.Name)
		}
		if m.SubPath != "" {
			// A subPath mount never sees updates: rotated secrets and
			// edited ConfigMaps would not reach a reload.
			tb.Errorf("volumeMount %s uses subPath", m.Name)
		}
		switch {
		case v.ConfigMap != nil:
			cm, ok := cms[v.ConfigMap.Name]
			if !ok {
				tb.Fatalf("volume %s: ConfigMap %s is not in the build", v.Name, v.ConfigMap.Name)
			}
			for key, content := range cm.Data {
				pf.configMaps[path.Join(m.MountPath, key)] = content
			}
		case v.Secret != nil:
			for _, it := range v.Secret.Items {
				pf.secrets[path.Join(m.MountPath, it.Path)] = v.Secret.SecretName + "/" + it.Key
			}
		}
	}
	return pf
}

// envFor resolves the container's environment as the kubelet would, with
// the pod's name and namespace as given.
func envFor(tb testing.TB, c corev1.Container, podName, podNamespace string) []string {
	tb.Helper()
	values := map[string]string{}
	var env []string
	ref := regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)
	for _, e := range c.Env {
		var v string
		switch {
		case e.ValueFrom == nil:
			v = ref.ReplaceAllStringFunc(e.Value, func(m string) string {
				if val, ok := values[m[2:len(m)-1]]; ok {
					return val
				}
				return m
			})
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			v = podName
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
			v = podNamespace
		default:
			tb.Fatalf("env %s: the test cannot resolve this source; teach envFor", e.Name)
		}
		values[e.Name] = v
		env = append(env, e.Name+"="+v)
	}
	return env
}

// The configuration in the built ConfigMap, with the Deployment's
// arguments, environment and mounted secrets, passes `statussync check`.
// The secrets are stand-in files at the same relative places, reached
// through the same environment overrides an operator would use off-cluster.
func TestConfigMapPassesCheck(t *testing.T) {
	objs := built(t)
	d := only[*appsv1.Deployment](t, objs)
	cms := map[string]*corev1.ConfigMap{}
	for _, o := range objs {
		if cm, ok := o.obj.(*corev1.ConfigMap); ok {
			cms[cm.Name] = cm
		}
	}
	c := statussyncContainer(t, d)
	files := mountedFiles(t, d, cms)

	// --config.file points at the mounted ConfigMap key.
	var configPath string
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "--config.file="); ok {
			configPath = v
		}
	}
	content, ok := files.configMaps[configPath]
	if !ok {
		t.Fatalf("--config.file=%q is not a mounted ConfigMap key (mounted: %v)", configPath, files.configMaps)
	}
	var cfg deployedConfig
	if err := yaml.Unmarshal([]byte(content), &cfg); err != nil {
		t.Fatal(err)
	}
	if !cfg.HA.Enabled {
		t.Error("ha.enabled must be true: the Deployment runs 2 replicas")
	}
	if cfg.Cachet.URL == "" {
		t.Error("cachet.url is empty: the deployment would be a dry run")
	}

	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgFile, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	// extra is what stands in for the cluster: secret files and ClouDNS.
	var extra []string
	// Every secret file the configuration names must be a mounted Secret
	// item; stand-ins take their place here.
	for key, p := range map[string]string{
		"CACHET__TOKEN_FILE":     cfg.Cachet.TokenFile,
		"CLOUDNS__PASSWORD_FILE": cfg.CloudNS.PasswordFile,
	} {
		if p == "" {
			continue
		}
		src, ok := files.secrets[p]
		if !ok {
			t.Errorf("%s is not a mounted Secret item (mounted: %v)", p, files.secrets)
			continue
		}
		local := filepath.Join(dir, strings.ReplaceAll(src, "/", "-"))
		if err := os.WriteFile(local, []byte("stand-in-for-"+strings.ReplaceAll(src, "/", "-")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		extra = append(extra, "STATUSSYNC_"+key+"="+local)
	}

	// With cloudns monitors, check also looks the checks up in the
	// account. Never from a test: a local stand-in answers as ClouDNS does
	// to bad credentials, which check reports as a warning.
	cloudns := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"status":"Failed","statusDescription":"Invalid authentication, incorrect auth-id or auth-password."}`)
	}))
	t.Cleanup(cloudns.Close)
	extra = append(extra, "STATUSSYNC_CLOUDNS__URL="+cloudns.URL)
	env := append(podEnvironment(t, d, builtServices(objs), false), extra...)

	t.Run("valid", func(t *testing.T) {
		code, out, errOut := runStatussync(t, env, "check", "--config.file="+cfgFile)
		if code != 0 || !strings.HasPrefix(out, "configuration ok:") {
			t.Fatalf("statussync check: exit %d\n%s%s", code, out, errOut)
		}
		if !strings.Contains(out, "writes to "+cfg.Cachet.URL) {
			t.Errorf("statussync check: %s: want it to write to Cachet, not a dry run", strings.TrimSpace(out))
		}
	})
	// statussync must survive a pod spec that lost enableServiceLinks:
	// false (an overlay, a Helm chart): the links are skipped, not keys.
	t.Run("with service links", func(t *testing.T) {
		linked := append(podEnvironment(t, d, builtServices(objs), true), extra...)
		code, out, errOut := runStatussync(t, linked, "check", "--config.file="+cfgFile)
		if code != 0 || !strings.HasPrefix(out, "configuration ok:") {
			t.Fatalf("statussync check with Kubernetes service links: exit %d\n%s%s", code, out, errOut)
		}
	})
	// Without the Deployment's environment the same file is rejected: the
	// lease namespace comes from the Deployment, so it must stay there.
	t.Run("needs the deployment's env", func(t *testing.T) {
		if _, err := os.Stat("/var/run/secrets/kubernetes.io/serviceaccount/namespace"); err == nil {
			t.Skip("running in a pod: statussync finds the namespace in the service account mount")
		}
		var bare []string
		for _, kv := range env {
			if !strings.HasPrefix(kv, "STATUSSYNC_HA__") {
				bare = append(bare, kv)
			}
		}
		code, out, errOut := runStatussync(t, bare, "check", "--config.file="+cfgFile)
		if code == 0 || !strings.Contains(errOut, "ha.lease_namespace") {
			t.Fatalf("statussync check without STATUSSYNC_HA__LEASE_NAMESPACE: exit %d, want a ha.lease_namespace problem\n%s%s", code, out, errOut)
		}
	})
}
