package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func noEnv(string) string { return "" }

func TestQuickstartAgainstTheFake(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), nil, noEnv, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"embedded fake Talkdesk",
		"GetContact(5f3e1c0a9b8d7e6f5a4b3c2d): Joana Ferreira of Lusitania Seguros, mobile +351912345678",
		"errors.Is(err, talkdesk.ErrNotFound) = true",
		"the fake received 1 token request and 2 API calls",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestQuickstartRefusesPartialCredentials(t *testing.T) {
	env := map[string]string{"TALKDESK_ACCOUNT": "acme"}
	var out bytes.Buffer
	err := run(context.Background(), nil, func(k string) string { return env[k] }, &out)
	if err == nil || !strings.Contains(err.Error(), "set all of") {
		t.Fatalf("run with only an account: %v, want an error naming the variables", err)
	}
}

func TestQuickstartRejectsBadAccount(t *testing.T) {
	env := map[string]string{"TALKDESK_ACCOUNT": "evil.com/x", "TALKDESK_CLIENT_ID": "id", "TALKDESK_CLIENT_SECRET": "s"}
	var out bytes.Buffer
	err := run(context.Background(), nil, func(k string) string { return env[k] }, &out)
	if err == nil || !strings.Contains(err.Error(), "DNS label") {
		t.Fatalf("run with a bad account: %v", err)
	}
}
