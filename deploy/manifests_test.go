package deploy

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	kustypes "sigs.k8s.io/kustomize/api/types"
)

const namespace = "statussync"

// The decoder must reject what the API server (or a strict kubectl apply)
// would, or the tests below prove nothing.
func TestDecodeStrictRejects(t *testing.T) {
	cases := []struct {
		name, doc, want string
	}{
		{
			name: "unknown field",
			doc:  "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replica: 2}\n",
			want: `unknown field "spec.replica"`,
		},
		{
			name: "field name in the wrong case",
			doc:  "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{name: http, port: 80, targetport: 80}]}\n",
			want: `unknown field "spec.ports[0].targetport"`,
		},
		{
			name: "duplicate key",
			doc:  "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: x}\nmetadata: {name: y}\n",
			want: "already set in map",
		},
		{
			name: "wrong type",
			doc:  "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: two}\n",
			want: "cannot unmarshal",
		},
		{
			name: "unknown kind",
			doc:  "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\n",
			want: `unknown kind "v1/Secret"`,
		},
		{
			name: "typo in the monitoring CRD",
			doc:  "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: x}\nspec: {endpoints: [{port: http, intervall: 30s}]}\n",
			want: `unknown field "spec.endpoints[0].intervall"`,
		},
		{
			name: "second document",
			doc:  "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: x}\n---\napiVersion: v1\nkind: ServiceAccount\nmetdata: {name: y}\n",
			want: `test[1]`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeStrict("test", []byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("decodeStrict: got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// Every file in kubernetes/ decodes strictly into its API type, and every
// one is used by kustomization.yaml: none is forgotten, none is missing.
func TestRawManifests(t *testing.T) {
	raw := rawManifests(t)
	k := only[*kustypes.Kustomization](t, raw["kustomization.yaml"])

	used := map[string]bool{"kustomization.yaml": true}
	for _, r := range k.Resources {
		used[r] = true
	}
	for _, g := range k.ConfigMapGenerator {
		for _, f := range g.FileSources {
			used[f] = true
		}
	}
	files, err := filepath.Glob(filepath.Join(manifestDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !used[filepath.Base(f)] {
			t.Errorf("%s is not used by kustomization.yaml", f)
		}
		delete(used, filepath.Base(f))
	}
	for f := range used {
		t.Errorf("kustomization.yaml uses %s, which does not exist", f)
	}
	for file, objs := range raw {
		if len(objs) == 0 {
			t.Errorf("%s has no object", file)
		}
	}
}

// `kustomize build` works offline and makes exactly the objects a working
// deployment needs, all in one namespace, with the generated ConfigMap's
// hashed name wired into the Deployment.
func TestKustomizeBuild(t *testing.T) {
	objs := built(t)
	var got []string
	for _, o := range objs {
		got = append(got, o.kind+" "+o.name)
		meta := o.obj.(metav1.Object)
		if meta.GetNamespace() != namespace {
			t.Errorf("%s %s: namespace %q, want %q", o.kind, o.name, meta.GetNamespace(), namespace)
		}
		if meta.GetLabels()["app.kubernetes.io/name"] != "statussync" {
			t.Errorf("%s %s: no app.kubernetes.io/name label", o.kind, o.name)
		}
	}
	cm := only[*corev1.ConfigMap](t, objs)
	if !strings.HasPrefix(cm.Name, "statussync-config-") {
		t.Errorf("ConfigMap %q: want the generated statussync-config-<hash>", cm.Name)
	}
	want := []string{
		"apps/v1/Deployment statussync",
		"monitoring.coreos.com/v1/PrometheusRule statussync",
		"monitoring.coreos.com/v1/ServiceMonitor statussync",
		"policy/v1/PodDisruptionBudget statussync",
		"rbac.authorization.k8s.io/v1/Role statussync-leader-election",
		"rbac.authorization.k8s.io/v1/RoleBinding statussync-leader-election",
		"v1/ConfigMap " + cm.Name,
		"v1/Service statussync",
		"v1/ServiceAccount statussync",
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("kustomize build made\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}

	d := only[*appsv1.Deployment](t, objs)
	var cmRef string
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil {
			cmRef = v.ConfigMap.Name
		}
	}
	if cmRef != cm.Name {
		t.Errorf("Deployment mounts ConfigMap %q, kustomize generated %q", cmRef, cm.Name)
	}
	if img := statussyncContainer(t, d).Image; !strings.Contains(img, "/statussync:") {
		t.Errorf("image %q: the images: entry of kustomization.yaml did not apply", img)
	}
}

// The pod passes OpenShift's restricted-v2 SCC and the "restricted" Pod
// Security Standard, and leaves the UID to the platform.
func TestDeploymentSecurityContext(t *testing.T) {
	d := only[*appsv1.Deployment](t, built(t))
	pod := d.Spec.Template.Spec
	psc := pod.SecurityContext
	if psc == nil {
		t.Fatal("no pod securityContext")
	}
	if psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Error("pod: runAsNonRoot must be true")
	}
	if psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Error("pod: seccompProfile must be RuntimeDefault")
	}
	// restricted-v2 assigns these from the namespace's range; a fixed value
	// outside it is rejected.
	if psc.RunAsUser != nil || psc.RunAsGroup != nil || psc.FSGroup != nil || len(psc.SupplementalGroups) > 0 {
		t.Error("pod: runAsUser, runAsGroup, fsGroup and supplementalGroups must be left to the platform")
	}
	if pod.HostNetwork || pod.HostPID || pod.HostIPC {
		t.Error("pod: no host namespaces")
	}
	for _, v := range pod.Volumes {
		if v.HostPath != nil {
			t.Errorf("volume %s: no hostPath", v.Name)
		}
	}

	c := statussyncContainer(t, d)
	sc := c.SecurityContext
	if sc == nil {
		t.Fatal("container: no securityContext")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("container: allowPrivilegeEscalation must be false")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("container: readOnlyRootFilesystem must be true")
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Error("container: privileged")
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Error("container: capabilities must drop ALL and add none")
	}
	if sc.RunAsUser != nil || sc.RunAsGroup != nil {
		t.Error("container: runAsUser and runAsGroup must be left to the platform")
	}
	for _, p := range c.Ports {
		if p.HostPort != 0 {
			t.Errorf("port %s: no hostPort", p.Name)
		}
	}
}

func TestDeploymentProbesAndResources(t *testing.T) {
	d := only[*appsv1.Deployment](t, built(t))
	c := statussyncContainer(t, d)
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 9470 {
		t.Fatalf("ports %+v: want one port http 9470 (statussync's default listen address)", c.Ports)
	}
	for _, tc := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{
		{"liveness", c.LivenessProbe, "/healthz"},
		{"readiness", c.ReadinessProbe, "/readyz"},
	} {
		switch {
		case tc.probe == nil || tc.probe.HTTPGet == nil:
			t.Errorf("%s: want an httpGet probe", tc.name)
		case tc.probe.HTTPGet.Path != tc.path:
			t.Errorf("%s: path %q, want %q", tc.name, tc.probe.HTTPGet.Path, tc.path)
		case tc.probe.HTTPGet.Port != intstr.FromString("http"):
			t.Errorf("%s: port %v, want http", tc.name, tc.probe.HTTPGet.Port.String())
		}
	}
	// A liveness probe that gives up before a shutdown has had its 15s would
	// kill a process that is about to exit cleanly anyway; it must at least
	// tolerate a slow check.
	if p := c.LivenessProbe; p != nil && p.PeriodSeconds*p.FailureThreshold < 20 {
		t.Errorf("liveness gives up after %ds; allow at least 20s", p.PeriodSeconds*p.FailureThreshold)
	}
	r := c.Resources
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if q, ok := r.Requests[name]; !ok || q.IsZero() {
			t.Errorf("resources: no %s request", name)
		}
	}
	if q, ok := r.Limits[corev1.ResourceMemory]; !ok || q.Cmp(r.Requests[corev1.ResourceMemory]) < 0 {
		t.Error("resources: want a memory limit at least the request")
	}
	if _, ok := r.Limits[corev1.ResourceCPU]; ok {
		t.Error("resources: no CPU limit (throttling shows up as probe latency)")
	}
	if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g == nil || *g <= 15 {
		t.Error("terminationGracePeriodSeconds must exceed statussync's 15s shutdown timeout")
	}
}

// Issue #9: two replicas on different nodes, a PDB, the downward-API env
// leader election needs, and a service account.
func TestDeploymentHA(t *testing.T) {
	objs := built(t)
	d := only[*appsv1.Deployment](t, objs)
	pod := d.Spec.Template.Spec
	podLabels := labels.Set(d.Spec.Template.Labels)

	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas: want 2")
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || !sel.Matches(podLabels) {
		t.Errorf("Deployment selector does not match its pod labels (%v)", err)
	}
	if ru := d.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
		t.Error("rolling update: maxUnavailable 0, so a bad configuration stops the rollout")
	}

	spread := false
	for _, c := range pod.TopologySpreadConstraints {
		s, err := metav1.LabelSelectorAsSelector(c.LabelSelector)
		if err != nil {
			t.Fatal(err)
		}
		if c.TopologyKey == corev1.LabelHostname && c.WhenUnsatisfiable == corev1.DoNotSchedule && c.MaxSkew == 1 && s.Matches(podLabels) {
			spread = true
		}
	}
	if !spread {
		t.Error("want a DoNotSchedule topology spread over kubernetes.io/hostname that selects the pods")
	}

	env := map[string]string{}
	for _, e := range statussyncContainer(t, d).Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil:
			env[e.Name] = "fieldRef:" + e.ValueFrom.FieldRef.FieldPath
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		}
	}
	for name, want := range map[string]string{
		"POD_NAME":                       "fieldRef:metadata.name",
		"POD_NAMESPACE":                  "fieldRef:metadata.namespace",
		"STATUSSYNC_HA__LEASE_NAMESPACE": "$(POD_NAMESPACE)",
	} {
		if env[name] != want {
			t.Errorf("env %s = %q, want %q", name, env[name], want)
		}
	}

	sa := only[*corev1.ServiceAccount](t, objs)
	if pod.ServiceAccountName != sa.Name {
		t.Errorf("serviceAccountName %q, want %q", pod.ServiceAccountName, sa.Name)
	}
	if pod.AutomountServiceAccountToken == nil || !*pod.AutomountServiceAccountToken {
		t.Error("the service account token must be mounted: leader election uses it")
	}

	pdb := only[*policyv1.PodDisruptionBudget](t, objs)
	ps, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil || !ps.Matches(podLabels) {
		t.Errorf("PodDisruptionBudget selector does not match the pods (%v)", err)
	}
	// With 2 replicas, exactly one may be disrupted at a time.
	switch {
	case pdb.Spec.MaxUnavailable != nil:
		if pdb.Spec.MaxUnavailable.IntValue() != 1 {
			t.Errorf("PodDisruptionBudget maxUnavailable %v, want 1", pdb.Spec.MaxUnavailable)
		}
	case pdb.Spec.MinAvailable != nil:
		if pdb.Spec.MinAvailable.IntValue() != 1 {
			t.Errorf("PodDisruptionBudget minAvailable %v, want 1", pdb.Spec.MinAvailable)
		}
	default:
		t.Error("PodDisruptionBudget sets neither maxUnavailable nor minAvailable")
	}
}

// Issue #9: the Role grants get, create and update on leases and nothing
// else, in statussync's namespace only, to statussync's service account.
func TestRBACLeasesOnly(t *testing.T) {
	objs := built(t)
	role := only[*rbacv1.Role](t, objs)
	verbs := map[string]bool{}
	for i, r := range role.Rules {
		if !slices.Equal(r.APIGroups, []string{"coordination.k8s.io"}) || !slices.Equal(r.Resources, []string{"leases"}) {
			t.Errorf("rule %d: %v %v, want only coordination.k8s.io leases", i, r.APIGroups, r.Resources)
		}
		if len(r.NonResourceURLs) > 0 {
			t.Errorf("rule %d: nonResourceURLs", i)
		}
		for _, v := range r.Verbs {
			if v != "get" && v != "create" && v != "update" {
				t.Errorf("rule %d: verb %q; only get, create and update", i, v)
			}
			verbs[v] = true
		}
		if len(r.ResourceNames) > 0 && !slices.Equal(r.ResourceNames, []string{haConfig(t).LeaseName}) {
			t.Errorf("rule %d: resourceNames %v, want [%s] (ha.lease_name)", i, r.ResourceNames, haConfig(t).LeaseName)
		}
	}
	if len(verbs) != 3 {
		t.Errorf("verbs %v: leader election needs get, create and update", verbs)
	}

	rb := only[*rbacv1.RoleBinding](t, objs)
	if rb.RoleRef != (rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name}) {
		t.Errorf("RoleBinding roleRef %+v, want Role %s", rb.RoleRef, role.Name)
	}
	sa := only[*corev1.ServiceAccount](t, objs)
	want := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa.Name, Namespace: namespace}}
	if !slices.Equal(rb.Subjects, want) {
		t.Errorf("RoleBinding subjects %+v, want %+v", rb.Subjects, want)
	}
}

// Prometheus finds the pods: ServiceMonitor -> Service -> container port.
func TestServiceAndServiceMonitor(t *testing.T) {
	objs := built(t)
	d := only[*appsv1.Deployment](t, objs)
	svc := only[*corev1.Service](t, objs)
	sm := only[*monitoringv1.ServiceMonitor](t, objs)

	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) || len(svc.Spec.Selector) == 0 {
		t.Errorf("Service selector %v does not select the pods", svc.Spec.Selector)
	}
	containerPorts := map[string]bool{}
	for _, p := range statussyncContainer(t, d).Ports {
		containerPorts[p.Name] = true
	}
	servicePorts := map[string]bool{}
	for _, p := range svc.Spec.Ports {
		servicePorts[p.Name] = true
		if p.TargetPort.Type != intstr.String || !containerPorts[p.TargetPort.StrVal] {
			t.Errorf("Service port %s: targetPort %v is not a named container port", p.Name, p.TargetPort.String())
		}
	}

	s, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	if err != nil || s.Empty() || !s.Matches(labels.Set(svc.Labels)) {
		t.Errorf("ServiceMonitor selector does not select the Service (%v)", err)
	}
	if len(sm.Spec.Endpoints) != 1 {
		t.Fatalf("ServiceMonitor: want one endpoint, got %d", len(sm.Spec.Endpoints))
	}
	ep := sm.Spec.Endpoints[0]
	if !servicePorts[ep.Port] || ep.Path != "/metrics" {
		t.Errorf("ServiceMonitor endpoint %s %s: want a Service port and /metrics", ep.Port, ep.Path)
	}
	// The alerts select job="statussync": the job label is the Service name
	// unless the ServiceMonitor overrides it.
	if sm.Spec.JobLabel != "" || svc.Name != "statussync" {
		t.Errorf("job label would not be %q (Service %q, jobLabel %q)", "statussync", svc.Name, sm.Spec.JobLabel)
	}
}

// kubectl and the API server read defaultMode 0444 as octal; check that
// both the YAML parser and kustomize's round trip keep it that way.
func TestSecretVolumeModes(t *testing.T) {
	raw := only[*appsv1.Deployment](t, rawManifests(t)["deployment.yaml"])
	for name, d := range map[string]*appsv1.Deployment{"raw": raw, "built": only[*appsv1.Deployment](t, built(t))} {
		n := 0
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Secret == nil {
				continue
			}
			n++
			if v.Secret.DefaultMode == nil || *v.Secret.DefaultMode != 0o444 {
				t.Errorf("%s: volume %s: defaultMode %v, want 0444", name, v.Name, v.Secret.DefaultMode)
			}
			if v.Secret.Optional != nil && *v.Secret.Optional {
				t.Errorf("%s: volume %s is optional: a missing Secret would surface as a confusing configuration error", name, v.Name)
			}
		}
		if n != 2 {
			t.Errorf("%s: %d secret volumes, want 2 (Cachet token, ClouDNS password)", name, n)
		}
	}
}

// The raw files are what people read; make sure the built output matches
// them apart from what kustomize is asked to change.
func TestBuiltDeploymentMatchesRaw(t *testing.T) {
	raw := only[*appsv1.Deployment](t, rawManifests(t)["deployment.yaml"])
	b := only[*appsv1.Deployment](t, built(t))
	if raw.Spec.Template.Spec.SecurityContext.String() != b.Spec.Template.Spec.SecurityContext.String() {
		t.Error("kustomize changed the pod securityContext")
	}
	rc, bc := statussyncContainer(t, raw), statussyncContainer(t, b)
	if rc.SecurityContext.String() != bc.SecurityContext.String() || !slices.Equal(rc.Args, bc.Args) {
		t.Error("kustomize changed the container's securityContext or args")
	}
}
