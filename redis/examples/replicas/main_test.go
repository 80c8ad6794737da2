package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func noEnv(string) string { return "" }

func checkOutput(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestReplicasWithRedis(t *testing.T) {
	addr := os.Getenv("TALKDESK_TEST_REDIS_ADDR")
	if addr == "" {
		t.Skip("set TALKDESK_TEST_REDIS_ADDR=host:port of a redis-server to run this test (.ci/run does)")
	}
	var out bytes.Buffer
	args := []string{"-redis", addr, "-calls", "3", "-limit", "4", "-per", "200ms"}
	if err := run(context.Background(), args, noEnv, exec.LookPath, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	checkOutput(t, out.String(),
		"shared limit of 4 requests per 200ms",
		"replica A  GetContact: Joana Ferreira",
		"replica B  GetContact: Joana Ferreira",
		"2 replicas made 6 calls",
		"and 1 token request(s)",
	)
}

func TestReplicasStartsItsOwnRedis(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not on the PATH")
	}
	var out bytes.Buffer
	args := []string{"-calls", "2", "-limit", "4", "-per", "200ms"}
	if err := run(context.Background(), args, noEnv, exec.LookPath, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	checkOutput(t, out.String(), "started a private redis-server on 127.0.0.1:", "2 replicas made 4 calls", "and 1 token request(s)")
}

func TestReplicasWithoutRedis(t *testing.T) {
	noRedis := func(string) (string, error) { return "", exec.ErrNotFound }
	var out bytes.Buffer
	err := run(context.Background(), nil, noEnv, noRedis, &out)
	if err == nil {
		t.Fatal("run without Redis succeeded")
	}
	for _, want := range []string{"-redis host:port", "TALKDESK_REDIS_ADDR", "apt-get install redis-server"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
