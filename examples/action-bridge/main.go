// Command action-bridge is a Talkdesk Action Executor bridge with one
// action, create_case, which files a case in an in-memory store, linked to
// the contact of meta.contact_external_id, and answers Talkdesk with the
// case's ID as external_id.
//
//	go run ./examples/action-bridge
//
// serves the bridge on 127.0.0.1, calls create_case once with the sample
// request of Talkdesk's Action Executor contract, exactly as Talkdesk
// would, prints the answer and exits. With -serve it keeps serving until
// interrupted, for Talkdesk (through a tunnel or a reverse proxy) or curl;
// it then wants the integration's credentials in BRIDGE_USERNAME and
// BRIDGE_PASSWORD:
//
//	BRIDGE_USERNAME=me@example.com BRIDGE_PASSWORD=s3cret go run ./examples/action-bridge -serve -addr 127.0.0.1:8080
//	curl -i -X POST http://127.0.0.1:8080/talkdesk/actions/create_case \
//	  -d '{"auth": {"username": "me@example.com", "password": "s3cret"}, "meta": {"contact_external_id": "1"}, "data": {"subject": "Call missed"}}'
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "action-bridge:", err)
		os.Exit(1)
	}
}

// The sample request of the Action Executor contract.
var (
	sampleAuth = map[string]string{"username": "[email protected]", "password": "605b32dd"}
	sampleMeta = talkdesk.ActionMeta{ContactExternalID: "1", AgentExternalID: "2"}
	sampleData = map[string]string{
		"subject":     "Call missed in Talkdesk",
		"description": "A call from Jane Doe was missed.",
	}
)

// prefix is where the bridge's actions are served.
const prefix = "/talkdesk/actions/"

// run is the whole program, with its arguments, environment and output
// given, so that a test can run it.
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	flags := flag.NewFlagSet("action-bridge", flag.ContinueOnError)
	flags.SetOutput(out)
	addr := flags.String("addr", "127.0.0.1:0", "address to listen on")
	serve := flags.Bool("serve", false, "keep serving until interrupted instead of calling the bridge once")
	if err := flags.Parse(args); err != nil {
		return err
	}
	username, password := sampleAuth["username"], sampleAuth["password"]
	if *serve {
		username, password = getenv("BRIDGE_USERNAME"), getenv("BRIDGE_PASSWORD")
		if username == "" || password == "" {
			return errors.New("-serve needs the integration's credentials in BRIDGE_USERNAME and BRIDGE_PASSWORD")
		}
	}

	store := &caseStore{}
	logger := slog.New(slog.NewTextHandler(out, nil))
	mux := http.NewServeMux()
	mux.Handle(prefix, newBridge(store, username, password, logger))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := newServer(mux, logger)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	base := "http://" + ln.Addr().String() + prefix
	fmt.Fprintf(out, "bridge listening: POST %s{action}\n", base)

	if *serve {
		<-ctx.Done()
	} else {
		err = callOnce(ctx, base+"create_case", store, out)
	}

	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if serr := hs.Shutdown(shutdownCtx); serr != nil {
		return errors.Join(err, serr)
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		return errors.Join(err, serr)
	}
	return err
}

// newServer returns the HTTP server of the bridge, logging its errors to
// logger. Its timeouts keep a misbehaving or hostile client from holding
// connections (and a goroutine each) open: one that sends its headers a
// byte at a time (slowloris) is cut off after ReadHeaderTimeout, one that
// never finishes its body after ReadTimeout, and keep-alive connections
// left idle between actions are closed after IdleTimeout. WriteTimeout
// leaves an action, which runs before the answer, a minute.
func newServer(handler http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// callOnce plays Talkdesk: it sends the contract's sample request to the
// create_case action and prints the answer.
func callOnce(ctx context.Context, url string, store *caseStore, out io.Writer) error {
	fmt.Fprintf(out, "Talkdesk runs create_case: POST %s with the contract's sample request\n", url)
	status, res, err := talkdesktest.ExecuteAction(ctx, url, sampleAuth, sampleData, sampleMeta)
	if err != nil {
		return err
	}
	answer, err := json.Marshal(res)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "bridge answered %d %s: %s\n", status, http.StatusText(status), answer)
	if status != http.StatusCreated {
		return fmt.Errorf("create_case failed with %d: %s", status, res.Message)
	}
	c, ok := store.get(res.ExternalID)
	if !ok {
		return fmt.Errorf("no case %q in the store", res.ExternalID)
	}
	fmt.Fprintf(out, "stored %s: %q for contact %s, by agent %s\n", c.ID, c.Subject, c.ContactID, c.AgentID)
	return nil
}

// newBridge returns the bridge: the credentials check of the integration,
// and the create_case action.
func newBridge(store *caseStore, username, password string, logger *slog.Logger) *talkdesk.ActionServer {
	srv := talkdesk.NewActionServer(
		talkdesk.WithActionPrefix(prefix),
		talkdesk.WithActionLogger(logger),
		talkdesk.WithActionMaxBodyBytes(64<<10),
		talkdesk.WithActionAuth(func(ctx context.Context, auth map[string]string) error {
			// Both are compared, whatever the first gives, so that timing
			// tells nothing about which one was wrong.
			userOK := talkdesk.SecretEqual(auth["username"], username)
			passOK := talkdesk.SecretEqual(auth["password"], password)
			if !userOK || !passOK {
				return &talkdesk.ActionError{Message: "Invalid username or password"}
			}
			return nil
		}),
	)
	srv.Handle("create_case", store.createCase)
	return srv
}

// A case is a support case in the external service.
type Case struct {
	ID          string
	Subject     string
	Description string
	ContactID   string // the external ID of the contact it is about
	AgentID     string // the external ID of the agent who filed it
	CreatedAt   time.Time
}

// caseStore is the external service: cases in memory.
type caseStore struct {
	mu    sync.Mutex
	cases map[string]Case
}

// createCase is the create_case action: data holds subject (required) and
// description; meta links the case to its contact and agent.
func (s *caseStore) createCase(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
	var in struct {
		Subject     string `json:"subject"`
		Description string `json:"description"`
	}
	if err := req.Bind(&in); err != nil {
		return nil, err
	}
	if in.Subject == "" {
		return nil, &talkdesk.ActionError{Message: "Case creation failed: subject is required"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cases == nil {
		s.cases = make(map[string]Case)
	}
	c := Case{
		ID:          fmt.Sprintf("CASE-%04d", len(s.cases)+1),
		Subject:     in.Subject,
		Description: in.Description,
		ContactID:   req.Meta.ContactExternalID,
		AgentID:     req.Meta.AgentExternalID,
		CreatedAt:   time.Now().UTC(),
	}
	s.cases[c.ID] = c
	return &talkdesk.ActionResult{Message: "Case successfully created", ExternalID: c.ID}, nil
}

func (s *caseStore) get(id string) (Case, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cases[id]
	return c, ok
}
