package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

func noEnv(string) string { return "" }

func TestQuickstartAgainstTheFake(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), nil, noEnv, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"embedded fake Talkdesk",
		"2. CreateUser(rui.almeida@example.com): id ",
		"3. GetUserByEmail(rui.almeida@example.com): Rui Almeida, active true",
		"4. GetContact(5f3e1c0a9b8d7e6f5a4b3c2d): Joana Ferreira of Lusitania Seguros, mobile +351912345678",
		"5. CreateCallback(+14155550100 -> +351912345678): queued",
		"errors.Is(err, talkdesk.ErrNotFound) = true",
		"the fake received 1 token request and 5 API calls, and queued 1 callback",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// realEnv makes the quickstart treat srv as real Talkdesk: credentials in
// the environment, base and token URL pointing at it.
func realEnv(srv *talkdesktest.Server) func(string) string {
	id, secret := srv.Credentials()
	env := map[string]string{
		"TALKDESK_ACCOUNT": talkdesktest.Account, "TALKDESK_CLIENT_ID": id, "TALKDESK_CLIENT_SECRET": secret,
		"TALKDESK_BASE_URL": srv.URL, "TALKDESK_TOKEN_URL": srv.URL + talkdesktest.TokenPath,
	}
	return func(k string) string { return env[k] }
}

// Against real Talkdesk the quickstart only reads unless -write is given.
func TestQuickstartOnlyReadsWithoutWrite(t *testing.T) {
	srv := talkdesktest.NewServer()
	defer srv.Close()
	contact := srv.AddContact(talkdesk.Contact{Name: "Ada"})
	srv.AddUser(talkdesk.User{Email: "ana@example.com", Name: "Ana Sousa"})
	args := []string{"-contact", contact.ID, "-email", "ana@example.com",
		"-new-user", "rui@example.com", "-given", "Rui", "-family", "Almeida",
		"-talkdesk-number", "+14155550100", "-contact-number", "+351912345678"}

	var out bytes.Buffer
	if err := run(context.Background(), args, realEnv(srv), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		`Running against Talkdesk account "talkdesktest"`,
		"2. CreateUser(rui@example.com): skipped, pass -write",
		"3. GetUserByEmail(ana@example.com): Ana Sousa",
		"4. GetContact(" + contact.ID + "): Ada",
		"5. CreateCallback(+14155550100 -> +351912345678): skipped, pass -write",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	for _, r := range srv.Requests() {
		if r.Method != "GET" && r.Path != talkdesktest.TokenPath {
			t.Errorf("without -write the quickstart sent %s %s", r.Method, r.Path)
		}
	}

	out.Reset()
	if err := run(context.Background(), append([]string{"-write"}, args...), realEnv(srv), &out); err != nil {
		t.Fatalf("run -write: %v\n%s", err, out.String())
	}
	if srv.Acted(talkdesktest.OpCreateUser) != 1 || len(srv.Callbacks()) != 1 {
		t.Errorf("with -write: %d users created, %d callbacks, want 1 and 1\n%s", srv.Acted(talkdesktest.OpCreateUser), len(srv.Callbacks()), out.String())
	}
}

func TestQuickstartWithNothingToDo(t *testing.T) {
	srv := talkdesktest.NewServer()
	defer srv.Close()
	var out bytes.Buffer
	if err := run(context.Background(), nil, realEnv(srv), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "nothing to do") || len(srv.Requests()) != 0 {
		t.Errorf("with no flags: %d requests\n%s", len(srv.Requests()), out.String())
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
