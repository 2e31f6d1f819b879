// Package faultnet is a TCP proxy for fault tests: put it between the
// gateway and PostgreSQL, then make the database look down (connections
// refused and cut) or frozen (connections accepted, bytes held back, like a
// server under SIGSTOP or behind a silent network partition).
package faultnet

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Mode is what the proxy does with traffic.
type Mode int32

// The proxy's modes.
const (
	Up     Mode = iota // forward
	Down               // refuse new connections, cut existing ones
	Frozen             // accept, but forward nothing until Up
)

// Proxy forwards 127.0.0.1:<port> to a target address.
type Proxy struct {
	ln     net.Listener
	target string
	mode   atomic.Int32
	// Accepted counts connections the proxy accepted, in any mode.
	Accepted atomic.Int64

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	cond  *sync.Cond
}

// Start listens on a free loopback port and forwards to target.
func Start(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	go p.serve()
	return p, nil
}

// Addr is the proxy's listening address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Set switches the mode; Down also cuts every open connection.
func (p *Proxy) Set(m Mode) {
	p.mode.Store(int32(m))
	p.mu.Lock()
	defer p.mu.Unlock()
	if m == Down {
		for c := range p.conns {
			c.Close()
		}
	}
	p.cond.Broadcast()
}

// Close stops the proxy and cuts its connections.
func (p *Proxy) Close() {
	p.ln.Close()
	p.Set(Down)
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.Accepted.Add(1)
		if Mode(p.mode.Load()) == Down {
			c.Close()
			continue
		}
		go p.pipe(c)
	}
}

func (p *Proxy) track(c net.Conn, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
}

func (p *Proxy) pipe(client net.Conn) {
	p.track(client, true)
	defer p.track(client, false)
	defer client.Close()
	p.waitThaw()
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	p.track(server, true)
	defer p.track(server, false)
	defer server.Close()
	done := make(chan struct{}, 2)
	go func() { p.copy(server, client); done <- struct{}{} }()
	go func() { p.copy(client, server); done <- struct{}{} }()
	<-done
}

// waitThaw blocks while the proxy is frozen.
func (p *Proxy) waitThaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for Mode(p.mode.Load()) == Frozen {
		p.cond.Wait()
	}
}

func (p *Proxy) copy(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.waitThaw()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
