package deploy

import (
	"bufio"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// build.sh, as the Containerfile runs it, makes a static, stripped binary
// with its version stamped, whatever CGO_ENABLED the caller has.
func TestBuildScriptMakesStaticBinary(t *testing.T) {
	bin := statussyncBinary(t)

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			t.Error("ELF has PT_INTERP: dynamically linked, needs a loader (and libc) in the image")
		case elf.PT_DYNAMIC:
			t.Error("ELF has PT_DYNAMIC: dynamically linked")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("ELF imports libraries %v (%v)", libs, err)
	}
	// -s -w: no symbol table, no DWARF.
	if _, err := f.Symbols(); !errors.Is(err, elf.ErrNoSymbols) {
		t.Errorf("ELF has a symbol table (-s not applied): %v", err)
	}
	if f.Section(".debug_info") != nil || f.Section(".zdebug_info") != nil {
		t.Error("ELF has DWARF (-w not applied)")
	}

	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if bi.Path != "github.com/statussync/statussync/cmd/statussync" {
		t.Errorf("main package %q", bi.Path)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	for key, want := range map[string]string{"CGO_ENABLED": "0", "-trimpath": "true"} {
		if settings[key] != want {
			t.Errorf("build setting %s = %q, want %q", key, settings[key], want)
		}
	}
	if _, ok := settings["vcs.revision"]; ok {
		t.Error("VCS stamping is on (-buildvcs=false not applied)")
	}

	code, out, errOut := runStatussync(t, nil, "version")
	want := "statussync " + testVersion + " (revision " + testRevision + ", " + bi.GoVersion + ")\n"
	if code != 0 || out != want {
		t.Errorf("statussync version: exit %d, %q; want %q\n%s", code, out, want, errOut)
	}
}

// containerfile is deploy/Containerfile reduced to its instructions, with
// continuation lines joined and comments dropped.
func containerfile(tb testing.TB) []string {
	tb.Helper()
	f, err := os.Open("Containerfile")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []string
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if s, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(line)
		out = append(out, cur.String())
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// The Containerfile builds with build.sh (so the test above covers the
// image's binary), on the Go version the module asks for, and its user,
// port and default arguments agree with the Deployment.
func TestContainerfile(t *testing.T) {
	lines := containerfile(t)
	var stages [][]string // instructions per FROM
	for _, l := range lines {
		if strings.HasPrefix(l, "FROM ") {
			stages = append(stages, nil)
		}
		if len(stages) > 0 {
			stages[len(stages)-1] = append(stages[len(stages)-1], l)
		}
	}
	if len(stages) != 2 {
		t.Fatalf("want a build stage and a final stage, got %d stages", len(stages))
	}

	args := map[string]string{}
	for _, l := range lines {
		if m := regexp.MustCompile(`^ARG (\w+)=(\S+)$`).FindStringSubmatch(l); m != nil {
			if _, ok := args[m[1]]; !ok {
				args[m[1]] = m[2]
			}
		}
	}
	goMod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(goMod)
	if m == nil {
		t.Fatal("no go directive in ../go.mod")
	}
	if want := "golang:" + string(m[1]); !strings.HasSuffix(args["GO_IMAGE"], want) {
		t.Errorf("GO_IMAGE %q: want %s, the version ../go.mod asks for", args["GO_IMAGE"], want)
	}

	build := strings.Join(stages[0], "\n")
	if !regexp.MustCompile(`(?m)^RUN .*\./deploy/build\.sh /out/statussync$`).MatchString(build) {
		t.Error("the build stage must run ./deploy/build.sh /out/statussync, the flags' one home")
	}
	if strings.Contains(build, "go build") {
		t.Error("the build stage runs go build itself: use deploy/build.sh")
	}

	final := map[string]string{}
	for _, l := range stages[1] {
		op, rest, _ := strings.Cut(l, " ")
		final[op] = rest
	}
	if final["FROM"] != "${BASE_IMAGE}" || !strings.Contains(args["BASE_IMAGE"], "static") {
		t.Errorf("final stage FROM %q (BASE_IMAGE %q): want the static base", final["FROM"], args["BASE_IMAGE"])
	}
	// Numeric, so that runAsNonRoot can verify it without an /etc/passwd.
	if uid, err := strconv.Atoi(final["USER"]); err != nil || uid == 0 {
		t.Errorf("USER %q: want a numeric non-root UID", final["USER"])
	}
	if final["COPY"] != "--from=build /out/statussync /usr/local/bin/statussync" {
		t.Errorf("COPY %q", final["COPY"])
	}
	if final["ENTRYPOINT"] != `["/usr/local/bin/statussync"]` {
		t.Errorf("ENTRYPOINT %s", final["ENTRYPOINT"])
	}

	d := only[*appsv1.Deployment](t, rawManifests(t)["deployment.yaml"])
	c := statussyncContainer(t, d)
	if want := strconv.Itoa(int(c.Ports[0].ContainerPort)); final["EXPOSE"] != want {
		t.Errorf("EXPOSE %s, the Deployment's port is %s", final["EXPOSE"], want)
	}
	var cmd []string
	for _, s := range strings.Split(strings.Trim(final["CMD"], "[]"), ",") {
		cmd = append(cmd, strings.Trim(strings.TrimSpace(s), `"`))
	}
	if !slices.Contains(c.Args, cmd[0]) {
		t.Errorf("the image's CMD %v and the Deployment's args %v name different configuration files", cmd, c.Args)
	}
}
