"""Scenario 3: a Claude Code session and a Codex session ask and answer, both directions."""
import json
import os
import unittest

from harness import E2ETestCase


def codex_outputs(model):
    return model.codex_tool_outputs()


def claude_results(model):
    return model.claude_tool_results()


class CodexClaudeTest(E2ETestCase):
    def setUp(self):
        super().setUp()
        self.install_plugin()          # Claude Code
        self.codex_plugin_install()    # Codex loads the same repository as a plugin

    def manifests(self):
        return {p["name"]: json.load(open(os.path.join(self.home, ".claude", "session-bridge", "sessions", p["id"], "manifest.json")))
                for p in self.peers()}

    def test_codex_asks_claude_code(self):
        listener_model = self.model("claude-listener", "listener", answer="Use parse(strict: true) since v2")
        listener = self.start_claude("claude-listener", self.project("lib"), listener_model, "/bridge listen --loop")
        self.wait_for(lambda: any(p["name"] == "lib" for p in self.peers()), 60, "the Claude Code listener")
        asker_model = self.model("codex-asker", "asker", peer="lib", question="How do I parse strictly?", wait="25")
        asker = self.start_codex("codex-asker", self.project("app"), asker_model,
                                 "Ask the library session how to parse strictly.")
        self.assertEqual(asker.wait(180), 0)
        self.assertEqual(listener.wait(180), 0)
        # Codex saw the skill, found the helper from the skill's file path, and received the answer.
        self.assertIn("session-bridge:ask-peer", asker_model.all_text())
        self.assertTrue(any("parse(strict: true)" in o for o in codex_outputs(asker_model)), codex_outputs(asker_model)[-2:])
        self.assertTrue(any("How do I parse strictly?" in r for r in claude_results(listener_model)))
        m = self.manifests()
        self.assertEqual(m["app"]["agent"], "codex")
        self.assertTrue(m["app"].get("codexThreadId"))
        self.assertEqual(m["lib"]["agent"], "claude-code")

    def test_claude_code_asks_codex(self):
        listener_model = self.model("codex-listener", "listener", answer="The backend listens on port 8443", timeout="25")
        listener = self.start_codex("codex-listener", self.project("backend"), listener_model,
                                    "Listen for questions from other sessions with the session bridge and answer them.")
        self.wait_for(lambda: any(p["name"] == "backend" for p in self.peers()), 90, "the Codex listener")
        asker_model = self.model("claude-asker", "asker", peer="backend", question="Which port does the backend use?")
        asker = self.start_claude("claude-asker", self.project("frontend"), asker_model,
                                  "/bridge ask backend Which port does the backend use?")
        self.assertEqual(asker.wait(180), 0)
        self.assertEqual(listener.wait(180), 0)
        self.assertTrue(any("port 8443" in r for r in claude_results(asker_model)))
        self.assertTrue(any("Which port does the backend use?" in o for o in codex_outputs(listener_model)))
        m = self.manifests()
        self.assertEqual(m["backend"]["agent"], "codex")


if __name__ == "__main__":
    unittest.main()
