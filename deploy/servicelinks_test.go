package deploy

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// linkName is how the kubelet turns a Service or port name into a variable
// name: upper case, dashes as underscores.
func linkName(s string) string { return strings.ToUpper(strings.ReplaceAll(s, "-", "_")) }

// serviceLinks is the environment the kubelet gives a pod for the Services
// of its namespace (with enableServiceLinks unset or true), documented in
// "Discovering services: environment variables": <SVC>_SERVICE_HOST,
// <SVC>_SERVICE_PORT, <SVC>_SERVICE_PORT_<PORTNAME> for named ports, and the
// Docker-link variables <SVC>_PORT and <SVC>_PORT_<n>_<PROTO>[_PROTO|_PORT|
// _ADDR]. clusterIP stands in for the address the cluster assigns.
func serviceLinks(services []*corev1.Service, clusterIP string) []string {
	var env []string
	for _, s := range services {
		if s.Spec.ClusterIP == corev1.ClusterIPNone || len(s.Spec.Ports) == 0 {
			continue // headless Services get no links
		}
		svc := linkName(s.Name)
		env = append(env,
			svc+"_SERVICE_HOST="+clusterIP,
			svc+"_SERVICE_PORT="+strconv.Itoa(int(s.Spec.Ports[0].Port)))
		for _, p := range s.Spec.Ports {
			if p.Name != "" {
				env = append(env, svc+"_SERVICE_PORT_"+linkName(p.Name)+"="+strconv.Itoa(int(p.Port)))
			}
		}
		for i, p := range s.Spec.Ports {
			proto := string(p.Protocol)
			if proto == "" {
				proto = string(corev1.ProtocolTCP)
			}
			url := strings.ToLower(proto) + "://" + net.JoinHostPort(clusterIP, strconv.Itoa(int(p.Port)))
			if i == 0 {
				env = append(env, svc+"_PORT="+url)
			}
			base := fmt.Sprintf("%s_PORT_%d_%s", svc, p.Port, strings.ToUpper(proto))
			env = append(env,
				base+"="+url,
				base+"_PROTO="+strings.ToLower(proto),
				base+"_PORT="+strconv.Itoa(int(p.Port)),
				base+"_ADDR="+clusterIP)
		}
	}
	return env
}

// podEnvironment is the whole environment the statussync container of d
// gets: the API server's links (always injected), the namespace's Service
// links unless the pod disables them (or all of them when forceLinks), then
// the container's own env, which wins.
func podEnvironment(tb testing.TB, d *appsv1.Deployment, services []*corev1.Service, forceLinks bool) []string {
	tb.Helper()
	apiServer := &corev1.Service{}
	apiServer.Name = "kubernetes"
	apiServer.Spec.Ports = []corev1.ServicePort{{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP}}
	env := serviceLinks([]*corev1.Service{apiServer}, "172.30.0.1")
	links := d.Spec.Template.Spec.EnableServiceLinks
	if forceLinks || links == nil || *links {
		env = append(env, serviceLinks(services, "172.30.41.7")...)
	}
	return append(env, envFor(tb, statussyncContainer(tb, d), "statussync-7d9f8-abcde", namespace)...)
}

// The kubelet's variables for this build's Service are the ones issue #15
// reported (STATUSSYNC_SERVICE_HOST, STATUSSYNC_PORT,
// STATUSSYNC_PORT_9470_TCP_ADDR), so the check below is not vacuous.
func TestServiceLinksOfTheBuild(t *testing.T) {
	objs := built(t)
	env := strings.Join(serviceLinks(builtServices(objs), "172.30.41.7"), "\n")
	for _, want := range []string{"STATUSSYNC_SERVICE_HOST=", "STATUSSYNC_PORT=tcp://", "STATUSSYNC_PORT_9470_TCP_ADDR=", "STATUSSYNC_SERVICE_PORT_HTTP="} {
		if !strings.Contains(env, want) {
			t.Errorf("no %s in the service links:\n%s", want, env)
		}
	}
	d := only[*appsv1.Deployment](t, objs)
	if l := d.Spec.Template.Spec.EnableServiceLinks; l == nil || *l {
		t.Error("the pod spec must set enableServiceLinks: false (the Service named statussync would inject STATUSSYNC_ variables)")
	}
}

func builtServices(objs []object) []*corev1.Service {
	var out []*corev1.Service
	for _, o := range objs {
		if s, ok := o.obj.(*corev1.Service); ok {
			out = append(out, s)
		}
	}
	return out
}
