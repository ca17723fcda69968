"""Issue 4: peers reach a session that is busy or idle, through hooks; never twice; receipts show it."""
import json
import os
import re
import subprocess
import time
import unittest

from harness import E2ETestCase, Run, REPO, base_env

HEADER = re.compile(r"── message ([0-9a-f-]{36}) ──")


class HookDeliveryTest(E2ETestCase):
    runtimes = frozenset({"claude"})

    def setUp(self):
        super().setUp()
        self.install_plugin()
        # A plain shell session plays the asking peer.
        r = self.bridge("start", "--name", "asker", env_extra={"SESSION_BRIDGE_SESSION": "asker-key"})
        self.assertEqual(r.returncode, 0, r.stderr)

    def ask_in_background(self, peer, question, wait=90):
        env = base_env(HOME=self.home, SESSION_BRIDGE_SESSION="asker-key")
        run = Run("peer-ask", [os.path.join(REPO, "scripts", "session-bridge"), "ask", peer, question, "--wait", str(wait), "--json"],
                  self.work, env)
        self.track(run)
        return run

    def assert_each_message_once_per_request(self, model, message_id):
        """The peer message reached the model, and no request ever shows it twice."""
        seen_in = 0
        for r in model.requests():
            items = r["body"].get("messages") or r["body"].get("input") or []
            text = "\n".join(json.dumps(m, ensure_ascii=False) for m in items)
            ids = HEADER.findall(text)
            dup = {i for i in ids if ids.count(i) > 1}
            self.assertFalse(dup, f"request {r['n']} shows message(s) {dup} more than once")
            seen_in += message_id in ids
        self.assertGreater(seen_in, 0, f"message {message_id} never reached the model")

    def status_of(self, message_id):
        r = self.bridge("status", message_id, "--json", env_extra={"SESSION_BRIDGE_SESSION": "asker-key"})
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    # The sessions below never run /bridge nor a skill: all they know of the bridge is what its hooks show them, and
    # their models run only the commands shown there (fake_model.py). Listening, where a test needs it, is turned on
    # from outside, as a person does from a terminal.

    def test_busy_session_answers_through_hook_context(self):
        """A session busy with tool calls gets the question in its next request through PostToolUse context."""
        model = self.model("worker", "responder", steps="12", pause="0.5", answer="Worker says: use v3 tokens")
        worker = self.start_claude("worker", self.project("service"), model, "Refactor the token service.")
        # SessionStart registered the session before its first tool call.
        self.wait_for(lambda: any(p["name"] == "service" for p in self.peers()), 60, "the worker to register")
        self.wait_for(lambda: len(model.tool_requests()) >= 2, 60, "the worker to be busy")
        asker = self.ask_in_background("service", "Which token version should I use?")
        self.assertEqual(asker.wait(120), 0, asker.describe())
        self.assertEqual(worker.wait(120), 0)
        answer = json.loads(asker.stdout[asker.stdout.index("{"):])
        self.assertIn("use v3 tokens", answer["content"])
        # The question reached the model as hook context (a system message), not through a listen call.
        hook_seen = [r for r in model.requests() if "PostToolUse" in json.dumps(r["body"]) and "Which token version" in json.dumps(r["body"])]
        self.assertTrue(hook_seen, "the question never reached the model through hook context")
        self.assert_each_message_once_per_request(model, answer["inReplyTo"])
        st = self.status_of(answer["inReplyTo"])
        self.assertTrue(st["seen"])
        self.assertEqual(st["claimedVia"], "hook")
        self.assertEqual(st["state"], "answered")
        self.assert_never_bridged(model)

    def test_foreground_stop_hook_listening(self):
        """`/bridge listen` (foreground): the synchronous Stop hook waits and continues the session with each message."""
        model = self.model("fg", "responder", mode="foreground", answers="1", off="1", answer="Foreground listener here")
        listener = self.start_claude("fg", self.project("lib"), model, "/bridge status")
        self.wait_for(lambda: any(p["name"] == "lib" and p["listening"] for p in self.peers()), 60, "foreground listening")
        # Ask once the turn has ended and the Stop hook waits; asked earlier, the PostToolUse hook delivers it instead.
        self.wait_for(lambda: any(r["action"].get("text", "").startswith("idle") for r in model.requests()), 60, "the turn to end")
        asker = self.ask_in_background("lib", "Are you listening?")
        self.assertEqual(asker.wait(120), 0, asker.describe())
        self.assertEqual(listener.wait(120), 0)
        self.assertIn("Foreground listener here", asker.stdout)
        self.assertTrue(any("Stop hook feedback" in json.dumps(r["body"]) and "Are you listening?" in json.dumps(r["body"])
                            for r in model.requests()))
        answer = json.loads(asker.stdout[asker.stdout.index("{"):])
        self.assert_each_message_once_per_request(model, answer["inReplyTo"])

    def test_foreground_stop_hook_in_a_never_bridged_session(self):
        """Foreground listening turned on from outside while the session works: its Stop hook delivers the question,
        the model answers with the command shown there, and turns listening off with the command the hook's
        "still listening" feedback shows."""
        model = self.model("fg", "responder", steps="8", pause="0.5", answers="1", off="1", answer="Foreground, never bridged")
        listener = self.start_claude("fg", self.project("lib"), model, "Tidy up the parser module.",
                                     env_extra={"SESSION_BRIDGE_STOP_WAIT_SECONDS": "4"})
        self.wait_for(lambda: any(p["name"] == "lib" for p in self.peers()), 60, "the session to register")
        self.set_listening("lib", "foreground")
        self.wait_for(lambda: any(r["action"].get("text", "").startswith("idle") for r in model.requests()), 60, "the turn to end")
        asker = self.ask_in_background("lib", "Are you listening?")
        self.assertEqual(asker.wait(120), 0, asker.describe())
        self.assertIn("Foreground, never bridged", asker.stdout)
        self.assertEqual(listener.wait(120), 0, listener.describe())
        self.assertTrue(any("Stop hook feedback" in json.dumps(r["body"]) and "Are you listening?" in json.dumps(r["body"])
                            for r in model.requests()))
        answer = json.loads(asker.stdout[asker.stdout.index("{"):])
        self.assert_each_message_once_per_request(model, answer["inReplyTo"])
        st = self.status_of(answer["inReplyTo"])
        self.assertEqual((st["claimedVia"], st["state"]), ("hook", "answered"))
        self.assertFalse(any(p["name"] == "lib" and p["listening"] for p in self.peers()), "the model never turned listening off")
        self.assert_never_bridged(model)

    def start_streaming(self, name, project, model, prompt):
        """A session kept alive by streamed input (asyncRewake hooks run truly in the background then)."""
        cmd = [self.claude_bin, "-p", "--dangerously-skip-permissions", "--input-format", "stream-json",
               "--output-format", "stream-json", "--verbose"]
        run = Run(name, cmd, self.project(project), self.claude_env(model), stdin=subprocess.PIPE)
        self.track(run)
        run.proc.stdin.write((json.dumps({"type": "user", "message": {"role": "user", "content": prompt}}) + "\n").encode())
        run.proc.stdin.flush()
        return run

    def test_background_listening_wakes_idle_session(self):
        """`/bridge listen --background`: an asyncRewake Stop hook wakes the idle session (stream-json keeps it alive)."""
        model = self.model("bg", "responder", mode="background", answers="1", off="1", answer="Background listener here")
        run = self.start_streaming("bg", "backend", model, "/bridge status")
        self.wait_for(lambda: any(p["name"] == "backend" and p["listening"] for p in self.peers()), 60, "background listening")
        # The turn ends and the session is idle; the question arrives later and wakes it.
        self.wait_for(lambda: any(r["action"].get("text", "").startswith("idle") for r in model.requests()), 60, "the session to go idle")
        asker = self.ask_in_background("backend", "What is your health endpoint?")
        self.assertEqual(asker.wait(120), 0, asker.describe())
        self.assertIn("Background listener here", asker.stdout)
        self.wait_for(lambda: not any(p["name"] == "backend" and p["listening"] for p in self.peers()), 60, "listen --off")
        run.proc.stdin.close()
        run.wait(60)
        woke = [r for r in model.requests() if "What is your health endpoint?" in json.dumps(r["body"])]
        self.assertTrue(woke)
        answer = json.loads(asker.stdout[asker.stdout.index("{"):])
        self.assert_each_message_once_per_request(model, answer["inReplyTo"])
        st = self.status_of(answer["inReplyTo"])
        self.assertEqual((st["claimedVia"], st["state"]), ("hook", "answered"))

    def test_background_listening_wakes_a_never_bridged_session(self):
        """Background listening turned on from outside while the session works: once idle, the asyncRewake hook wakes
        it with the question and the model answers with the command shown in that wake-up text."""
        model = self.model("bg", "responder", steps="8", pause="0.5", answers="1", answer="Background, never bridged")
        run = self.start_streaming("bg", "backend", model, "Check the health endpoint code.")
        self.wait_for(lambda: any(p["name"] == "backend" for p in self.peers()), 60, "the session to register")
        self.set_listening("backend", "background")
        self.wait_for(lambda: any(r["action"].get("text", "").startswith("idle") for r in model.requests()), 60, "the session to go idle")
        asker = self.ask_in_background("backend", "What is your health endpoint?")
        self.assertEqual(asker.wait(120), 0, asker.describe())
        self.assertIn("Background, never bridged", asker.stdout)
        self.set_listening("backend", "off")
        run.proc.stdin.close()
        run.wait(60)
        woke = [r for r in model.requests() if "What is your health endpoint?" in json.dumps(r["body"])]
        self.assertTrue(woke)
        self.assertTrue(any("Stop hook" in json.dumps(r["body"]) for r in woke), "the question did not come with the wake-up")
        answer = json.loads(asker.stdout[asker.stdout.index("{"):])
        self.assert_each_message_once_per_request(model, answer["inReplyTo"])
        st = self.status_of(answer["inReplyTo"])
        self.assertEqual((st["claimedVia"], st["state"]), ("hook", "answered"))
        self.assert_never_bridged(model)

    def assert_never_bridged(self, model):
        """The session's context never held the /bridge command's or a skill's text."""
        text = model.all_text()
        for marker in ("# /bridge: session bridge", "Base directory for this skill", "# Ask a peer session", "# Talk with peer sessions"):
            self.assertNotIn(marker, text)


class CodexHookTest(E2ETestCase):
    """The same hooks in Codex: one hooks.json serves both runtimes."""
    runtimes = frozenset({"codex"})


    def setUp(self):
        super().setUp()
        self.codex_plugin_install()
        r = self.bridge("start", "--name", "asker", env_extra={"SESSION_BRIDGE_SESSION": "asker-key"})
        self.assertEqual(r.returncode, 0, r.stderr)

    ask_in_background = HookDeliveryTest.ask_in_background
    assert_each_message_once_per_request = HookDeliveryTest.assert_each_message_once_per_request
    status_of = HookDeliveryTest.status_of

    def test_codex_session_start_binds_the_same_session_as_its_shell(self):
        cmd = f"'{REPO}/scripts/session-bridge' status --json"
        model = self.model("codex-one", "commands", cmd1=cmd)
        run = self.start_codex("codex-one", self.project("tool"), model, f"Show the session bridge status: run `{cmd}`.")
        self.assertEqual(run.wait(120), 0, run.describe())
        sessions = [p for p in self.peers() if p["name"].startswith("tool")]
        self.assertEqual(len(sessions), 1, sessions)
        self.assertEqual(sessions[0]["agent"], "codex")
        self.assertIn('"you"', model.codex_tool_outputs()[-1])

    # As in HookDeliveryTest, these sessions never read a skill: they know only what the hooks show them.

    def test_busy_codex_session_gets_the_question_through_hook_context(self):
        model = self.model("codex-worker", "responder", steps="12", pause="0.5", answer="Codex worker: schema v7")
        worker = self.start_codex("codex-worker", self.project("indexer"), model, "Do the indexing work.")
        self.wait_for(lambda: any(p["name"] == "indexer" for p in self.peers()), 60, "the Codex worker to register")
        self.wait_for(lambda: len(model.tool_requests()) >= 2, 60, "the worker to be busy")
        asker = self.ask_in_background("indexer", "Which schema version is live?")
        self.assertEqual(asker.wait(120), 0, asker.describe())
        self.assertEqual(worker.wait(120), 0)
        answer = json.loads(asker.stdout[asker.stdout.index("{"):])
        self.assertIn("schema v7", answer["content"])
        st = self.status_of(answer["inReplyTo"])
        self.assertEqual((st["claimedVia"], st["state"]), ("hook", "answered"))
        self.assert_each_message_once_per_request(model, answer["inReplyTo"])
        self.assert_never_bridged(model)

    def test_codex_foreground_stop_hook_listening(self):
        """Foreground listening turned on from outside: Codex's Stop hook continues the session with the question;
        the model answers with the command shown and turns listening off with the command the "still listening"
        feedback shows."""
        model = self.model("codex-fg", "responder", steps="6", pause="0.5", answers="1", off="1", answer="Codex listener here")
        listener = self.start_codex("codex-fg", self.project("ledger"), model, "Reconcile the ledger.",
                                    env_extra={"SESSION_BRIDGE_STOP_WAIT_SECONDS": "4"})
        self.wait_for(lambda: any(p["name"] == "ledger" for p in self.peers()), 60, "the Codex session to register")
        self.set_listening("ledger", "foreground")
        # Ask once the turn has ended and the Stop hook waits; asked earlier, the PostToolUse hook delivers it instead.
        self.wait_for(lambda: any(r["action"].get("text", "").startswith("idle") for r in model.requests()), 60, "the turn to end")
        asker = self.ask_in_background("ledger", "Is the ledger balanced?")
        self.assertEqual(asker.wait(120), 0, asker.describe())
        self.assertEqual(listener.wait(120), 0, listener.describe())
        self.assertIn("Codex listener here", asker.stdout)
        self.assertTrue(any("hook_prompt" in json.dumps(r["body"]) and "Is the ledger balanced?" in json.dumps(r["body"])
                            for r in model.requests()))
        answer = json.loads(asker.stdout[asker.stdout.index("{"):])
        self.assert_each_message_once_per_request(model, answer["inReplyTo"])
        self.assertFalse(any(p["name"] == "ledger" and p["listening"] for p in self.peers()), "the model never turned listening off")
        self.assert_never_bridged(model)

    assert_never_bridged = HookDeliveryTest.assert_never_bridged


if __name__ == "__main__":
    unittest.main()
