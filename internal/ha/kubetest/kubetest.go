// Package kubetest starts a real kube-apiserver, backed by a real etcd, for
// tests: both listen on 127.0.0.1 only, with state in the test's temp dir.
//
// The binaries come from scripts/kube-testenv.sh build. Tests find them
// through KUBE_TESTENV_APISERVER and KUBE_TESTENV_ETCD, or else by asking the
// script ("kube-testenv.sh env"); without them a test skips, or fails when
// KUBE_TESTENV_REQUIRED=1, as CI sets.
package kubetest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Environment variables that locate the binaries and make their absence
// fatal.
const (
	EnvAPIServer = "KUBE_TESTENV_APISERVER"
	EnvEtcd      = "KUBE_TESTENV_ETCD"
	EnvRequired  = "KUBE_TESTENV_REQUIRED"
)

// AdminToken authenticates as a member of system:masters.
const AdminToken = "statussync-kubetest-admin"

// script is the testenv script, relative to the module root.
const script = "scripts/kube-testenv.sh"

// Server is a running etcd and kube-apiserver with RBAC authorization.
type Server struct {
	// URL is the API server's address, https://127.0.0.1:<port>.
	URL string
	// CAFile verifies the API server's self-signed serving certificate.
	CAFile string
	dir    string
}

// Start starts etcd and kube-apiserver, waits until the API server is
// ready, and stops both when tb's test ends. It skips tb when the binaries
// have not been built.
func Start(tb testing.TB) *Server {
	tb.Helper()
	apiserverBin, etcdBin := Binaries(tb)
	dir := tb.TempDir()
	s := &Server{dir: dir, CAFile: filepath.Join(dir, "certs", "apiserver.crt")}

	ports := freePorts(tb, 3)
	etcdPort, peerPort, securePort := ports[0], ports[1], ports[2]
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPort)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	etcdExited := start(tb, dir, "etcd", etcdBin,
		"--name", "kubetest",
		"--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", etcdURL,
		"--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL,
		"--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "kubetest="+peerURL,
		"--unsafe-no-fsync",
	)

	writeServiceAccountKeys(tb, dir)
	tokens := filepath.Join(dir, "tokens.csv")
	writeFile(tb, tokens, AdminToken+`,admin,admin,"system:masters"`+"\n")
	s.URL = fmt.Sprintf("https://127.0.0.1:%d", securePort)
	apiserverExited := start(tb, dir, "kube-apiserver", apiserverBin,
		"--etcd-servers", etcdURL,
		"--storage-backend", "etcd3",
		"--bind-address", "127.0.0.1",
		"--advertise-address", "127.0.0.1",
		"--secure-port", fmt.Sprint(securePort),
		"--cert-dir", filepath.Join(dir, "certs"),
		"--service-cluster-ip-range", "10.0.0.0/24",
		"--service-account-issuer", "https://kubernetes.default.svc",
		"--api-audiences", "https://kubernetes.default.svc",
		"--service-account-key-file", filepath.Join(dir, "sa.pub"),
		"--service-account-signing-key-file", filepath.Join(dir, "sa.key"),
		"--token-auth-file", tokens,
		"--authorization-mode", "RBAC",
		"--endpoint-reconciler-type", "none",
		"--enable-priority-and-fairness=false",
	)
	s.waitReady(tb, 90*time.Second, map[string]<-chan struct{}{"etcd": etcdExited, "kube-apiserver": apiserverExited})
	return s
}

// Binaries returns the kube-apiserver and etcd binaries, or skips tb (fails
// it with KUBE_TESTENV_REQUIRED=1) when either is missing.
func Binaries(tb testing.TB) (apiserver, etcd string) {
	tb.Helper()
	apiserver, etcd = os.Getenv(EnvAPIServer), os.Getenv(EnvEtcd)
	if apiserver == "" || etcd == "" {
		env, err := scriptEnv()
		if err != nil {
			tb.Logf("kubetest: %v", err)
		}
		if apiserver == "" {
			apiserver = env[EnvAPIServer]
		}
		if etcd == "" {
			etcd = env[EnvEtcd]
		}
	}
	var missing []string
	for _, bin := range []string{apiserver, etcd} {
		if bin == "" {
			missing = append(missing, "(unknown path)")
		} else if _, err := os.Stat(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("kube-apiserver/etcd test binaries not found (%s): run %s build, or set %s and %s",
			strings.Join(missing, ", "), script, EnvAPIServer, EnvEtcd)
		if os.Getenv(EnvRequired) == "1" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return apiserver, etcd
}

// scriptEnv runs the testenv script's env mode, found by walking up from the
// working directory to the module root.
func scriptEnv() (map[string]string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("find %s: %w", script, err)
	}
	for {
		path := filepath.Join(dir, script)
		if _, err := os.Stat(path); err == nil {
			out, err := exec.Command("bash", path, "env").Output()
			if err != nil {
				return nil, fmt.Errorf("%s env: %w", path, err)
			}
			env := map[string]string{}
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				if k, v, ok := strings.Cut(sc.Text(), "="); ok {
					env[k] = v
				}
			}
			return env, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, fmt.Errorf("%s not found above the working directory", script)
		}
		dir = parent
	}
}

// start runs one server process with its output in dir/<name>.log, stops it
// when the test ends and shows the log's tail if the test failed. The
// returned channel is closed when the process exits.
func start(tb testing.TB, dir, name, bin string, args ...string) <-chan struct{} {
	tb.Helper()
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		tb.Fatalf("kubetest: %v", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = SysProcAttr()
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		tb.Fatalf("kubetest: start %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(exited)
	}()
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if tb.Failed() {
			tb.Logf("kubetest: tail of %s:\n%s", logPath, tail(logPath, 30))
		}
	})
	return exited
}

// waitReady waits for /readyz, failing early if a server exits.
func (s *Server) waitReady(tb testing.TB, timeout time.Duration, exited map[string]<-chan struct{}) {
	tb.Helper()
	// The serving certificate does not exist before the server does, so
	// readiness is polled without verifying it; clients verify with CAFile.
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		for name, ch := range exited {
			select {
			case <-ch:
				tb.Fatalf("kubetest: %s exited while kube-apiserver started:\n%s", name, tail(filepath.Join(s.dir, name+".log"), 30))
			default:
			}
		}
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+AdminToken)
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if _, err := os.Stat(s.CAFile); err == nil {
					return
				}
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("kubetest: kube-apiserver not ready after %v: %s\n%s", timeout, last,
		tail(filepath.Join(s.dir, "kube-apiserver.log"), 30))
}

// Host is the API server's host:port, for proxies in front of it.
func (s *Server) Host() string { return strings.TrimPrefix(s.URL, "https://") }

// Config returns a client config that authenticates with token.
func (s *Server) Config(token string) *rest.Config {
	return s.ConfigVia(s.Host(), token)
}

// ConfigVia returns a client config that reaches the API server through
// hostPort on 127.0.0.1, such as a Proxy's address.
func (s *Server) ConfigVia(hostPort, token string) *rest.Config {
	return &rest.Config{
		Host:            "https://" + hostPort,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAFile: s.CAFile},
	}
}

// AdminConfig returns a client config for a member of system:masters.
func (s *Server) AdminConfig() *rest.Config { return s.Config(AdminToken) }

// Admin returns a clientset for a member of system:masters.
func (s *Server) Admin(tb testing.TB) kubernetes.Interface {
	tb.Helper()
	rc := s.AdminConfig()
	rc.Timeout = 30 * time.Second // no test should wait longer for a request
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		tb.Fatalf("kubetest: admin client: %v", err)
	}
	return cs
}

// CreateNamespace creates namespace ns.
func (s *Server) CreateNamespace(tb testing.TB, ns string) {
	tb.Helper()
	_, err := s.Admin(tb).CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		tb.Fatalf("kubetest: create namespace %s: %v", ns, err)
	}
}

// ServiceAccountToken creates the service account ns/name if needed and
// returns a token for it, as the kubelet would mount into its pod.
func (s *Server) ServiceAccountToken(tb testing.TB, ns, name string) string {
	tb.Helper()
	ctx := context.Background()
	sas := s.Admin(tb).CoreV1().ServiceAccounts(ns)
	_, err := sas.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		tb.Fatalf("kubetest: create service account %s/%s: %v", ns, name, err)
	}
	expiry := int64(3600)
	tr, err := sas.CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry},
	}, metav1.CreateOptions{})
	if err != nil {
		tb.Fatalf("kubetest: token for %s/%s: %v", ns, name, err)
	}
	return tr.Status.Token
}

func writeServiceAccountKeys(tb testing.TB, dir string) {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatalf("kubetest: generate key: %v", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		tb.Fatalf("kubetest: marshal public key: %v", err)
	}
	writeFile(tb, filepath.Join(dir, "sa.key"), string(pem.EncodeToMemory(&pem.Block{
		Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key),
	})))
	writeFile(tb, filepath.Join(dir, "sa.pub"), string(pem.EncodeToMemory(&pem.Block{
		Type: "PUBLIC KEY", Bytes: pub,
	})))
}

func writeFile(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatalf("kubetest: %v", err)
	}
}

// freePorts returns n distinct ports on 127.0.0.1 that were free a moment
// ago: all are held open until all are chosen.
func freePorts(tb testing.TB, n int) []int {
	tb.Helper()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatalf("kubetest: free port: %v", err)
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// errClosed reports whether err only says that a connection was closed.
func errClosed(err error) bool {
	return err == nil || errors.Is(err, net.ErrClosed)
}
