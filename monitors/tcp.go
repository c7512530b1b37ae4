package monitors

import (
	"context"
	"net"

	"github.com/statussync/statussync/config"
)

// tcpMonitor connects to a TCP address.
type tcpMonitor struct {
	spec *config.TCPProbe
}

var _ Monitor = (*tcpMonitor)(nil)

func newTCPMonitor(spec config.MonitorSpec, _ Deps) (Monitor, error) {
	return &tcpMonitor{spec: spec.TCP}, nil
}

func (m *tcpMonitor) Check(ctx context.Context) Result {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.spec.Address)
	if err != nil {
		return Result{Status: StatusDown, Reason: "connection failed", Err: err}
	}
	_ = conn.Close()
	return Result{Status: StatusUp}
}
