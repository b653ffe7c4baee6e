package claudekit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

const (
	guardSecrets = ".claude/hooks/guard-secrets.sh"
	goCheck      = ".claude/hooks/go-check.sh"
	editTools    = "Edit|MultiEdit|Write"
)

// repoRoot is the directory holding salonbook's go.mod, found by walking up from
// this package's directory (where go test runs it).
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.mod above the test's directory")
		dir = parent
	}
}

// toolCall is the JSON Claude Code sends a hook for an Edit, MultiEdit or Write.
type toolCall struct {
	SessionID      string    `json:"session_id"`
	TranscriptPath string    `json:"transcript_path"`
	Cwd            string    `json:"cwd,omitempty"`
	HookEventName  string    `json:"hook_event_name"`
	ToolName       string    `json:"tool_name"`
	ToolInput      toolInput `json:"tool_input"`
}

type toolInput struct {
	FilePath string `json:"file_path"`
	Content  string `json:"content"`
}

// writeCall is the hook input for a Write of filePath, made in directory cwd.
func writeCall(t *testing.T, event, cwd, filePath string) string {
	t.Helper()
	b, err := json.Marshal(toolCall{
		SessionID: "x", TranscriptPath: "/tmp/transcript.jsonl", Cwd: cwd,
		HookEventName: event, ToolName: "Write",
		ToolInput: toolInput{FilePath: filePath, Content: "hello\n"},
	})
	require.NoError(t, err)
	return string(b)
}

type hookResult struct {
	code   int
	stderr string
}

// runHook runs a command the way Claude Code runs a hook (input JSON on stdin, exit
// code and stderr read back) and fails the test if it does not finish in time, so a
// hook that hangs fails here instead of freezing an editing session.
func runHook(t *testing.T, stdin any, env []string, name string, args ...string) hookResult {
	t.Helper()
	const limit = 90 * time.Second // go-check may compile a package with a cold cache
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	switch in := stdin.(type) {
	case string:
		cmd.Stdin = strings.NewReader(in)
	case *os.File:
		cmd.Stdin = in
	default:
		t.Fatalf("runHook: stdin of type %T", stdin)
	}
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "CLAUDE_PROJECT_DIR=") || strings.HasPrefix(kv, "HOOK_STDIN_TIMEOUT=")
	}), "GOTOOLCHAIN=local")
	cmd.Env = append(cmd.Env, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "%s did not finish within %s; stderr:\n%s", args, limit, stderr.String())
	if _, ok := errors.AsType[*exec.ExitError](err); !ok {
		require.NoError(t, err)
	}
	return hookResult{code: cmd.ProcessState.ExitCode(), stderr: stderr.String()}
}

// runScript runs one of the kit's hook scripts with bash, with CLAUDE_PROJECT_DIR set
// to project.
func runScript(t *testing.T, script, project string, stdin any, env ...string) hookResult {
	t.Helper()
	env = append(env, "CLAUDE_PROJECT_DIR="+project)
	return runHook(t, stdin, env, "bash", filepath.Join(repoRoot(t), script))
}

func TestGuardSecretsBlocksSecrets(t *testing.T) {
	t.Parallel()
	project := t.TempDir()

	// path is what Claude sends; want is the file the hook must name.
	cases := []struct{ path, want string }{
		{".env", ".env"},
		{"./.env", ".env"},
		{"src/../.env", ".env"},
		{"src/./core/../..//.env", ".env"},
		{filepath.Join(project, ".env"), ".env"},
		{"/srv/salonbook/.env", "/srv/salonbook/.env"},
		{".ENV", ".ENV"},
		{".env.production", ".env.production"},
		{".env.local", ".env.local"},
		{"deploy/.env", "deploy/.env"},
		{"secrets/x.txt", "secrets/x.txt"},
		{"deploy/secrets/db-password", "deploy/secrets/db-password"},
		{".git/config", ".git/config"},
		{".git/hooks/pre-commit", ".git/hooks/pre-commit"},
		{"key.pem", "key.pem"},
		{"certs/server.key", "certs/server.key"},
		{"service-account.json", "service-account.json"},
		{"gcal-service-account-prod.json", "gcal-service-account-prod.json"},
		{"serviceaccount.json", "serviceaccount.json"},
		{"credentials.json", "credentials.json"},
		{"client_secret_1234.apps.googleusercontent.com.json", "client_secret_1234.apps.googleusercontent.com.json"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			t.Parallel()
			want := c.want
			if !filepath.IsAbs(want) {
				want = filepath.Join(project, want)
			}
			res := runScript(t, guardSecrets, project, writeCall(t, "PreToolUse", project, c.path))
			require.Equal(t, 2, res.code, "stderr: %s", res.stderr)
			require.Contains(t, res.stderr, "guard-secrets: blocked a write to "+want+":")
		})
	}

	// JSON may escape "/" and spell any character as \uXXXX; the hook decodes both.
	for _, raw := range []string{`src\/..\/.env`, `.\/.env`, `\u002eenv`, `secrets\u002fx.txt`} {
		t.Run("Escaped/"+raw, func(t *testing.T) {
			t.Parallel()
			input := `{"session_id":"x","cwd":"` + project + `","hook_event_name":"PreToolUse",` +
				`"tool_name":"Edit","tool_input":{"file_path":"` + raw + `","old_string":"a","new_string":"b"}}`
			res := runScript(t, guardSecrets, project, input)
			require.Equal(t, 2, res.code, "stderr: %s", res.stderr)
			require.Contains(t, res.stderr, "guard-secrets: blocked")
		})
	}

	t.Run("RelativeToProjectDirWithoutCwd", func(t *testing.T) {
		t.Parallel()
		res := runScript(t, guardSecrets, project, writeCall(t, "PreToolUse", "", ".env"))
		require.Equal(t, 2, res.code, "stderr: %s", res.stderr)
		require.Contains(t, res.stderr, filepath.Join(project, ".env"))
	})

	t.Run("ThroughSymlinks", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		require.NoError(t, os.Mkdir(filepath.Join(dir, "secrets"), 0o700))
		require.NoError(t, os.Symlink(".env", filepath.Join(dir, "settings.txt")))
		require.NoError(t, os.Symlink("secrets", filepath.Join(dir, "vault")))
		for _, path := range []string{"settings.txt", "vault/db.txt"} {
			res := runScript(t, guardSecrets, dir, writeCall(t, "PreToolUse", dir, path))
			require.Equal(t, 2, res.code, "%s: stderr: %s", path, res.stderr)
			require.Contains(t, res.stderr, "really ")
		}
	})
}

func TestGuardSecretsAllowsOrdinaryFiles(t *testing.T) {
	t.Parallel()
	project := t.TempDir()
	for _, path := range []string{
		".env.example", "README.md", "src/x.go", "src/../README.md", "src/core/secrets.go",
		"src/adapters/web/secret_test.go", "docs/keys.md", ".gitignore", ".github/workflows/ci.yml",
		"migrations/0002_wait_list.up.sql", filepath.Join(project, "CLAUDE.md"), ".claude/settings.json",
	} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			res := runScript(t, guardSecrets, project, writeCall(t, "PreToolUse", project, path))
			require.Equal(t, 0, res.code, "stderr: %s", res.stderr)
			require.Empty(t, res.stderr)
		})
	}

	// Only tool_input.file_path counts, wherever it sits: text inside the content
	// (where every quote is escaped) is never taken for it.
	t.Run("FilePathMentionedInContent", func(t *testing.T) {
		t.Parallel()
		content, err := json.Marshal(`{"file_path": ".env", "cwd": "/"}` + "\n" + `secrets/x .git/config`)
		require.NoError(t, err)
		for _, c := range []struct {
			path string
			code int
		}{{"README.md", 0}, {".env", 2}} {
			input := `{"session_id":"x","cwd":"` + project + `","hook_event_name":"PreToolUse","tool_name":"Write",` +
				`"tool_input":{"content":` + string(content) + `,"file_path":"` + c.path + `"}}`
			res := runScript(t, guardSecrets, project, input)
			require.Equal(t, c.code, res.code, "%s: stderr: %s", c.path, res.stderr)
		}
	})
}

// hookMessages is what each hook says on stderr when it lets input through unread.
var hookMessages = map[string]string{guardSecrets: "guard-secrets: allowing: ", goCheck: "go-check: skipped: "}

func TestHooksAllowInputTheyCannotRead(t *testing.T) {
	t.Parallel()
	project := t.TempDir()
	inputs := map[string]string{
		"Empty":           "",
		"Blank":           "  \n\t\n",
		"NotJSON":         "file_path=.env",
		"NoFilePath":      `{"session_id":"x","tool_name":"Write","tool_input":{}}`,
		"EmptyFilePath":   `{"session_id":"x","tool_name":"Write","tool_input":{"file_path":""}}`,
		"Truncated":       `{"session_id":"x","tool_name":"Write","tool_input":{"file_path":".en`,
		"BadEscape":       `{"session_id":"x","tool_name":"Write","tool_input":{"file_path":"\q.env"}}`,
		"FilePathNotText": `{"session_id":"x","tool_name":"Write","tool_input":{"file_path":42}}`,
	}
	for script, message := range hookMessages {
		for name, input := range inputs {
			t.Run(filepath.Base(script)+"/"+name, func(t *testing.T) {
				t.Parallel()
				res := runScript(t, script, project, input)
				require.Equal(t, 0, res.code, "stderr: %s", res.stderr)
				require.Contains(t, res.stderr, message)
			})
		}
	}
}

// A hook whose stdin is never closed must still return: it gives up after
// HOOK_STDIN_TIMEOUT seconds and allows, saying why.
func TestHooksNeverHang(t *testing.T) {
	t.Parallel()
	for script, message := range hookMessages {
		t.Run(filepath.Base(script), func(t *testing.T) {
			t.Parallel()
			r, w, err := os.Pipe()
			require.NoError(t, err)
			t.Cleanup(func() { _ = w.Close() })
			defer func() { _ = r.Close() }()
			start := time.Now()
			res := runScript(t, script, t.TempDir(), r, "HOOK_STDIN_TIMEOUT=1")
			require.Equal(t, 0, res.code, "stderr: %s", res.stderr)
			require.Contains(t, res.stderr, message)
			require.Less(t, time.Since(start), 30*time.Second)
		})
	}
}

// goModule makes a throwaway Go module holding files (path -> content), so that the
// Go hook never builds the repository itself.
func goModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["go.mod"] = "module example.com/kit\n\ngo 1.26\n"
	for name, content := range files {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	return dir
}

func TestGoCheck(t *testing.T) {
	t.Parallel()
	const good = "package salon\n\n// Open says whether the salon is open.\nfunc Open() bool { return true }\n"

	cases := []struct {
		name   string
		files  map[string]string
		edited string // relative to the module root
		code   int
		stderr []string // fragments stderr must hold
	}{
		{name: "CorrectFileAllowed", files: map[string]string{"salon/salon.go": good},
			edited: "salon/salon.go", code: 0},
		{name: "TypeErrorBlocked", files: map[string]string{
			"salon/salon.go": "package salon\n\nfunc Seats() int {\n\tvar n int = \"three\"\n\treturn n\n}\n"},
			edited: "salon/salon.go", code: 2,
			stderr: []string{"go build ./salon failed", "salon/salon.go:4:14: cannot use \"three\""}},
		{name: "BadlyFormattedBlocked", files: map[string]string{
			"salon/salon.go": "package salon\nfunc  Open( ) bool {return true}\n"},
			edited: "salon/salon.go", code: 2,
			stderr: []string{"not gofmt-formatted", "gofmt -w salon/salon.go", "+func Open() bool { return true }"}},
		{name: "SyntaxErrorBlocked", files: map[string]string{
			"salon/salon.go": "package salon\n\nfunc Open( bool {\n"},
			edited: "salon/salon.go", code: 2, stderr: []string{"gofmt cannot parse salon/salon.go", "salon.go:3"}},
		{name: "TestFileTypeErrorBlocked", files: map[string]string{
			"salon/salon.go": good,
			"salon/salon_test.go": "package salon\n\nimport \"testing\"\n\nfunc TestOpen(t *testing.T) {\n" +
				"\tif Open() == 1 {\n\t\tt.Fatal()\n\t}\n}\n"},
			edited: "salon/salon_test.go", code: 2,
			stderr: []string{"go vet ./salon failed", "salon/salon_test.go:6:"}},
		{name: "VetFindingBlocked", files: map[string]string{
			"salon/salon.go": "package salon\n\nimport \"fmt\"\n\n// Hello greets.\n" +
				"func Hello() string { return fmt.Sprintf(\"%d\", \"anna\") }\n"},
			edited: "salon/salon.go", code: 2, stderr: []string{"go vet ./salon failed", "Sprintf format %d"}},
		{name: "MainPackageAtRootAllowed", files: map[string]string{"main.go": "package main\n\nfunc main() {}\n"},
			edited: "main.go", code: 0},
		{name: "OnlyTestFilesAllowed", files: map[string]string{
			"salon/salon_test.go": "package salon\n\nimport \"testing\"\n\nfunc TestNothing(t *testing.T) {}\n"},
			edited: "salon/salon_test.go", code: 0},
		{name: "NonGoFileIgnored", files: map[string]string{"notes.md": "package salon\nfunc  (\n"},
			edited: "notes.md", code: 0},
		{name: "DeletedFileSkipped", files: map[string]string{"salon/salon.go": good},
			edited: "salon/gone.go", code: 0, stderr: []string{"go-check: skipped:", "does not exist"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			mod := goModule(t, c.files)
			res := runScript(t, goCheck, mod, writeCall(t, "PostToolUse", mod, c.edited))
			require.Equal(t, c.code, res.code, "stderr: %s", res.stderr)
			for _, s := range c.stderr {
				require.Contains(t, res.stderr, s)
			}
			if c.code == 0 && len(c.stderr) == 0 {
				require.Empty(t, res.stderr)
			}
			// Building a main package must not leave a binary behind.
			want := map[string]bool{}
			for name := range c.files {
				want[strings.SplitN(name, "/", 2)[0]] = true
			}
			entries, err := os.ReadDir(mod)
			require.NoError(t, err)
			var got []string
			for _, e := range entries {
				got = append(got, e.Name())
			}
			require.ElementsMatch(t, slices.Collect(maps.Keys(want)), got, "the hook left files in the module root")
		})
	}

	t.Run("AbsolutePathFromAnotherDirectory", func(t *testing.T) {
		t.Parallel()
		mod := goModule(t, map[string]string{"salon/salon.go": "package salon\n\nvar Seats int = \"three\"\n"})
		res := runScript(t, goCheck, t.TempDir(), writeCall(t, "PostToolUse", "/", filepath.Join(mod, "salon/salon.go")))
		require.Equal(t, 2, res.code, "stderr: %s", res.stderr)
		require.Contains(t, res.stderr, `cannot use "three"`)
	})

	t.Run("OutsideAModuleSkipped", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "x.go"), []byte("package x\n"), 0o644))
		res := runScript(t, goCheck, dir, writeCall(t, "PostToolUse", dir, "x.go"))
		require.Equal(t, 0, res.code, "stderr: %s", res.stderr)
		require.Contains(t, res.stderr, "not inside a Go module")
	})
}

type settings struct {
	Hooks map[string][]struct {
		Matcher string `json:"matcher"`
		Hooks   []struct {
			Type    string `json:"type"`
			Command string `json:"command"`
			Timeout int    `json:"timeout"`
		} `json:"hooks"`
	} `json:"hooks"`
}

func TestSettingsWiresTheHooks(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	raw, err := os.ReadFile(filepath.Join(root, ".claude/settings.json"))
	require.NoError(t, err)
	var s settings
	require.NoError(t, json.Unmarshal(raw, &s), ".claude/settings.json is not valid JSON")

	// For each event, the input that proves the configured command runs the right
	// script: the guard blocks .env, the Go check lets a Markdown file pass.
	for event, want := range map[string]struct {
		script, file string
		code         int
	}{
		"PreToolUse":  {guardSecrets, ".env", 2},
		"PostToolUse": {goCheck, "README.md", 0},
	} {
		t.Run(event, func(t *testing.T) {
			t.Parallel()
			var commands []string
			for _, group := range s.Hooks[event] {
				if group.Matcher != editTools {
					continue
				}
				for _, h := range group.Hooks {
					require.Equal(t, "command", h.Type)
					require.Positive(t, h.Timeout)
					commands = append(commands, h.Command)
				}
			}
			require.Equal(t, []string{`"$CLAUDE_PROJECT_DIR"/` + want.script}, commands,
				"hooks.%s with matcher %q", event, editTools)

			info, err := os.Stat(filepath.Join(root, want.script))
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o111), info.Mode().Perm()&0o111, "%s is not executable", want.script)

			// Run the command exactly as Claude Code does: through the shell, with
			// CLAUDE_PROJECT_DIR set, from another directory.
			project := t.TempDir()
			res := runHook(t, writeCall(t, event, project, want.file), []string{"CLAUDE_PROJECT_DIR=" + root},
				"sh", "-c", "cd / && "+commands[0])
			require.Equal(t, want.code, res.code, "stderr: %s", res.stderr)
		})
	}
}

// frontMatter splits a Markdown file into its YAML front matter, decoded, and its body.
func frontMatter(t *testing.T, path string) (map[string]any, string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	text, ok := strings.CutPrefix(string(raw), "---\n")
	require.True(t, ok, "%s does not start with a --- front matter line", path)
	head, body, ok := strings.Cut(text, "\n---\n")
	require.True(t, ok, "%s: front matter is not closed by ---", path)
	var fm map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(head), &fm), "%s: front matter is not YAML", path)
	require.NotEmpty(t, strings.TrimSpace(body), "%s has no instructions after the front matter", path)
	return fm, body
}

var skillName = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

func TestAgentAndSkillFrontMatter(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)

	t.Run("CodeReviewer", func(t *testing.T) {
		t.Parallel()
		fm, _ := frontMatter(t, filepath.Join(root, ".claude/agents/code-reviewer.md"))
		require.Equal(t, "code-reviewer", fm["name"])
		require.NotEmpty(t, fm["description"])
		tools, ok := fm["tools"].(string)
		require.True(t, ok, "tools must be a comma-separated string")
		var got []string
		for tool := range strings.SplitSeq(tools, ",") {
			got = append(got, strings.TrimSpace(tool))
		}
		// Read-only on purpose: a reviewer that can edit fixes instead of reporting.
		require.ElementsMatch(t, []string{"Read", "Grep", "Glob", "Bash"}, got)
		require.Contains(t, []any{"inherit", "sonnet", "opus", "haiku"}, fm["model"])
	})

	t.Run("AddFeature", func(t *testing.T) {
		t.Parallel()
		fm, body := frontMatter(t, filepath.Join(root, ".claude/skills/add-feature/SKILL.md"))
		name, _ := fm["name"].(string)
		require.Equal(t, "add-feature", name, "the skill's name must match its directory")
		require.Regexp(t, skillName, name)
		description, _ := fm["description"].(string)
		require.NotEmpty(t, description)
		require.LessOrEqual(t, len(description), 1024)
		require.Contains(t, body, "code-reviewer", "the skill must hand the diff to the reviewer agent")
	})
}

// Every variable src/cmd/salonbook/config.go reads must be documented in .env.example.
func TestEnvExampleListsEveryVariable(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	config, err := os.ReadFile(filepath.Join(root, "src/cmd/salonbook/config.go"))
	require.NoError(t, err)
	example, err := os.ReadFile(filepath.Join(root, ".env.example"))
	require.NoError(t, err)

	var names []string
	for _, m := range regexp.MustCompile(`getenv\("([A-Z0-9_]+)"\)`).FindAllSubmatch(config, -1) {
		names = append(names, string(m[1]))
	}
	for _, m := range regexp.MustCompile(`secret\(getenv, "([A-Z0-9_]+)"\)`).FindAllSubmatch(config, -1) {
		names = append(names, string(m[1]), string(m[1])+"_FILE")
	}
	require.GreaterOrEqual(t, len(names), 6, "found too few variables in config.go: %v", names)
	for _, name := range names {
		require.Regexp(t, `(?m)^(# )?`+name+`=`, string(example), ".env.example does not list %s", name)
	}
}

func TestGitignore(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	ignored := func(path string) bool {
		t.Helper()
		err := exec.Command("git", "-C", root, "check-ignore", "--no-index", "-q", path).Run()
		if err == nil {
			return true
		}
		exit, ok := errors.AsType[*exec.ExitError](err)
		if ok && exit.ExitCode() == 128 {
			t.Skipf("not a git work tree: %v", err)
		}
		require.True(t, ok && exit.ExitCode() == 1, "git check-ignore %s: %v", path, err)
		return false
	}
	for _, path := range []string{".env", ".env.production", "deploy/.env.local", ".data/postgres/data/PG_VERSION",
		"bin/salonbook", "salonbook.test", "coverage.out", "cpu.prof", ".claude/settings.local.json"} {
		require.True(t, ignored(path), "%s must be git-ignored", path)
	}
	for _, path := range []string{".env.example", ".claude/settings.json", "src/cmd/salonbook/main.go", "CLAUDE.md"} {
		require.False(t, ignored(path), "%s must not be git-ignored", path)
	}
}

// CLAUDE.md is read at the start of every session: it stays short, and the folders it
// sends Claude to exist.
func TestClaudeMDPointsAtRealFolders(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	raw, err := os.ReadFile(filepath.Join(root, "CLAUDE.md"))
	require.NoError(t, err)
	require.LessOrEqual(t, bytes.Count(raw, []byte("\n")), 80, "CLAUDE.md has grown past 80 lines")
	folders := regexp.MustCompile("`((?:src|migrations|scripts)/(?:[a-z0-9_.-]+/)*)`").FindAllSubmatch(raw, -1)
	require.NotEmpty(t, folders)
	for _, m := range folders {
		info, err := os.Stat(filepath.Join(root, string(m[1])))
		require.NoError(t, err, "CLAUDE.md names %s", m[1])
		require.True(t, info.IsDir(), "CLAUDE.md names %s as a folder", m[1])
	}
}

// TestDumpsAreIgnored: scripts/backup.sh writes dumps (names and phone numbers)
// under backups/ by default; git must never take one in.
func TestDumpsAreIgnored(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	root := repoRoot(t)
	for _, p := range []string{"backups/x.dump", "backups/salonbook-20270301T000000Z.dump.partial.1", "elsewhere/x.dump", "x.dump"} {
		cmd := exec.Command("git", "check-ignore", "--no-index", "-q", p)
		cmd.Dir = root
		require.NoError(t, cmd.Run(), "%s is not git-ignored", p)
	}
}
