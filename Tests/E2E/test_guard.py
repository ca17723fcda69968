"""Issue 6: the guard denies hand edits of talks and of the message store in the real runtimes."""
import json
import os
import unittest

from harness import E2ETestCase


class GuardTest(E2ETestCase):
    def make_talk(self, project):
        r = self.bridge("talk", "new", "guarded", "--with", "b", "--as", "a", "--dir", os.path.join(project, ".talks"))
        self.assertEqual(r.returncode, 0, r.stderr)
        tid = r.stdout.strip().split("\n")[-1]
        path = os.path.join(project, ".talks", "conversations", tid + ".md")
        return path, open(path).read()

    def test_claude_code_write_edit_and_bash_are_denied(self):
        self.install_plugin()
        project = self.project("proj")
        path, before = self.make_talk(project)
        store_file = os.path.join(self.home, ".claude", "session-bridge", "sessions", "forged.json")
        actions = [
            {"tool": "Write", "input": {"file_path": path, "content": "forged"}},
            {"tool": "Edit", "input": {"file_path": path, "old_string": "ACTIVE", "new_string": "RESOLVED"}},
            {"tool": "shell", "input": f"echo forged >> .talks/conversations/{os.path.basename(path)}"},
            {"tool": "Write", "input": {"file_path": store_file, "content": "{}"}},
            {"tool": "shell", "input": "echo ok > free.txt && cat .talks/conversations/*.md | head -3"},
        ]
        model = self.model("guarded", "attempts", actions=json.dumps(actions))
        run = self.start_claude("guarded", project, model, "try the edits")
        self.assertEqual(run.wait(120), 0)
        results = []
        for r in model.tool_requests():
            for m in r["body"].get("messages", []):
                for b in m.get("content") if isinstance(m.get("content"), list) else []:
                    if b.get("type") == "tool_result":
                        c = b.get("content")
                        results.append((b.get("is_error"), c if isinstance(c, str) else json.dumps(c)))
        results = list(dict.fromkeys(results))
        denied = [c for e, c in results if e and "session-bridge guard" in c]
        self.assertEqual(len(denied), 4, results)
        self.assertTrue(any("talk say" in c for c in denied))
        self.assertTrue(any("message store" in c for c in denied))
        self.assertEqual(open(path).read(), before)
        self.assertFalse(os.path.exists(store_file))
        self.assertEqual(open(os.path.join(project, "free.txt")).read(), "ok\n")

    def test_codex_apply_patch_and_shell_are_denied(self):
        self.codex_plugin_install()
        project = self.project("proj")
        path, before = self.make_talk(project)
        name = os.path.basename(path)
        actions = [
            {"tool": "apply_patch", "input": {"patch": f"*** Begin Patch\n*** Add File: {project}/.talks/conversations/forged.md\n+forged\n*** End Patch\n"}},
            {"tool": "apply_patch", "input": {"patch": f"*** Begin Patch\n*** Delete File: {path}\n*** End Patch\n"}},
            {"tool": "shell", "input": f"rm -f .talks/conversations/{name}"},
            {"tool": "shell", "input": f"cd .talks && sed -i 's/ACTIVE/RESOLVED/' conversations/{name}"},
            {"tool": "shell", "input": "echo ok > free.txt"},
        ]
        model = self.model("codex-guarded", "attempts", actions=json.dumps(actions))
        run = self.start_codex("codex-guarded", project, model, "try the edits")
        self.assertEqual(run.wait(120), 0, run.describe())
        outputs = model.codex_tool_outputs()
        outputs = list(dict.fromkeys(outputs))
        blocked = [o for o in outputs if "blocked by PreToolUse hook" in o and "session-bridge guard" in o]
        self.assertEqual(len(blocked), 4, outputs)
        self.assertEqual(open(path).read(), before)
        self.assertFalse(os.path.exists(os.path.join(project, ".talks", "conversations", "forged.md")))
        self.assertEqual(open(os.path.join(project, "free.txt")).read(), "ok\n")


if __name__ == "__main__":
    unittest.main()
