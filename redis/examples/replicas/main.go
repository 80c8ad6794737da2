// Command replicas runs two talkdesk.Clients in one program, as two replicas
// of a service would run, sharing one Talkdesk throttle and one access token
// through Redis (package tdredis).
//
//	go run ./examples/replicas -redis 127.0.0.1:6379
//
// It needs a Redis server: -redis or TALKDESK_REDIS_ADDR names one (the
// example's keys start with "talkdesk-example:" and expire by themselves).
// With neither, it starts a private redis-server from the PATH for the run
// (on Debian: apt-get install redis-server), and without that it says how
// to get one. It runs against an embedded fake Talkdesk (package
// talkdesktest) and prints when each call reached it.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/talkdeskgo/talkdesk"
	tdredis "github.com/talkdeskgo/talkdesk/redis"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, exec.LookPath, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "replicas:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its arguments, environment, PATH lookup
// and output given, so that a test can run it.
func run(ctx context.Context, args []string, getenv func(string) string, lookPath func(string) (string, error), out io.Writer) error {
	flags := flag.NewFlagSet("replicas", flag.ContinueOnError)
	flags.SetOutput(out)
	addr := flags.String("redis", getenv("TALKDESK_REDIS_ADDR"), "host:port of a Redis server (default $TALKDESK_REDIS_ADDR, else a private redis-server)")
	calls := flags.Int("calls", 8, "calls each replica makes")
	limit := flags.Int("limit", 5, "shared limit: calls per -per")
	per := flags.Duration("per", time.Second, "shared limit: window")
	if err := flags.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	if *addr == "" {
		path, err := lookPath("redis-server")
		if err != nil {
			return errors.New("needs a Redis server: pass -redis host:port or set TALKDESK_REDIS_ADDR, " +
				"or put redis-server on the PATH (Debian: apt-get install redis-server) for a private one")
		}
		private, stop, err := startRedis(ctx, path)
		if err != nil {
			return err
		}
		defer stop()
		*addr = private
		fmt.Fprintf(out, "started a private redis-server on %s\n", private)
	}
	rdb := redis.NewClient(&redis.Options{Addr: *addr})
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("cannot reach Redis at %s: %w", *addr, err)
	}

	fake := talkdesktest.NewServer()
	defer fake.Close()
	contact := fake.AddContact(talkdesk.Contact{Name: "Joana Ferreira"})
	fmt.Fprintf(out, "embedded fake Talkdesk at %s; Redis at %s\n", fake.URL, *addr)

	// Both replicas use the same keys: the key names the Talkdesk
	// connection. A fresh prefix per run keeps runs apart.
	prefix := "talkdesk-example:" + randomHex(6) + ":"
	defer rdb.Del(context.WithoutCancel(ctx), prefix+"token")
	names := []string{"A", "B"}
	clients := make([]*talkdesk.Client, len(names))
	for i := range names {
		c, limiter, err := newReplica(rdb, prefix, fake, *limit, *per)
		if err != nil {
			return err
		}
		clients[i] = c
		fmt.Fprintf(out, "replica %s: shared limit of %v\n", names[i], limiter)
	}

	start := time.Now()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for i, c := range clients {
		wg.Go(func() {
			for range *calls {
				got, err := c.GetContact(ctx, contact.ID)
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = fmt.Errorf("replica %s: %w", names[i], err)
					}
				} else {
					fmt.Fprintf(out, "%7.3fs  replica %s  GetContact: %s\n", time.Since(start).Seconds(), names[i], got.Name)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}

	path := "/contacts/" + contact.ID
	most, total := fake.MaxInWindow("GET", path, *per), fake.Count("GET", path)
	fmt.Fprintf(out, "%d replicas made %d calls in %.1fs; the fake saw at most %d in any %v window and %d token request(s)\n",
		len(clients), total, time.Since(start).Seconds(), most, *per, fake.TokenRequests())
	return nil
}

// newReplica builds a Client as one replica of a service would: its own
// Limiter and TokenSource, over keys every replica shares.
func newReplica(rdb *redis.Client, prefix string, fake *talkdesktest.Server, limit int, per time.Duration) (*talkdesk.Client, *tdredis.Limiter, error) {
	limiter, err := tdredis.NewLimiter(rdb, prefix+"limit", limit, per)
	if err != nil {
		return nil, nil, err
	}
	id, secret := fake.Credentials()
	cfg := &clientcredentials.Config{
		ClientID:     id,
		ClientSecret: secret,
		TokenURL:     fake.URL + talkdesktest.TokenPath,
		Scopes:       talkdesk.ConnectorScopes(),
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	base := tdredis.TokenSourceFunc(func() (*oauth2.Token, error) { return cfg.Token(context.Background()) })
	tokens, err := tdredis.NewTokenSource(rdb, prefix+"token", base)
	if err != nil {
		return nil, nil, err
	}
	c, err := talkdesk.NewClient(
		talkdesk.WithBaseURL(fake.URL),
		talkdesk.WithTokenSource(tokens),
		talkdesk.WithLimiter(limiter),
	)
	return c, limiter, err
}

// startRedis starts redis-server (at path) on a free loopback port, without
// persistence, in a temporary directory, and returns its address and a
// function that stops it and removes the directory.
func startRedis(ctx context.Context, path string) (addr string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "replicas-redis-")
	if err != nil {
		return "", nil, err
	}
	for range 5 { // a port taken between freePort and the start: try another
		port, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return "", nil, err
		}
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		cmd := exec.Command(path, "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
			"--save", "", "--appendonly", "no", "--dir", dir)
		if err := cmd.Start(); err != nil {
			os.RemoveAll(dir)
			return "", nil, fmt.Errorf("starting %s: %w", path, err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		kill := func() {
			cmd.Process.Kill()
			<-exited
		}
		if waitForRedis(ctx, addr, exited) {
			return addr, func() { kill(); os.RemoveAll(dir) }, nil
		}
		kill()
	}
	os.RemoveAll(dir)
	return "", nil, fmt.Errorf("could not start %s on a free loopback port", path)
}

// waitForRedis pings addr until it answers (true), the server exits or 5
// seconds pass.
func waitForRedis(ctx context.Context, addr string, exited <-chan struct{}) bool {
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rdb.Close()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if rdb.Ping(ctx).Err() == nil {
			return true
		}
		select {
		case <-exited:
			return false
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}

// freePort returns a loopback TCP port nobody listened on a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
