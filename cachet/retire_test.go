package cachet

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/statussync/statussync/internal/testkit"
)

// TestClosedClientKeepsNoConnection: after CloseIdleConnections (a reload
// replaced the client, or shutdown), no request leaves a connection open,
// neither one sent later (a reconciler pass or token check still waiting
// for the rate limiter) nor one in flight at the time. Before, such a
// connection stayed idle in the pool of a client nobody closed again, a
// goroutine leak after shutdown (TestReloadStorm).
func TestClosedClientKeepsNoConnection(t *testing.T) {
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	hold, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("hold") != "" {
			close(hold)
			<-release
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":"Pong!"}`))
	}))
	srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch st {
		case http.StateNew:
			open[c] = true
		case http.StateClosed, http.StateHijacked:
			delete(open, c)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	openConns := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(open)
	}
	ctx := context.Background()

	t.Run("request after close", func(t *testing.T) {
		c := newClient(t, srv.URL)
		if err := c.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		c.CloseIdleConnections()
		if err := c.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		testkit.Eventually(t, 5*time.Second, "no connection left open", func() bool { return openConns() == 0 })
	})
	t.Run("request in flight at close", func(t *testing.T) {
		c := newClient(t, srv.URL)
		done := make(chan error, 1)
		go func() {
			_, err := c.do(ctx, apiRequest{op: opPing, method: http.MethodGet, path: "/ping", query: map[string][]string{"hold": {"1"}}})
			done <- err
		}()
		<-hold
		c.CloseIdleConnections()
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		testkit.Eventually(t, 5*time.Second, "no connection left open", func() bool { return openConns() == 0 })
	})
}
