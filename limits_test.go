package talkdesk

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestDocumentedLimits: every limit the godoc states is the one the code
// enforces. Each doc comment is read from the source and must state the
// constant behind it; each limit is then tried at its edge.
func TestDocumentedLimits(t *testing.T) {
	docs := docComments(t, "events.go", "webhook.go", "bridge.go", "eventlog_query.go", "eventlog_http.go", "values.go")
	for _, tt := range []struct{ symbol, says string }{
		{"ParseEvent", fmt.Sprintf("at most %s members", thousands(maxMembers))},
		{"ParseEvent", fmt.Sprintf("more than %d tags", maxTags)},
		{"WebhookHandler", fmt.Sprintf("more than %d\nmembers", maxMembers)},
		{"WebhookHandler", fmt.Sprintf("(%d MiB by default)", DefaultMaxBodyBytes>>20)},
		{"DefaultActionMaxBodyBytes", fmt.Sprintf("%d MiB", DefaultActionMaxBodyBytes>>20)},
		{"EventLog.Query", fmt.Sprintf("(%d by default; more than %d is %d)", DefaultEventPageSize, MaxEventPageSize, MaxEventPageSize)},
		{"EventLogHandler", fmt.Sprintf("limit (1 to %d; %d by default)", MaxEventPageSize, DefaultEventPageSize)},
	} {
		if doc := strings.Join(strings.Fields(docs[tt.symbol]), " "); !strings.Contains(doc, strings.Join(strings.Fields(tt.says), " ")) {
			t.Errorf("the doc of %s does not say %q:\n%s", tt.symbol, tt.says, docs[tt.symbol])
		}
	}

	object := func(members int) []byte {
		var b strings.Builder
		b.WriteString("{")
		for i := range members {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"k%d":"v"`, i%7) // keys sent again count again
		}
		b.WriteString("}")
		return []byte(b.String())
	}
	if _, err := ParseEvent(TriggerNoteCreated, object(maxMembers)); err != nil {
		t.Errorf("ParseEvent of %d members: %v", maxMembers, err)
	}
	if _, err := ParseEvent(TriggerNoteCreated, object(maxMembers+1)); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseEvent of %d members: %v, want ErrInvalid", maxMembers+1, err)
	}

	webhook := func(body []byte) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/hooks/noteCreated", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		NewWebhookHandler().ServeHTTP(rec, req)
		return rec
	}
	if rec := webhook(object(maxMembers + 1)); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), fmt.Sprintf("more than %d members", maxMembers)) {
		t.Errorf("a delivery of %d members: %d %q", maxMembers+1, rec.Code, rec.Body)
	}
	padded := func(n int64) []byte { // a small object, padded with white space to n bytes
		obj := `{"note_id":"n-1"}`
		return []byte(obj + strings.Repeat(" ", int(n)-len(obj)))
	}
	if rec := webhook(padded(DefaultMaxBodyBytes)); rec.Code != http.StatusOK {
		t.Errorf("a delivery of exactly %d bytes: %d %q", DefaultMaxBodyBytes, rec.Code, rec.Body)
	}
	if rec := webhook(padded(DefaultMaxBodyBytes + 1)); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("a delivery of %d bytes: %d, want 413", DefaultMaxBodyBytes+1, rec.Code)
	}

	bridge := NewActionServer(WithActionLogger(slog.New(slog.DiscardHandler)))
	bridge.Handle("ping", func(context.Context, *ActionRequest) (*ActionResult, error) {
		return &ActionResult{Message: "pong"}, nil
	})
	action := func(n int64) *httptest.ResponseRecorder {
		obj := `{"data":{}}`
		rec := httptest.NewRecorder()
		bridge.ServeHTTP(rec, httptest.NewRequest("POST", "/ping", strings.NewReader(obj+strings.Repeat(" ", int(n)-len(obj)))))
		return rec
	}
	if rec := action(DefaultActionMaxBodyBytes); rec.Code != http.StatusCreated {
		t.Errorf("an action request of exactly %d bytes: %d %q", DefaultActionMaxBodyBytes, rec.Code, rec.Body)
	}
	if rec := action(DefaultActionMaxBodyBytes + 1); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "larger than") {
		t.Errorf("an action request of %d bytes: %d %q", DefaultActionMaxBodyBytes+1, rec.Code, rec.Body)
	}

	l := openLog(t, "")
	for _, ev := range synthetic(MaxEventPageSize+1, 3) {
		if _, err := l.Append(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct{ limit, want int }{{0, DefaultEventPageSize}, {MaxEventPageSize + 1, MaxEventPageSize}} {
		page, err := l.Query(context.Background(), EventQuery{Limit: tt.limit})
		if err != nil || len(page.Events) != tt.want {
			t.Errorf("Query with Limit %d: %d events, %v; want %d", tt.limit, len(page.Events), err, tt.want)
		}
	}
	if _, err := parseEventQuery(map[string][]string{"limit": {fmt.Sprint(MaxEventPageSize + 1)}}, false); err == nil {
		t.Errorf("the HTTP limit %d was accepted", MaxEventPageSize+1)
	}
}

// docComments returns the doc comments of the top-level declarations of
// files, by name (Type.Method for methods).
func docComments(t *testing.T, files ...string) map[string]string {
	t.Helper()
	docs := map[string]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				key := d.Name.Name
				if d.Recv != nil {
					typ := d.Recv.List[0].Type
					if star, ok := typ.(*ast.StarExpr); ok {
						typ = star.X
					}
					key = typ.(*ast.Ident).Name + "." + key
				}
				docs[key] = d.Doc.Text()
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						docs[s.Name.Name] = d.Doc.Text()
					case *ast.ValueSpec:
						docs[s.Names[0].Name] = d.Doc.Text() + s.Doc.Text()
					}
				}
			}
		}
	}
	return docs
}

// thousands writes n with a comma every three digits, as the docs do.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
