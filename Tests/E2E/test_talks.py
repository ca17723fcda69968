"""Issue 5: two real sessions hold a four-turn talk and resolve it (Claude Code with Claude Code, and with Codex)."""
import json
import os
import unittest

from harness import E2ETestCase


class TalkTest(E2ETestCase):
    def check_talk(self, initiator_project):
        talks_dir = os.path.join(initiator_project, ".talks")
        files = [f for f in os.listdir(os.path.join(talks_dir, "conversations")) if f.endswith(".md")]
        self.assertEqual(len(files), 1, files)
        r = self.bridge("talk", "show", files[0][:-3], "--json", "--dir", talks_dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        talk = json.loads(r.stdout)
        self.assertEqual(talk["status"], "RESOLVED")
        self.assertEqual(talk["turnCount"], 4)
        self.assertEqual([t["speaker"] for t in talk["turns"]], ["lib", "app", "lib", "app"])
        self.assertIn("Agreed after 4 turns", talk["resolution"])
        doctor = self.bridge("doctor", "--dir", talks_dir)
        self.assertEqual(doctor.returncode, 0, doctor.stdout + doctor.stderr)
        audit = open(os.path.join(talks_dir, "audit.log")).read()
        self.assertEqual(audit.count('"op":"say","result":"ok"'), 4)
        # Talk files stay out of git.
        self.assertIn(".talks/", open(os.path.join(initiator_project, ".gitignore")).read())
        return talk

    def test_claude_code_with_claude_code(self):
        self.install_plugin()
        lib, app = self.project("lib"), self.project("app")
        joiner_model = self.model("joiner", "talk-joiner")
        joiner = self.start_claude("joiner", app, joiner_model, "/bridge listen --loop")
        self.wait_for(lambda: any(p["name"] == "app" for p in self.peers()), 60, "the joiner to register")
        init_model = self.model("initiator", "talk-initiator", peer="app")
        initiator = self.start_claude("initiator", lib, init_model, "/bridge talk API contract with app")
        self.assertEqual(initiator.wait(240), 0)
        self.assertEqual(joiner.wait(240), 0)
        self.check_talk(lib)
        self.assertIn("talk finished", json.loads(initiator.stdout)["result"])

    def test_claude_code_with_codex(self):
        self.install_plugin()
        self.codex_plugin_install()
        lib, app = self.project("lib"), self.project("app")
        joiner_model = self.model("codex-joiner", "talk-joiner", wait="25")
        joiner = self.start_codex("codex-joiner", app, joiner_model, "Listen for peers and join any talk you are invited to.")
        self.wait_for(lambda: any(p["name"] == "app" for p in self.peers()), 90, "the Codex joiner to register")
        init_model = self.model("claude-initiator", "talk-initiator", peer="app")
        initiator = self.start_claude("claude-initiator", lib, init_model, "/bridge talk API contract with app")
        self.assertEqual(initiator.wait(240), 0)
        self.assertEqual(joiner.wait(240), 0)
        talk = self.check_talk(lib)
        peers = {p["name"]: p for p in self.peers()}
        self.assertEqual(peers["app"]["agent"], "codex")

    # The joiners below never run /bridge nor a skill: a busy session gets the invitation through its hooks, with the
    # join line the initiator copied from `talk new`, and takes its turns with the commands the talk output shows.

    def test_claude_code_with_a_busy_never_bridged_claude_code(self):
        self.install_plugin()
        lib, app = self.project("lib"), self.project("app")
        joiner_model = self.model("joiner", "talk-joiner", steps="60", pause="0.5", listen="0")
        joiner = self.start_claude("joiner", app, joiner_model, "Refactor the app's parser calls.")
        self.wait_for(lambda: any(p["name"] == "app" for p in self.peers()), 60, "the joiner to register")
        self.wait_for(lambda: len(joiner_model.tool_requests()) >= 2, 60, "the joiner to be busy")
        init_model = self.model("initiator", "talk-initiator", peer="app")
        initiator = self.start_claude("initiator", lib, init_model, "/bridge talk API contract with app")
        self.assertEqual(initiator.wait(240), 0)
        self.assertEqual(joiner.wait(240), 0)
        self.check_talk(lib)
        self.assertTrue(any("PostToolUse" in json.dumps(r["body"]) and "Please join talk" in json.dumps(r["body"])
                            for r in joiner_model.requests()), "the invitation did not come through hook context")
        self.assertNotIn("# /bridge: session bridge", joiner_model.all_text())

    def test_claude_code_with_a_busy_never_bridged_codex(self):
        self.install_plugin()
        self.codex_plugin_install()
        lib, app = self.project("lib"), self.project("app")
        joiner_model = self.model("codex-joiner", "talk-joiner", steps="60", pause="0.5", listen="0", skills="0")
        joiner = self.start_codex("codex-joiner", app, joiner_model, "Refactor the app's parser calls.")
        self.wait_for(lambda: any(p["name"] == "app" for p in self.peers()), 90, "the Codex joiner to register")
        self.wait_for(lambda: len(joiner_model.tool_requests()) >= 2, 60, "the joiner to be busy")
        init_model = self.model("claude-initiator", "talk-initiator", peer="app")
        initiator = self.start_claude("claude-initiator", lib, init_model, "/bridge talk API contract with app")
        self.assertEqual(initiator.wait(240), 0)
        self.assertEqual(joiner.wait(240), 0)
        self.check_talk(lib)
        self.assertEqual({p["name"]: p for p in self.peers()}["app"]["agent"], "codex")
        self.assertNotIn("# Talk with peer sessions", joiner_model.all_text())


if __name__ == "__main__":
    unittest.main()
