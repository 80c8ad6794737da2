package reliability_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/internal/testkit"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

// TestSecretsNeverShow collects everything a user could print or log: the
// formatted Client, every error of a run through refusals and rejections,
// and the debug log. None may contain the client secret or a token.
func TestSecretsNeverShow(t *testing.T) {
	srv, id := testkit.NewFake(t)
	clientID, secret := srv.Credentials()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := testkit.FakeClient(t, srv, talkdesk.WithLogger(logger))
	ctx := context.Background()

	var said []string
	note := func(err error) {
		if err != nil {
			said = append(said, err.Error(), fmt.Sprintf("%+v %#v", err, err))
		}
	}
	_, err := c.GetContact(ctx, id)
	note(err)
	srv.RevokeTokens()
	_, err = c.GetContact(ctx, id)
	note(err)
	srv.InjectFault(talkdesktest.Fault{Status: http.StatusUnauthorized})
	_, err = c.GetContact(ctx, id)
	note(err)
	if err == nil {
		t.Fatal("no error for a rejected token")
	}
	srv.ClearFaults()

	// A token endpoint and an API that echo everything they were sent.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		all := fmt.Sprintf("%v %v", r.Header, r.PostForm)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": all, "code": all, "message": all})
	}))
	defer echo.Close()
	c2, err := talkdesk.NewClient(talkdesk.WithBaseURL(echo.URL), talkdesk.WithTokenURL(echo.URL+"/oauth/token"),
		talkdesk.WithClientCredentials("acme", clientID, secret), talkdesk.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c2.GetContact(ctx, id)
	note(err)
	c3 := testkit.FakeClient(t, srv, talkdesk.WithBaseURL(echo.URL), talkdesk.WithLogger(logger))
	_, err = c3.GetContact(ctx, id)
	note(err)

	for _, cl := range []*talkdesk.Client{c, c2} {
		said = append(said, fmt.Sprintf("%v %+v %#v %s %q %x %d", cl, cl, cl, cl, cl, cl, cl))
		said = append(said, fmt.Sprintf("%v %+v", *cl, *cl))
		logger.Info("client", "client", cl)
		slog.New(slog.NewJSONHandler(&logs, nil)).Info("client", "client", cl)
	}
	said = append(said, logs.String())

	secrets := []string{secret}
	for _, r := range srv.Requests() {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			secrets = append(secrets, tok)
		}
	}
	if len(secrets) < 3 {
		t.Fatalf("only %d secrets collected; the test is not seeing the tokens", len(secrets))
	}
	for _, s := range said {
		for _, sec := range secrets {
			if strings.Contains(s, sec) {
				t.Errorf("secret %.6s… shows in:\n%s", sec, s)
			}
		}
	}
	if !strings.Contains(said[len(said)-2], "talkdesk.Client{") {
		t.Errorf("the formatted client says nothing useful: %s", said[len(said)-2])
	}
}
