package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/monitors"
)

// targetInfo is what the serve-target child prints on its first line.
type targetInfo struct {
	HTTP, HTTPS string
	CertPEM     string
}

// serveTarget serves a minimal 200 "ok" over HTTP and HTTPS until stdin
// closes. It runs in its own process so that its CPU time is not counted
// as the prober's.
func serveTarget() {
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	plain := httptest.NewServer(h)
	secure := httptest.NewTLSServer(h)
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: secure.Certificate().Raw})
	_ = json.NewEncoder(os.Stdout).Encode(targetInfo{HTTP: plain.URL, HTTPS: secure.URL, CertPEM: string(cert)})
	_, _ = io.Copy(io.Discard, os.Stdin)
	plain.Close()
	secure.Close()
}

// cpuTime is this process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runProbeCost compares the CPU time of statussync's http monitor with a
// minimal net/http client doing the same requests (a fresh connection
// each, the body read, the status checked), in interleaved blocks in the
// same process, with and without TLS.
func runProbeCost(ctx context.Context, e *env) ([]row, []string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, self, "serve-target")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
	var info targetInfo
	if err := json.NewDecoder(stdout).Decode(&info); err != nil {
		return nil, nil, fmt.Errorf("target: %w", err)
	}
	caFile := filepath.Join(e.tmp, "target-ca.pem")
	if err := os.WriteFile(caFile, []byte(info.CertPEM), 0o600); err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(info.CertPEM)) {
		return nil, nil, errors.New("target certificate unreadable")
	}

	cfgPath := filepath.Join(e.tmp, "probe.yml")
	cfgText := fmt.Sprintf(`
monitors:
  - {name: plain, interval: 60s, timeout: 10s, http: {url: %q, valid_status_codes: [200]}}
  - {name: tls, interval: 60s, timeout: 10s, http: {url: %q, valid_status_codes: [200], tls_config: {ca_file: %q}}}
`, info.HTTP+"/health", info.HTTPS+"/health", caFile)
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		return nil, nil, err
	}
	cfg, err := config.Load(cfgPath, nil)
	if err != nil {
		return nil, nil, err
	}
	deps := monitors.Deps{Logger: slog.New(slog.DiscardHandler), Metrics: monitors.NewMetrics(prometheus.NewRegistry())}

	var rows []row
	var notes []string
	for i, spec := range cfg.Monitors {
		mon, err := monitors.New(spec, deps)
		if err != nil {
			return nil, nil, err
		}
		url := info.HTTP + "/health"
		if i == 1 {
			url = info.HTTPS + "/health"
		}
		tr := &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{RootCAs: pool}}
		client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		statussync := func() error {
			ctx, cancel := context.WithTimeout(ctx, spec.Timeout)
			defer cancel()
			// As the scheduler runs checks: no detail strings.
			if r := mon.Check(monitors.WithoutDetails(ctx)); r.Status != monitors.StatusUp {
				return fmt.Errorf("monitor %s: %s: %v", spec.Name, r.Reason, r.Err)
			}
			return nil
		}
		baseline := func() error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if err == nil && resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
			return err
		}
		var allocS, allocB uint64 // bytes allocated in the measured blocks
		block := func(f func() error, n int) (time.Duration, error) {
			runtime.GC()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			start := cpuTime()
			for range n {
				if err := f(); err != nil {
					return 0, err
				}
			}
			d := cpuTime() - start
			runtime.ReadMemStats(&m1)
			if reflect.ValueOf(f).Pointer() == reflect.ValueOf(statussync).Pointer() {
				allocS += m1.TotalAlloc - m0.TotalAlloc
			} else {
				allocB += m1.TotalAlloc - m0.TotalAlloc
			}
			return d, nil
		}
		// Warm both paths (code, TLS, connection setup) before measuring.
		if _, err := block(statussync, 100); err != nil {
			return nil, nil, err
		}
		if _, err := block(baseline, 100); err != nil {
			return nil, nil, err
		}
		allocS, allocB = 0, 0
		var cpuS, cpuB time.Duration
		n := e.opts.probeN
		for r := range e.opts.probeRounds {
			order := []bool{true, false}
			if r%2 == 1 {
				order = []bool{false, true}
			}
			for _, isS := range order {
				f := baseline
				if isS {
					f = statussync
				}
				d, err := block(f, n)
				if err != nil {
					return nil, nil, err
				}
				if isS {
					cpuS += d
				} else {
					cpuB += d
				}
			}
			tr.CloseIdleConnections()
		}
		measuredS, measuredB := allocS, allocB
		if e.opts.probeProfile != "" && i == 0 {
			// One more block of each side, profiled, outside the measurement.
			for _, p := range []struct {
				file string
				f    func() error
			}{{e.opts.probeProfile, statussync}, {e.opts.probeProfile + ".baseline", baseline}} {
				out, err := os.Create(p.file)
				if err != nil {
					return nil, nil, err
				}
				if err := pprof.StartCPUProfile(out); err != nil {
					return nil, nil, err
				}
				_, err = block(p.f, n)
				pprof.StopCPUProfile()
				_ = out.Close()
				if err != nil {
					return nil, nil, err
				}
				logf("probe: CPU profile in %s", p.file)
			}
		}
		total := n * e.opts.probeRounds
		perS, perB := cpuS/time.Duration(total), cpuB/time.Duration(total)
		ratio := float64(cpuS) / float64(cpuB)
		name, limit := "HTTP", 1.0
		if i == 1 {
			name, limit = "HTTPS", 1.05
		}
		kbS, kbB := float64(measuredS)/float64(total)/1024, float64(measuredB)/float64(total)/1024
		logf("probe %s: statussync %v (%.1f KiB), net/http %v (%.1f KiB) per probe, ratio %.3f", name, perS, kbS, perB, kbB, ratio)
		rows = append(rows, row{
			name: fmt.Sprintf("1. Probe CPU, %s, fresh connection (%d probes each)", name, total),
			measured: fmt.Sprintf("%.1f µs vs %.1f µs net/http: ratio **%.2f** (allocs %.1f vs %.1f KiB/probe)",
				us(perS), us(perB), ratio, kbS, kbB),
			target:  fmt.Sprintf("ratio ≤ %.2f", limit),
			verdict: verdict(ratio, limit, ""),
		})
	}
	notes = append(notes, fmt.Sprintf("Probe cost: user+system CPU of this process (getrusage) over %d interleaved blocks of %d probes per side, "+
		"after 100 warm-up probes; the target runs in a child process so that its CPU is not counted. The baseline is one http.Client with "+
		"keep-alive off (a fresh TCP and TLS handshake per request, like the monitor), reading the body and checking the status.", 2*e.opts.probeRounds, e.opts.probeN))
	return rows, notes, nil
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
