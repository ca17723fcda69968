"""Scenarios with the real Claude Code CLI driven by scripted models."""
import json
import os
import time
import unittest

from harness import E2ETestCase, REPO


class InstallTest(E2ETestCase):
    runtimes = frozenset({"claude"})

    def test_install_validate_and_listing(self):
        """Scenario 1: marketplace add + install offline, strict validation, command and skill listed to the model."""
        r = self.claude_plugin("validate", "--strict", "--profile", "directory", REPO)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.install_plugin()
        listed = json.loads(self.claude_plugin("list", "--json").stdout)
        self.assertTrue(any("session-bridge@session-bridge" in json.dumps(p) for p in listed), listed)
        model = self.model("lister", "commands")
        run = self.start_claude("lister", self.project("proj"), model, "hello")
        self.assertEqual(run.wait(120), 0)
        text = model.all_text()
        self.assertIn("session-bridge:bridge", text)
        self.assertIn("session-bridge:ask-peer", text)
        self.assertIn("ask the library about X", text)


class ListenAskTest(E2ETestCase):
    runtimes = frozenset({"claude"})

    def test_two_claude_sessions_ask_and_answer(self):
        """Scenario 2: /bridge listen in one real session answers a question from another real session."""
        self.install_plugin()
        lib = self.project("lib")
        app = self.project("app")
        listener_model = self.model("listener", "listener", answer="The parse() function now returns Result<Tree, ParseError>")
        listener = self.start_claude("listener", lib, listener_model, "/bridge listen --loop")
        # The listener registers itself through its first tool call; wait until it is there.
        self.wait_for(lambda: any(p["name"] == "lib" and p["state"] == "active" for p in self.peers()), 60, "the listener to register")
        asker_model = self.model("asker", "asker", peer="lib", question="What changed in the parse API?")
        asker = self.start_claude("asker", app, asker_model, "/bridge ask lib What changed in the parse API?")
        self.assertEqual(asker.wait(180), 0)
        self.assertEqual(listener.wait(180), 0)

        # The listener's model received the question in a tool result and replied through the helper.
        self.assertTrue(any("What changed in the parse API?" in r for r in self.tool_results(listener_model)))
        self.assertTrue(any(a.get("command", "").startswith('"' + self.plugin_root()) and " reply " in a.get("command", "")
                            for a in self.actions(listener_model)))
        # The asker's model received the answer in a tool result.
        self.assertTrue(any("Result<Tree, ParseError>" in r for r in self.tool_results(asker_model)))
        self.assertIn("Result<Tree, ParseError>", json.loads(asker.stdout)["result"])
        # Identities came from the runtime: both sessions are bound to their Claude Code session ids.
        peers = {p["name"]: p for p in self.peers()}
        self.assertEqual(peers["lib"]["agent"], "claude-code")
        self.assertEqual(peers["app"]["agent"], "claude-code")
        for name in ("lib", "app"):
            manifest = json.load(open(self.store(f"sessions/{peers[name]['id']}/manifest.json")))
            self.assertTrue(manifest.get("claudeSessionId"))
        # The store agrees: the question is answered (or the session ended after it).
        # The asker sent one query (its SessionEnd hook may also have sent a session-ended notice by now).
        folder = self.store(f"sessions/{peers['app']['id']}/sent")
        queries = [f for f in os.listdir(folder) if json.load(open(os.path.join(folder, f)))["type"] == "query"]
        self.assertEqual(len(queries), 1)
        receipts = open(self.store(f"sessions/{peers['app']['id']}/receipts/{queries[0][:-5]}.log")).read()
        self.assertIn('"answered"', receipts)

    def test_two_sessions_in_one_folder_are_distinct(self):
        """Scenario 4: two Claude Code sessions in the same project folder get distinct identities and talk."""
        self.install_plugin()
        proj = self.project("shared")
        listener_model = self.model("first", "listener", answer="first session here")
        listener = self.start_claude("first", proj, listener_model, "/bridge listen --loop")
        first = self.wait_for(lambda: [p for p in self.peers() if p["name"] == "shared"], 60, "the first session")[0]
        asker_model = self.model("second", "asker", peer=first["id"], question="Who are you?")
        asker = self.start_claude("second", proj, asker_model, f"/bridge ask {first['id']} Who are you?")
        self.assertEqual(asker.wait(180), 0)
        self.assertEqual(listener.wait(180), 0)
        peers = [p for p in self.peers() if p["projectPath"] == proj]
        self.assertEqual(len(peers), 2)
        self.assertNotEqual(peers[0]["id"], peers[1]["id"])
        self.assertEqual(sorted(p["name"] for p in peers), ["shared", "shared-2"])
        self.assertTrue(any("first session here" in r for r in self.tool_results(asker_model)))

    def test_ask_times_out_when_peer_is_not_listening(self):
        """Scenario 5: the peer exists but does not listen: ask --wait times out with exit 10, nothing half-written."""
        self.install_plugin()
        # A peer registered from a plain shell, never listening.
        r = self.bridge("start", "--name", "sleepy", env_extra={"SESSION_BRIDGE_SESSION": "sleepy-key"})
        self.assertEqual(r.returncode, 0, r.stderr)
        asker_model = self.model("asker", "asker", peer="sleepy", question="Are you there?", wait="2")
        asker = self.start_claude("asker", self.project("app"), asker_model, "/bridge ask sleepy Are you there? (wait at most 2 s)")
        self.assertEqual(asker.wait(120), 0)
        results = self.tool_results(asker_model)
        self.assertTrue(any("Exit code 10" in r and "has not been seen yet" in r for r in results), results[-1:])
        # The question is queued whole for the peer; when the asker's session ended, its SessionEnd hook told the
        # peer so. No temp files anywhere in the store.
        box = self.store("sessions/sleepy-key/inbox/new")
        pending = sorted((json.load(open(os.path.join(box, f))) for f in os.listdir(box)), key=lambda m: m["id"])
        self.assertEqual([m["type"] for m in pending], ["query", "session-ended"])
        self.assertEqual(pending[0]["content"].strip(), "Are you there?")
        asker_id = pending[0]["from"]
        manifest = json.load(open(self.store(f"sessions/{asker_id}/manifest.json")))
        self.assertEqual(manifest["state"], "ended")
        leftovers = [f for d, _, fs in os.walk(self.store("")) for f in fs if f.startswith(".")]
        self.assertEqual(leftovers, [])

    # -- helpers

    def store(self, rel):
        return os.path.join(self.home, ".claude", "session-bridge", rel)

    @staticmethod
    def tool_results(model):
        return model.claude_tool_results()

    @staticmethod
    def actions(model):
        return [r["action"] for r in model.requests()]


if __name__ == "__main__":
    unittest.main()
