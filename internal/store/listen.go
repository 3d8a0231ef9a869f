package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// listen opens a connection of its own, outside the pool, and LISTENs on it
// for the appends of every instance.
func (p *Postgres) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, p.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("connect listener: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		closeListener(conn)
		return nil, fmt.Errorf("listen for appends: %w", err)
	}
	p.listenPID.Store(conn.PgConn().PID())
	return conn, nil
}

// runListener wakes the Waits of each channel it is notified of, until ctx
// ends. When its connection fails, it reconnects with backoff and then wakes
// every Wait, since notifications sent meanwhile are lost.
func (p *Postgres) runListener(ctx context.Context, conn *pgx.Conn) {
	defer close(p.listenDone)
	for conn != nil {
		p.receive(ctx, conn)
		closeListener(conn)
		conn = p.reconnect(ctx)
		p.notify.wakeAll()
	}
}

// receive passes the notifications of conn on to the waiters, until conn
// fails or ctx ends.
func (p *Postgres) receive(ctx context.Context, conn *pgx.Conn) {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return
		}
		if n.Payload == "" {
			p.notify.wakeAll()
		} else {
			p.notify.wake(n.Payload)
		}
	}
}

// reconnect connects the listener again, waiting longer after each failure.
// It returns nil when ctx ends first.
func (p *Postgres) reconnect(ctx context.Context) *pgx.Conn {
	backoff := listenMinBackoff
	for ctx.Err() == nil {
		conn, err := p.listen(ctx)
		if err == nil {
			return conn
		}
		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
		case <-timer.C:
		}
		backoff = min(2*backoff, listenMaxBackoff)
	}
	return nil
}

// closeListener closes conn, giving up on a polite goodbye after
// listenCloseTimeout when the server does not answer.
func closeListener(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), listenCloseTimeout)
	defer cancel()
	conn.Close(ctx)
}
