//lint:file-ignore SA1019 SubscribePresence is deprecated but still carries the broker password: the sweep must cover it.

package reliability_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/internal/testkit"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
	"golang.org/x/oauth2"
)

// sweep gathers what a user could see: error texts, formatted values and
// log output.
type sweep struct {
	mu   sync.Mutex
	said []string
}

// note records errors (their text and %+v) and any other value formatted
// with %v, %+v and %#v.
func (s *sweep) note(vals ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vals {
		switch v := v.(type) {
		case nil:
		case error:
			for e := v; e != nil; e = errors.Unwrap(e) {
				s.said = append(s.said, e.Error())
			}
			s.said = append(s.said, fmt.Sprintf("%+v", v))
		default:
			s.said = append(s.said, fmt.Sprintf("%v %+v %#v", v, v, v))
		}
	}
}

// TestSecretSweep drives every part of the SDK that holds a secret (the
// client secret, access and refresh tokens, the webhook secret, the
// presence broker password, a bridge's credentials, the event log's API
// keys) through success and
// failure, with every logger at Debug level, the default logger included,
// and every error collected; then it looks for each secret in all of it.
func TestSecretSweep(t *testing.T) {
	var logs testkit.SyncBuffer
	debug := &slog.HandlerOptions{Level: slog.LevelDebug}
	logger := slog.New(slog.NewTextHandler(&logs, debug))
	jsonLogger := slog.New(slog.NewJSONHandler(&logs, debug))
	prev := slog.Default()
	slog.SetDefault(logger)
	t.Cleanup(func() { slog.SetDefault(prev) })

	sw := &sweep{}
	ctx := context.Background()
	srv, contactID := testkit.NewFake(t)
	clientID, clientSecret := srv.Credentials()
	secrets := map[string]string{"client secret": clientSecret}
	basics := map[string]string{clientSecret: clientID} // client secrets, each with its client ID

	// The client: calls, a refresh after revocation, rejections, a wrong secret.
	c := testkit.FakeClient(t, srv, talkdesk.WithLogger(logger), testkit.NoBackoff)
	_, err := c.GetContact(ctx, contactID)
	sw.note(err)
	srv.RevokeTokens()
	_, err = c.GetContact(ctx, contactID)
	sw.note(err)
	srv.InjectFault(talkdesktest.Fault{Path: "/contacts/" + contactID, Status: http.StatusUnauthorized, Count: 2})
	_, err = c.GetContact(ctx, contactID)
	sw.note(err)
	// An answer that repeats the bearer token the client is using.
	reqs := srv.Requests()
	current := strings.TrimPrefix(reqs[len(reqs)-1].Header.Get("Authorization"), "Bearer ")
	srv.InjectFault(talkdesktest.Fault{Path: "/contacts/" + contactID, Status: http.StatusForbidden, Count: 1,
		Body: `{"code":"0403001","message":"token ` + current + ` lacks contacts:read","description":"Bearer ` + current + `"}`})
	_, err = c.GetContact(ctx, contactID)
	if !errors.Is(err, talkdesk.ErrForbidden) {
		t.Fatalf("GetContact with the echoing 403: %v", err)
	}
	sw.note(err)
	srv.InjectFault(talkdesktest.Fault{Path: "/calls/callback", Status: http.StatusInternalServerError, Count: 1})
	sw.note(c.CreateCallback(ctx, &talkdesk.CallbackRequest{TalkdeskPhoneNumber: "+14155550100", ContactPhoneNumber: "+351912345678"}))
	wrong, err := talkdesk.NewClient(talkdesk.WithBaseURL(srv.URL), talkdesk.WithTokenURL(srv.URL+talkdesktest.TokenPath),
		talkdesk.WithClientCredentials(talkdesktest.Account, clientID, clientSecret+"-wrong"), talkdesk.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	secrets["wrong client secret"] = clientSecret + "-wrong"
	_, err = wrong.GetContact(ctx, contactID)
	sw.note(err, c, wrong)
	logger.Info("client", "client", c)
	jsonLogger.Info("client", "client", c)

	// The presence broker password.
	sub, err := c.SubscribePresence(ctx)
	if err != nil {
		t.Fatal(err)
	}
	secrets["broker password"] = sub.Password
	sw.note(sub, *sub)
	logger.Info("presence", "subscription", sub)
	jsonLogger.Info("presence", "subscription", *sub)

	// Refresh tokens: a refresh that works, then one Talkdesk refuses.
	cfg, err := talkdesk.AuthCodeConfig(talkdesktest.Account, talkdesk.RegionUS, clientID, clientSecret, "https://app.example.com/cb")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Endpoint.TokenURL = srv.URL + talkdesktest.TokenPath
	for _, refresh := range []string{"", "rt-never-issued-8c1f0e77d2"} {
		tok := srv.UserToken()
		tok.Expiry = time.Now().Add(-time.Minute)
		if refresh != "" {
			tok.RefreshToken = refresh
		}
		secrets["refresh token "+tok.RefreshToken] = tok.RefreshToken
		secrets["access token of the user token"] = tok.AccessToken
		hc := context.WithValue(ctx, oauth2.HTTPClient, srv.Client())
		uc, err := talkdesk.NewClient(talkdesk.WithBaseURL(srv.URL), talkdesk.WithTokenSource(cfg.TokenSource(hc, tok)),
			talkdesk.WithLogger(logger), talkdesk.WithRateLimit(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		_, err = uc.GetContact(ctx, contactID)
		sw.note(err, uc)
	}
	if len(sw.said) == 0 {
		t.Fatal("no error was collected; the refused refresh should have failed")
	}

	// The webhook secret: subscriptions (one whose error echoes the URL),
	// deliveries with the right token, a wrong one and none, a failing
	// handler.
	const webhookSecret = "whsec-5b0c2f1e9a7d4c3b8e6f"
	secrets["webhook secret"] = webhookSecret
	var handled int
	h := talkdesk.NewWebhookHandler(talkdesk.WithWebhookSecret(webhookSecret), talkdesk.WithWebhookLogger(logger))
	h.HandleAll(func(ctx context.Context, ev *talkdesk.Event) error {
		handled++
		if handled == 1 {
			return errors.New("downstream CRM is down")
		}
		return nil
	})
	hooks := httptest.NewServer(h)
	defer hooks.Close()
	callback, err := h.CallbackURL(hooks.URL, talkdesk.TriggerAgentLogIn)
	if err != nil {
		t.Fatal(err)
	}
	subscription, err := c.Subscribe(ctx, talkdesk.TriggerAgentLogIn, callback)
	sw.note(err, subscription, h)
	logger.Info("subscribed", "subscription", subscription)
	srv.InjectFault(talkdesktest.Fault{Path: "/webhooks/triggers/agentLogOut", Status: http.StatusBadRequest, Count: 1,
		Body: `{"code":"0400001","message":"Invalid callbackurl: ` + strings.ReplaceAll(callback, "agentLogIn", "agentLogOut") + `"}`})
	outURL, _ := h.CallbackURL(hooks.URL, talkdesk.TriggerAgentLogOut)
	_, err = c.Subscribe(ctx, talkdesk.TriggerAgentLogOut, outURL)
	if err == nil {
		t.Fatal("Subscribe with the echoing fault did not fail")
	}
	sw.note(err)
	for range 2 { // the first delivery fails in the handler
		sw.note(srv.Emit(ctx, talkdesk.TriggerAgentLogIn, map[string]string{"agent_id": "a-1", "agent_email": "ana@example.com"}))
	}
	for _, token := range []string{"", "wrong-token", webhookSecret + "x"} {
		u, _ := url.Parse(callback)
		u.RawQuery = url.Values{talkdesk.WebhookTokenParam: {token}}.Encode()
		resp, err := http.Post(u.String(), "application/json", strings.NewReader(`{"agent_id":"a-2"}`))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("delivery with token %q: %d, want 401", token, resp.StatusCode)
			}
		}
		sw.note(err)
	}

	// A bridge's credentials, in auth checks, failing and panicking actions.
	const bridgePassword = "bridge-pw-61d7c0a3f2"
	secrets["bridge password"] = bridgePassword
	bridge := talkdesk.NewActionServer(
		talkdesk.WithActionLogger(logger),
		talkdesk.WithActionAuth(func(ctx context.Context, auth map[string]string) error {
			if !talkdesk.SecretEqual(auth["password"], bridgePassword) {
				return fmt.Errorf("password %q refused", auth["password"])
			}
			return nil
		}),
	)
	bridge.Handle("fail", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		return nil, fmt.Errorf("CRM refused login with %s", req.Auth["password"])
	})
	bridge.Handle("panic", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		panic("cannot use password " + req.Auth["password"])
	})
	bridge.Handle("refuse", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		return nil, &talkdesk.ActionError{Message: "the CRM refused " + req.Auth["password"]}
	})
	bridge.Handle("ok", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		sw.note(*req, req)
		logger.Info("action", "request", req)
		return &talkdesk.ActionResult{ExternalID: "case-1"}, nil
	})
	bs := httptest.NewServer(bridge)
	defer bs.Close()
	for _, action := range []string{"ok", "fail", "panic", "refuse"} {
		for _, pw := range []string{bridgePassword, bridgePassword + "-wrong"} {
			status, res, err := talkdesktest.ExecuteAction(ctx, bs.URL+"/"+action, map[string]string{"username": "ana", "password": pw},
				map[string]any{"subject": "Missed call"}, talkdesk.ActionMeta{ContactExternalID: "7"})
			sw.note(err, res, fmt.Sprint(status))
		}
	}
	secrets["wrong bridge password"] = bridgePassword + "-wrong"

	// The event log's API keys: right, wrong, a prefix, in every endpoint,
	// with a store that fails.
	const apiKey = "log-key-3e9b1f77c2"
	secrets["event log API key"] = apiKey
	secrets["wrong event log API key"] = apiKey + "-wrong"
	events, err := talkdesk.OpenEventLog("")
	if err != nil {
		t.Fatal(err)
	}
	defer events.Close()
	logAPI, err := talkdesk.NewEventLogHandler(events, talkdesk.WithAPIKeys(apiKey, "other-key-1"),
		talkdesk.WithEventLogHandlerLogger(logger), talkdesk.WithHeartbeat(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	sw.note(logAPI, fmt.Sprintf("%+v %#v", logAPI, logAPI))
	logger.Info("event log API", "handler", logAPI)
	ls := httptest.NewServer(logAPI)
	defer ls.Close()
	for _, key := range []string{apiKey, apiKey + "-wrong", apiKey[:8]} {
		for _, path := range []string{"/events?limit=5000", "/events?type=nope", "/events/stream?after=gone", "/events"} {
			rctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			req, _ := http.NewRequestWithContext(rctx, http.MethodGet, ls.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				sw.note(string(body), resp.Header)
			}
			cancel()
		}
	}

	// Servers that echo what they were sent. A token endpoint that repeats
	// the request, Authorization header and form included, in its error,
	// for secrets that URL encoding changes.
	echo := func(status int) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			user, pass, _ := r.BasicAuth()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(map[string]string{
				"error": "invalid_client " + r.Header.Get("Authorization"),
				"error_description": "you sent " + r.Header.Get("Authorization") + " (" + user + ":" + pass + ") with " +
					string(body) + " to " + r.URL.String(),
			})
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	for i, secret := range []string{"sec+ret/with=all&4", "p@ss word+1/2=3&x", "plain-secret-91ab3c7d"} {
		for _, status := range []int{http.StatusUnauthorized, http.StatusBadRequest, http.StatusServiceUnavailable} {
			srv := echo(status)
			id := fmt.Sprintf("client %d/x+y", i)
			secrets[fmt.Sprintf("echoed client secret %d", i)] = secret
			basics[secret] = id
			ec, err := talkdesk.NewClient(talkdesk.WithBaseURL(srv.URL), talkdesk.WithTokenURL(srv.URL+"/oauth/token"),
				talkdesk.WithClientCredentials("acme", id, secret), talkdesk.WithLogger(logger),
				testkit.NoBackoff)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ec.GetContact(ctx, "c-1")
			if err == nil {
				t.Fatal("GetContact through the echoing token endpoint did not fail")
			}
			sw.note(err, ec)
		}
	}

	// An API that redirects with the bearer token in a Location that is
	// malformed, in one whose host holds it, and in the query of one to
	// another origin; a token endpoint that does the same with the secret.
	// The first segment of the path says how.
	hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if strings.HasSuffix(r.URL.Path, "/oauth/token") {
			_, tok, _ = r.BasicAuth()
		}
		switch how, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/"); how {
		case "malformed":
			w.Header().Set("Location", "http://["+tok+"/%zz")
		case "host":
			w.Header().Set("Location", "https://"+tok+".evil.example/")
		default:
			w.Header().Set("Location", "http://127.0.0.1:1/steal?t="+tok)
		}
		w.WriteHeader(http.StatusFound)
	}))
	defer hostile.Close()
	const redirectedSecret = "redirected-secret-6d2e"
	secrets["client secret sent to a redirecting token endpoint"] = redirectedSecret
	for _, how := range []string{"malformed", "host", "query"} {
		cc, err := talkdesk.NewClient(talkdesk.WithBaseURL(hostile.URL+"/"+how), talkdesk.WithTokenURL(hostile.URL+"/"+how+"/oauth/token"),
			talkdesk.WithClientCredentials("acme", "id", redirectedSecret), talkdesk.WithLogger(logger))
		if err != nil {
			t.Fatal(err)
		}
		_, err = cc.GetContact(ctx, "c-1")
		sw.note(err)
		tok := "at-redirected-" + how + "-3f9e"
		secrets["token redirected "+how] = tok
		tc, err := talkdesk.NewClient(talkdesk.WithBaseURL(hostile.URL+"/"+how), talkdesk.WithLogger(logger),
			talkdesk.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok})))
		if err != nil {
			t.Fatal(err)
		}
		_, err = tc.GetContact(ctx, "c-1")
		var re *talkdesk.RedirectError
		if !errors.As(err, &re) {
			t.Fatalf("GetContact redirected (%s): %v, want a RedirectError", how, err)
		}
		sw.note(err)
	}

	// The authorization-code path: a refresh that the token endpoint
	// refuses, echoing the refresh token and the client secret.
	const acSecret, acRefresh = "ac-client-secret-0b8d", "rt-echoed-4c7a1e"
	secrets["auth-code client secret"], secrets["echoed refresh token"] = acSecret, acRefresh
	acEcho := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		_, sec, _ := r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant",
			"error_description": "refresh token " + r.PostForm.Get("refresh_token") + " of client " + sec + " (" + r.Header.Get("Authorization") + ") expired"})
	}))
	defer acEcho.Close()
	acCfg, err := talkdesk.AuthCodeConfig(talkdesktest.Account, talkdesk.RegionUS, "ac-client", acSecret, "https://app.example.com/cb")
	if err != nil {
		t.Fatal(err)
	}
	acCfg.Endpoint.TokenURL = acEcho.URL + "/oauth/token"
	acClient, err := talkdesk.NewClient(talkdesk.WithBaseURL(acEcho.URL), talkdesk.WithLogger(logger),
		talkdesk.WithTokenSource(acCfg.TokenSource(ctx, &oauth2.Token{AccessToken: "at-expired-71d2c0", RefreshToken: acRefresh, Expiry: time.Now().Add(-time.Hour)})))
	if err != nil {
		t.Fatal(err)
	}
	_, err = acClient.GetContact(ctx, "c-1")
	if err == nil {
		t.Fatal("GetContact with a refused refresh did not fail")
	}
	sw.note(err, acClient)

	// Every access token the fake saw.
	for _, r := range srv.Requests() {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			secrets["access token "+tok[:min(len(tok), 8)]] = tok
		}
	}

	sw.note(logs.String())
	if !strings.Contains(logs.String(), "talkdesk request") || !strings.Contains(logs.String(), "fail") {
		t.Fatalf("the loggers logged too little for the sweep to mean anything:\n%s", logs.String())
	}
	if len(secrets) < 10 {
		t.Fatalf("only %d secrets collected", len(secrets))
	}
	t.Logf("looking for %d secrets, in up to 5 forms each, in %d texts", len(secrets), len(sw.said))
	for name, secret := range secrets {
		if len(secret) < 8 {
			t.Fatalf("secret %s is too short to search for: %q", name, secret)
		}
		// Every form a server could echo it in: as is, URL-encoded both
		// ways, and base64 of the Basic pair of a client secret.
		forms := map[string]string{"": secret, " (query-encoded)": url.QueryEscape(secret), " (path-encoded)": url.PathEscape(secret)}
		if id, ok := basics[secret]; ok {
			forms[" (Basic pair, base64)"] = base64.StdEncoding.EncodeToString([]byte(id + ":" + secret))
			forms[" (Basic pair URL-encoded, base64)"] = base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret)))
		}
		for form, text := range forms {
			for _, s := range sw.said {
				if i := strings.Index(s, text); i >= 0 {
					t.Errorf("the %s%s shows in: ...%s...", name, form, s[max(0, i-80):min(len(s), i+len(text)+20)])
				}
			}
		}
	}
}
