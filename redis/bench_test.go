package tdredis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
	tdredis "github.com/talkdeskgo/talkdesk/redis"
)

// BenchmarkWait measures what one Wait costs when the limit lets the
// request start at once: impl=redis is the shared Limiter (one Lua script
// on a loopback redis-server), impl=local the in-process WindowLimiter that
// a Client uses by default. Both are given limits that never make a Wait
// wait: the Redis one a burst of nearly 2^20 (after which one request per
// 2^20 ms), the local one 2^20 per millisecond.
//
//	TALKDESK_TEST_REDIS_ADDR=127.0.0.1:6390 go test -run '^$' -bench Wait -count 10 > out.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /impl out.txt
func BenchmarkWait(b *testing.B) {
	rdb, prefix := testRedis(b)
	ctx := context.Background()
	run := 0
	b.Run("impl=redis", func(b *testing.B) {
		run++ // a fresh key, so that every run starts with the whole burst
		const n = 1 << 20
		l, err := tdredis.NewLimiter(rdb, fmt.Sprintf("%sbench-%d", prefix, run), n, n*time.Millisecond, tdredis.WithBurst(n-1))
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if err := l.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=local", func(b *testing.B) {
		l, err := talkdesk.NewWindowLimiter(1<<20, time.Millisecond)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if err := l.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
