// Command releasecheck proves, before any tag exists, what a user's
// machine will do once the modules of this repository are tagged at the
// release version: it serves this checkout's modules at that version from
// a module proxy in a directory (GOPROXY=file://..., then the usual proxy
// for every other module), and in fresh modules outside the checkout, with
// GOWORK=off and an empty module cache, for each module alone:
//
//   - it checks the module's go.mod (no replace directive; the root
//     required at the release version) and that it imports no other
//     module's internal packages;
//   - go get MODULE@VERSION, then go build of a program that imports every
//     package of the module a user can import;
//   - go install of every command and example of the module @VERSION;
//
// and then it runs the quickstart (and talkdesk version, once the command
// exists), as `go run .../examples/quickstart@latest` would.
//
//	go run ./scripts/releasecheck            # from the repository root
//	go run ./scripts/releasecheck -keep      # and keep its directory
//
// The version is talkdesk.Version, with a v. See RELEASING.md.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/zip"
)

// rootPath is the module path of the SDK.
const rootPath = "github.com/talkdeskgo/talkdesk"

func main() {
	keep := flag.Bool("keep", false, "keep the directory of the check (the proxy, the user modules, the module cache)")
	flag.Parse()
	if err := run(*keep); err != nil {
		fmt.Fprintln(os.Stderr, "releasecheck:", err)
		os.Exit(1)
	}
	fmt.Println("releasecheck: ok")
}

// mod is one module of the repository.
type mod struct {
	path, dir string
	file      *modfile.File
}

func run(keep bool) error {
	repo, err := repoRoot()
	if err != nil {
		return err
	}
	version, err := releaseVersion(repo)
	if err != nil {
		return err
	}
	mods, err := modules(repo)
	if err != nil {
		return err
	}
	fmt.Printf("releasecheck: %d modules at %s\n", len(mods), version)
	for _, m := range mods {
		if err := checkGoMod(m, version, mods); err != nil {
			return err
		}
		if err := checkNoForeignInternal(m, mods); err != nil {
			return err
		}
	}

	work, err := os.MkdirTemp("", "releasecheck-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("releasecheck: working in", work)
	} else {
		defer removeAll(work)
	}
	proxy := filepath.Join(work, "proxy")
	for _, m := range mods {
		if err := publish(proxy, m, version, repo); err != nil {
			return err
		}
	}
	upstream, err := goEnv(repo, "GOPROXY")
	if err != nil {
		return err
	}
	bin := filepath.Join(work, "bin")
	env := append(os.Environ(),
		"GOWORK=off",
		"GOFLAGS=-mod=mod",
		"GOTOOLCHAIN=local",
		"GOPROXY=file://"+filepath.ToSlash(proxy)+","+upstream,
		"GONOSUMDB="+rootPath,
		"GOMODCACHE="+filepath.Join(work, "modcache"),
		"GOBIN="+bin,
	)
	for _, m := range mods {
		if err := asUser(work, env, repo, m, version); err != nil {
			return err
		}
	}
	// What the README tells a newcomer to run, from the installed binary.
	quickstart := filepath.Join(bin, "quickstart")
	if out, err := command(work, env, 2*time.Minute, quickstart); err != nil {
		return fmt.Errorf("running the quickstart of %s: %w\n%s", version, err, out)
	}
	fmt.Println("releasecheck: the quickstart runs")
	if talkdesk := filepath.Join(bin, "talkdesk"); exists(talkdesk) {
		out, err := command(work, env, time.Minute, talkdesk, "version")
		if err != nil || !strings.Contains(out, strings.TrimPrefix(version, "v")) {
			return fmt.Errorf("talkdesk version of %s: %v\n%s", version, err, out)
		}
		fmt.Println("releasecheck: talkdesk version says", strings.TrimSpace(out))
	}
	return nil
}

// repoRoot is the directory of the root module: the current directory or
// the nearest one above it whose go.mod is the SDK's.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modfile.ModulePath(data) == rootPath {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run it inside the repository of " + rootPath)
		}
		dir = parent
	}
}

// releaseVersion is "v" + talkdesk.Version.
func releaseVersion(repo string) (string, error) {
	src, err := os.ReadFile(filepath.Join(repo, "talkdesk.go"))
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`(?m)^const Version = "([^"]+)"`).FindSubmatch(src)
	if m == nil {
		return "", errors.New("talkdesk.go has no const Version")
	}
	v := "v" + string(m[1])
	if !semver.IsValid(v) || semver.Major(v) != "v0" && semver.Major(v) != "v1" {
		return "", fmt.Errorf("talkdesk.Version %q is not a version of a v0 or v1 module", m[1])
	}
	return v, nil
}

// modules lists the modules of the repository to release: every go.mod
// but this command's own and those under testdata.
func modules(repo string) ([]mod, error) {
	var mods []mod
	err := filepath.WalkDir(repo, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != repo || path == filepath.Join(repo, "scripts", "releasecheck")) {
			return filepath.SkipDir
		}
		if d.Name() != "go.mod" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := modfile.Parse(path, data, nil)
		if err != nil {
			return err
		}
		mods = append(mods, mod{path: f.Module.Mod.Path, dir: filepath.Dir(path), file: f})
		return nil
	})
	slices.SortFunc(mods, func(a, b mod) int { return strings.Compare(a.path, b.path) })
	return mods, err
}

// checkGoMod refuses a go.mod a user's build would not read as it is
// meant: a replace directive (ignored in a user's build, refused by go
// install pkg@version), or another module of the repository (the root, or
// postgres/ for the command) required at another version than the
// release: the modules are released together.
func checkGoMod(m mod, version string, mods []mod) error {
	if len(m.file.Replace) > 0 {
		return fmt.Errorf("%s/go.mod has a replace directive: a user's go get ignores it, and go install pkg@version refuses it (develop with go.work)", rel(m))
	}
	for _, r := range m.file.Require {
		ours := slices.ContainsFunc(mods, func(o mod) bool { return o.path == r.Mod.Path })
		if ours && r.Mod.Version != version {
			return fmt.Errorf("%s/go.mod requires %s %s, want the release %s", rel(m), r.Mod.Path, r.Mod.Version, version)
		}
	}
	return nil
}

// checkNoForeignInternal refuses an import of another module's internal
// packages, which ties the two modules' versions together unsaid.
func checkNoForeignInternal(m mod, mods []mod) error {
	return filepath.WalkDir(m.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != m.dir && (d.Name() == "testdata" || exists(filepath.Join(path, "go.mod"))) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, other := range mods {
				if other.path != m.path && (strings.HasPrefix(p, other.path+"/internal/") || p == other.path+"/internal") && !strings.HasPrefix(p, m.path+"/") {
					return fmt.Errorf("%s imports %s, an internal package of the module %s", path, p, other.path)
				}
			}
		}
		return nil
	})
}

// publish puts m at version into the proxy directory, as a module proxy
// serves it (https://go.dev/ref/mod#goproxy-protocol).
func publish(proxy string, m mod, version, repo string) error {
	escaped, err := module.EscapePath(m.path)
	if err != nil {
		return err
	}
	dir := filepath.Join(proxy, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, version+".zip"))
	if err != nil {
		return err
	}
	if err := zip.CreateFromDir(f, module.Version{Path: m.path, Version: version}, m.dir); err != nil {
		f.Close()
		return fmt.Errorf("zipping %s: %w", m.path, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	gomod, err := os.ReadFile(filepath.Join(m.dir, "go.mod"))
	if err != nil {
		return err
	}
	when := time.Now().UTC()
	if out, err := exec.Command("git", "-C", repo, "log", "-1", "--format=%cI").Output(); err == nil {
		if t, err := time.Parse(time.RFC3339, strings.TrimSpace(string(out))); err == nil {
			when = t.UTC()
		}
	}
	info, _ := json.Marshal(map[string]any{"Version": version, "Time": when})
	for name, data := range map[string][]byte{version + ".mod": gomod, version + ".info": info, "list": []byte(version + "\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// asUser does, in a fresh module, what a user of m does: go get it alone,
// build against every package of it a user can import, and go install
// every command of it at the version.
func asUser(work string, env []string, repo string, m mod, version string) error {
	name := strings.ReplaceAll(strings.TrimPrefix(m.path, rootPath), "/", "-")
	dir := filepath.Join(work, "user"+name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	libs, cmds, err := packages(repo, m)
	if err != nil {
		return err
	}
	steps := [][]string{
		{"go", "mod", "init", "example.com/user" + name},
		{"go", "get", m.path + "@" + version},
	}
	for _, step := range steps {
		if out, err := command(dir, env, 10*time.Minute, step...); err != nil {
			return fmt.Errorf("%s: %s: %w\n%s", m.path, strings.Join(step, " "), err, out)
		}
	}
	var src bytes.Buffer
	src.WriteString("// A program of a user that imports every package of " + m.path + ".\npackage main\n\nimport (\n")
	for _, p := range libs {
		fmt.Fprintf(&src, "\t_ %q\n", p)
	}
	src.WriteString(")\n\nfunc main() {}\n")
	if err := os.WriteFile(filepath.Join(dir, "main.go"), src.Bytes(), 0o644); err != nil {
		return err
	}
	if out, err := command(dir, env, 10*time.Minute, "go", "build", "-o", os.DevNull, "."); err != nil {
		return fmt.Errorf("%s: building against its %d packages: %w\n%s", m.path, len(libs), err, out)
	}
	fmt.Printf("releasecheck: %s@%s: go get alone, and a build against its %d packages\n", m.path, version, len(libs))
	for _, c := range cmds {
		if out, err := command(dir, env, 10*time.Minute, "go", "install", c+"@"+version); err != nil {
			return fmt.Errorf("go install %s@%s: %w\n%s", c, version, err, out)
		}
		fmt.Printf("releasecheck: go install %s@%s\n", c, version)
	}
	return nil
}

// packages lists m's packages a user can import (not internal, not
// main, not tests only) and its commands and examples, from the checkout.
func packages(repo string, m mod) (libs, cmds []string, err error) {
	out, err := exec.Command("go", "-C", m.dir, "list", "-f", "{{if .GoFiles}}{{.Name}} {{.ImportPath}}{{end}}", "./...").Output()
	if err != nil {
		return nil, nil, fmt.Errorf("go list in %s: %w", rel(m), err)
	}
	for line := range strings.Lines(string(out)) {
		name, path, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch {
		case path == "" || strings.Contains(path+"/", "/internal/"):
		case name == "main" && (strings.Contains(path, "/examples/") || strings.Contains(path+"/", "/cmd/")):
			cmds = append(cmds, path)
		case name == "main": // the project's scripts
		default:
			libs = append(libs, path)
		}
	}
	return libs, cmds, nil
}

// command runs args in dir with env, within d, and returns its output.
func command(dir string, env []string, d time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func goEnv(dir, name string) (string, error) {
	out, err := exec.Command("go", "-C", dir, "env", name).Output()
	return strings.TrimSpace(string(out)), err
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func rel(m mod) string {
	if m.path == rootPath {
		return "."
	}
	return strings.TrimPrefix(m.path, rootPath+"/")
}

// removeAll removes the check's directory; the module cache's files are
// read-only.
func removeAll(dir string) {
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(path, 0o755)
		}
		return nil
	})
	os.RemoveAll(dir)
}
