// Package claudekit holds the tests of the Claude Code kit that ships with salonbook
// (CLAUDE.md, .claude/settings.json and its hooks, the code-reviewer agent, the
// add-feature skill, .env.example and .gitignore), and nothing else. It has no code of
// its own: the tests run the hook scripts the way Claude Code does and read the files.
package claudekit
