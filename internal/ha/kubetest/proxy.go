package kubetest

import (
	"net"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Mode is what a Proxy does with traffic.
type Mode int

// The Proxy modes.
const (
	// Forward passes traffic both ways.
	Forward Mode = iota
	// Reset closes every connection and closes new ones as soon as they are
	// accepted, like a host that refuses connections.
	Reset
	// Blackhole keeps connections open but drops everything sent on them,
	// like a partition that loses packets: requests hang until they time
	// out. Returning to Forward closes the connections that lost data.
	Blackhole
)

// Proxy forwards TCP connections on 127.0.0.1 to a target, and can cut
// them, standing in for a network partition between one client and the API
// server.
type Proxy struct {
	target string
	l      net.Listener
	wg     sync.WaitGroup

	mu     sync.Mutex
	mode   Mode
	conns  map[*proxyConn]struct{}
	closed bool
}

type proxyConn struct {
	client, upstream net.Conn // upstream is nil when accepted in a blackhole
	dropping         bool     // guarded by Proxy.mu
}

func (c *proxyConn) close() {
	_ = c.client.Close()
	if c.upstream != nil {
		_ = c.upstream.Close()
	}
}

// NewProxy starts a Proxy to target in Forward mode and stops it when tb's
// test ends.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("kubetest: proxy listen: %v", err)
	}
	p := &Proxy{target: target, l: l, conns: map[*proxyConn]struct{}{}}
	p.wg.Add(1)
	go p.serve(tb)
	tb.Cleanup(func() { p.close(tb) })
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.l.Addr().String() }

// Set switches the proxy to mode m.
func (p *Proxy) Set(m Mode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	for c := range p.conns {
		switch {
		case m == Reset, m == Forward && c.dropping:
			c.close()
			delete(p.conns, c)
		case m == Blackhole:
			c.dropping = true
		}
	}
}

func (p *Proxy) serve(tb testing.TB) {
	defer p.wg.Done()
	for {
		client, err := p.l.Accept()
		if err != nil {
			if !errClosed(err) {
				tb.Logf("kubetest: proxy accept: %v", err)
			}
			return
		}
		p.mu.Lock()
		mode := p.mode
		p.mu.Unlock()
		c := &proxyConn{client: client}
		switch mode {
		case Reset:
			_ = client.Close()
			continue
		case Blackhole:
			c.dropping = true
		case Forward:
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				_ = client.Close()
				continue
			}
			c.upstream = up
		}
		p.mu.Lock()
		if p.closed || p.mode != mode {
			// Set or close ran since the accept: drop this connection
			// rather than serve it in the wrong mode or leak it.
			p.mu.Unlock()
			c.close()
			continue
		}
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, c.client, c.upstream)
		go p.pipe(c, c.upstream, c.client)
	}
}

// pipe copies src to dst until either closes, dropping what it reads while
// c is blackholed. A nil end reads nothing or drops everything.
func (p *Proxy) pipe(c *proxyConn, src, dst net.Conn) {
	defer p.wg.Done()
	if src == nil {
		return
	}
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
		c.close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			drop := c.dropping
			p.mu.Unlock()
			if !drop && dst != nil {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *Proxy) close(tb testing.TB) {
	_ = p.l.Close()
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.close()
		delete(p.conns, c)
	}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		buf := make([]byte, 1<<20)
		tb.Errorf("kubetest: proxy connections still open 10s after close; goroutines:\n%s", buf[:runtime.Stack(buf, true)])
	}
}
