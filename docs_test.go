package talkdesk_test

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The documents whose every snippet and command a test checks.
var docFiles = []string{"README.md", "docs/*.md", "postgres/README.md", "redis/README.md", "RELEASING.md"}

// docBlock is a fenced block of a document, with the label of the HTML
// comment on the line before it, if any (<!-- label -->).
type docBlock struct {
	file, lang, label, text string
	line                    int
}

// docBlocks returns the fenced blocks of the documents.
func docBlocks(t *testing.T) []docBlock {
	t.Helper()
	var blocks []docBlock
	for _, pattern := range docFiles {
		files, err := filepath.Glob(pattern)
		if err != nil || len(files) == 0 {
			t.Fatalf("no document %s: %v", pattern, err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(data), "\n")
			for i := 0; i < len(lines); i++ {
				if !strings.HasPrefix(lines[i], "```") {
					continue
				}
				b := docBlock{file: f, lang: strings.TrimPrefix(lines[i], "```"), line: i + 1}
				if i > 0 {
					if m := regexp.MustCompile(`^<!-- (.*?) -->$`).FindStringSubmatch(strings.TrimSpace(lines[i-1])); m != nil {
						b.label = m[1]
					}
				}
				var body []string
				for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
					body = append(body, lines[i])
				}
				b.text = strings.Join(body, "\n") + "\n"
				blocks = append(blocks, b)
			}
		}
	}
	return blocks
}

func (b docBlock) String() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

// commands returns the command lines of a shell block: not comments,
// continuation lines joined, trailing comments kept (bash ignores them).
func (b docBlock) commands() []string {
	var out []string
	cont := ""
	for line := range strings.Lines(b.text) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cont += strings.TrimSuffix(line, "\\")
			continue
		}
		out = append(out, cont+line)
		cont = ""
	}
	return out
}

// TestDocsSnippetsCompile compiles every Go block of the README and the
// guides: a block that starts with "package" as the file it is, any other
// as a fragment (marked so, with <!-- fragment -->), wrapped in a function
// that has the variables the guides use (ctx, client, events, store...).
func TestDocsSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the snippets of the docs")
	}
	repo, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mod := filepath.Join(dir, "snippets")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(path, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(mod, "go.mod"), "module example.com/snippets\n\ngo 1.26.0\n")
	work, err := os.ReadFile("go.work")
	if err != nil {
		t.Fatal(err)
	}
	// The repository's workspace, with this module in it.
	ws := regexp.MustCompile(`(?m)^\t(\.[^\s]*)$`).ReplaceAllStringFunc(string(work), func(m string) string {
		return "\t" + filepath.Join(repo, strings.TrimSpace(m))
	})
	ws = strings.Replace(ws, "use (", "use (\n\t./snippets", 1)
	ws = regexp.MustCompile(`(?m)=> (\.[^\s]*)$`).ReplaceAllStringFunc(ws, func(m string) string {
		return "=> " + filepath.Join(repo, strings.TrimPrefix(m, "=> "))
	})
	write(filepath.Join(dir, "go.work"), ws)

	n := 0
	where := map[string]docBlock{}
	for _, b := range docBlocks(t) {
		if b.lang != "go" {
			continue
		}
		n++
		pkg := fmt.Sprintf("s%03d", n)
		where[pkg] = b
		src := b.text
		switch {
		case strings.HasPrefix(src, "package "):
		case b.label != "fragment":
			t.Errorf("%s: a Go block that is not a whole file must be marked <!-- fragment -->", b)
			continue
		default:
			src = wrapFragment(src)
		}
		write(filepath.Join(mod, pkg, "snippet.go"), src)
	}
	if n < 10 {
		t.Fatalf("only %d Go blocks found", n)
	}
	cmd := exec.Command("go", "vet", "./...")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOWORK="+filepath.Join(dir, "go.work"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		// Name the document of each error.
		msg := regexp.MustCompile(`(?m)(?:\./)?(s\d{3})/snippet\.go`).ReplaceAllStringFunc(string(out), func(m string) string {
			pkg := regexp.MustCompile(`s\d{3}`).FindString(m)
			return where[pkg].String() + " (" + pkg + ")"
		})
		t.Fatalf("the docs' Go snippets do not compile:\n%s", msg)
	}
	t.Logf("%d Go blocks compiled and vetted", n)
}

// fragmentImports are the packages a fragment may use, by the name it
// uses them by.
var fragmentImports = map[string]string{
	"context": "context", "errors": "errors", "fmt": "fmt", "log": "log", "http": "net/http", "os": "os",
	"time": "time", "slog": "log/slog", "json": "encoding/json", "io": "io", "strings": "strings",
	"talkdesk": "github.com/talkdeskgo/talkdesk", "talkdesktest": "github.com/talkdeskgo/talkdesk/talkdesktest",
	"tdpostgres": "github.com/talkdeskgo/talkdesk/postgres", "tdredis": "github.com/talkdeskgo/talkdesk/redis",
	"pgxpool": "github.com/jackc/pgx/v5/pgxpool", "redis": "github.com/redis/go-redis/v9", "oauth2": "golang.org/x/oauth2",
	"clientcredentials": "golang.org/x/oauth2/clientcredentials",
	"httptest":          "net/http/httptest", "testing": "testing", "signal": "os/signal",
}

// fragmentVars are the variables a fragment may use without declaring
// them, the parameters of the function it is wrapped in: what the guides
// call ctx, client, events...
var fragmentVars = []struct{ name, typ string }{
	{"ctx", "context.Context"}, {"client", "*talkdesk.Client"}, {"actions", "*talkdesk.ActionServer"}, {"events", "*talkdesk.EventLog"},
	{"mux", "*http.ServeMux"}, {"srv", "*talkdesktest.Server"}, {"req", "*talkdesk.CallbackRequest"},
	{"rdb", "*redis.Client"}, {"pool", "*pgxpool.Pool"}, {"base", "oauth2.TokenSource"},
	{"err", "error"}, {"day", "time.Time"},
	{"secret", "string"}, {"token", "string"}, {"clientID", "string"}, {"clientSecret", "string"},
	{"account", "string"}, {"id", "string"}, {"lastID", "string"},
	{"crm", "interface {\n\tCreateCase(ctx context.Context, contactID, subject, description string) (string, error)\n}"},
}

// wrapFragment makes a fragment a file: with top-level declarations, as
// they are; otherwise inside a function whose parameters are the
// fragmentVars the fragment uses and does not declare. The imports are
// those the fragment, and those parameters, name.
func wrapFragment(src string) string {
	var params []string
	body := src
	if !regexp.MustCompile(`(?m)^(func |type |var \(|const \()`).MatchString(src) {
		for _, v := range fragmentVars {
			used := regexp.MustCompile(`\b` + v.name + `\b`).MatchString(src)
			declared := regexp.MustCompile(`(?m)^\s*(?:[\w\s,]*[\s,])?` + v.name + `(?:\s*,[\w\s,]*)?\s*:=`).MatchString(src)
			if used && !declared {
				params = append(params, v.name+" "+v.typ)
			}
		}
		body = "func fragment(" + strings.Join(params, ", ") + ") error {\n" + src
		if lines := strings.Split(strings.TrimSpace(src), "\n"); !strings.HasPrefix(strings.TrimSpace(lines[len(lines)-1]), "return ") {
			body += "\treturn nil\n"
		}
		body += "}\n"
	}
	var b strings.Builder
	b.WriteString("package snippet\n\nimport (\n")
	for _, name := range slices.Sorted(maps.Keys(fragmentImports)) {
		if !regexp.MustCompile(`\b` + name + `\.`).MatchString(body) {
			continue
		}
		if path := fragmentImports[name]; strings.HasSuffix(path, "/"+name) || path == name {
			fmt.Fprintf(&b, "\t%q\n", path)
		} else {
			fmt.Fprintf(&b, "\t%s %q\n", name, path)
		}
	}
	b.WriteString(")\n\n")
	b.WriteString(body)
	return b.String()
}

// TestDocsCommands checks every shell block of the README and the guides:
// each is marked with how it is checked, and is.
//
//   - run: run here, from the repository root, each command in turn;
//   - ci: too long for a test: .ci/run runs each command, verbatim;
//   - releasecheck: a go get, go install or go run of a module or example
//     at a version, which scripts/releasecheck does for every module and
//     example;
//   - needs-talkdesk: needs a real Talkdesk account; needs-maintainer:
//     needs the rights of a maintainer (pushing tags);
//   - served: examples/eventlog: run against the log that example serves;
//   - test: TestName: run by that test of the repository.
func TestDocsCommands(t *testing.T) {
	ci, err := os.ReadFile(".ci/run")
	if err != nil {
		t.Fatal(err)
	}
	tests := testNames(t)
	for _, b := range docBlocks(t) {
		if b.lang == "" || b.lang == "go" || b.lang == "text" {
			continue
		}
		label, arg, _ := strings.Cut(b.label, ":")
		arg = strings.TrimSpace(arg)
		switch label {
		case "run":
			for _, c := range b.commands() {
				t.Run(c, func(t *testing.T) {
					if testing.Short() {
						t.Skip("runs a command of the docs")
					}
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
					defer cancel()
					out, err := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", c).CombinedOutput()
					if err != nil {
						t.Errorf("%s: %s: %v\n%s", b, c, err, out)
					}
				})
			}
		case "ci":
			for _, c := range b.commands() {
				for _, part := range strings.Split(c, " && ") { // .ci/run may cd in a line of its own
					if !strings.Contains(string(ci), part) {
						t.Errorf("%s: %q is marked as run by .ci/run, which does not run it", b, part)
					}
				}
			}
		case "releasecheck":
			for _, c := range b.commands() {
				c, _, _ = strings.Cut(c, "#")
				f := strings.Fields(c)
				ok := len(f) == 3 && f[0] == "go" && (f[1] == "get" || f[1] == "install" || f[1] == "run")
				if ok {
					ok = releaseChecked(t, f[1], f[2])
				}
				if !ok {
					t.Errorf("%s: %q is not a go get of a module or a go install or go run of one of its commands @version, as scripts/releasecheck does", b, c)
				}
			}
		case "needs-talkdesk", "needs-maintainer":
		case "served":
			if arg != "examples/eventlog" {
				t.Errorf("%s: served by %q, which no test serves", b, arg)
				continue
			}
			testServedCommands(t, b)
		case "test":
			if !tests[arg] {
				t.Errorf("%s: marked as run by %s, a test the repository does not have", b, arg)
			}
		default:
			t.Errorf("%s: a %s block must say how it is checked (<!-- run -->, <!-- ci -->, <!-- releasecheck -->, <!-- needs-talkdesk -->, <!-- needs-maintainer -->, <!-- served: ... -->, <!-- test: Name -->), not %q", b, b.lang, b.label)
		}
	}
}

// releaseChecked reports whether scripts/releasecheck does what a go get,
// go install or go run of target does: target is a module of the
// repository (go get) or an example or command of one, @version.
func releaseChecked(t *testing.T, verb, target string) bool {
	const root = "github.com/talkdeskgo/talkdesk"
	path, version, hasVersion := strings.Cut(target, "@")
	if !strings.HasPrefix(path+"/", root+"/") {
		return false
	}
	dir := strings.TrimPrefix(strings.TrimPrefix(path, root), "/")
	if dir == "" {
		dir = "."
	}
	if verb == "get" {
		_, err := os.Stat(filepath.Join(dir, "go.mod"))
		return err == nil && (!hasVersion || version != "")
	}
	if !hasVersion || !(strings.Contains(dir, "examples/") || strings.Contains(dir+"/", "cmd/")) {
		return false
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	return len(matches) > 0
}

// testNames returns the names of the repository's test functions.
func testNames(t *testing.T) map[string]bool {
	names := map[string]bool{}
	filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range regexp.MustCompile(`(?m)^func (Test\w+)\(`).FindAllStringSubmatch(string(data), -1) {
			names[m[1]] = true
		}
		return nil
	})
	return names
}

// testServedCommands serves the demo log of examples/eventlog and runs the
// block's commands against it, with the key in $TALKDESK_EVENTLOG_API_KEY;
// they must be those the example prints.
func testServedCommands(t *testing.T, b docBlock) {
	t.Helper()
	if testing.Short() {
		t.Skip("serves the example")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatalf("%s: curl is not installed: %v", b, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bin := filepath.Join(t.TempDir(), "eventlog")
	if out, err := exec.Command("go", "build", "-o", bin, "./examples/eventlog").CombinedOutput(); err != nil {
		t.Fatalf("building the example: %v\n%s", err, out)
	}
	env := append(os.Environ(), "TALKDESK_EVENTLOG_API_KEY=docs-test-key")
	srv := exec.CommandContext(ctx, bin, "-serve", addr)
	srv.Env = env
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Wait()
	defer cancel()
	var printed []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "curl ") {
			printed = append(printed, line)
		}
		if len(printed) == 3 {
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	documented := b.commands()
	for i := range documented {
		documented[i] = strings.ReplaceAll(documented[i], "127.0.0.1:8080", addr)
	}
	if !slices.Equal(documented, printed) {
		t.Errorf("%s: the documented commands are not those the example prints:\n%s\nprinted:\n%s", b, strings.Join(documented, "\n"), strings.Join(printed, "\n"))
	}
	for _, c := range documented {
		stream := strings.Contains(c, "/stream")
		run := c
		if stream {
			run = "timeout 3 " + c + " || true" // a stream lasts: three seconds of it
		}
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", run)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		want := `"events":[{"id":`
		switch {
		case stream:
			want = "data: {"
		case strings.Contains(c, "x-ndjson"):
			want = `{"id":`
		}
		if err != nil || !strings.Contains(string(out), want) {
			t.Errorf("%s: %s: %v; the output lacks %q:\n%.500s", b, c, err, want, out)
		}
	}
}
