"""Issue 14: real sessions on two hosts share one Redis. Host A and host B are network namespaces (Tests/MultiHost's
set-up), each with its own host name, home and scripted models on its own loopback, neither able to see the other's
folders; SESSION_BRIDGE_STORE points both at the Redis host's address.

Claude Code on A listens and answers what Claude Code on B asks, with receipts saying the question was seen and
answered; then Claude Code on A opens a talk, Codex on B takes a turn, and A sees it."""
import json
import os
import sys
import unittest

from harness import E2ETestCase, HERE
from fake_model import QUERY_RE

sys.path.insert(0, os.path.join(HERE, "..", "MultiHost"))
import netns  # noqa: E402


class MultiHostTest(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        reason = netns.unavailable(tools=("redis-server", "redis-cli", "unshare", "mount"))
        if reason:
            raise unittest.SkipTest(f"two hosts need network namespaces: {reason}")
        try:
            super().setUpClass()
        except Exception as e:  # noqa: BLE001 (the CLIs could not be installed: say which, skip)
            raise unittest.SkipTest(f"Claude Code or Codex is not available: {e}")

    def setUp(self):
        super().setUp()
        self.net = netns.Network("sbe2e")
        self.addCleanup(self.net.cleanup)
        self.net.build()
        self.redis = netns.Redis(self.net, os.path.join(self.work, "redis"))
        self.redis.start()
        self.store = {"SESSION_BRIDGE_STORE": self.redis.url("e2e") + "&plaintext=ok"}
        self.hosts = {}
        for key in ("a", "b"):
            folder = os.path.join(self.work, "host-" + key)
            home = os.path.join(folder, "home")
            os.makedirs(home, mode=0o700)
            self.hosts[key] = {"folder": folder, "home": home}
        for key, other in (("a", "b"), ("b", "a")):
            h = self.hosts[key]
            h["run"] = self.net.on_host(key, [], hidden=[self.hosts[other]["folder"]])
            h["net"] = self.net.in_namespace(key, [])

    # -- one host's pieces

    def project(self, key, name):
        p = os.path.join(self.hosts[key]["folder"], name)
        os.makedirs(p, exist_ok=True)
        return p

    def model_on(self, key, name, policy, **args):
        return self.model(name, policy, prefix=self.hosts[key]["net"], **args)

    def claude_on(self, key, name, cwd, server, prompt):
        h = self.hosts[key]
        return self.start_claude(name, cwd, server, prompt, home=h["home"], env_extra=self.store, prefix=h["run"])

    def bridge_on(self, key, *args):
        h = self.hosts[key]
        return self.bridge(*args, home=h["home"], env_extra=self.store, prefix=h["run"])

    def peers_on(self, key):
        r = self.bridge_on(key, "peers", "--json", "--all")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return {p["name"]: p for p in json.loads(r.stdout)}

    def live_on(self, key, name, agent):
        p = self.peers_on(key).get(name)
        return p if p and p["agent"] == agent and p["state"] in ("active", "idle") else None

    # -- the scenario

    def test_claude_code_on_two_hosts_asks_and_answers_and_codex_takes_a_turn(self):
        for key in ("a", "b"):
            self.install_plugin(home=self.hosts[key]["home"])
        self.codex_plugin_install(home=self.hosts["b"]["home"])
        lib, core, app, ui = self.project("a", "lib"), self.project("a", "core"), self.project("b", "app"), self.project("b", "ui")
        # The two exchanges run side by side (they share no session): Claude Code listening on A for the question
        # from Claude Code on B, and Codex on B waiting for the talk Claude Code opens on A.
        listener_model = self.model_on("a", "a-listener", "listener", answer="parse() now returns Result<Tree, ParseError>")
        listener = self.claude_on("a", "a-listener", lib, listener_model, "/bridge listen --loop")
        joiner_model = self.model_on("b", "b-codex-joiner", "talk-joiner", wait="25")
        joiner = self.start_codex("b-codex-joiner", ui, joiner_model, "Listen for peers and join any talk you are invited to.",
                                  home=self.hosts["b"]["home"], env_extra=self.store, prefix=self.hosts["b"]["run"])
        seen = self.wait_for(lambda: self.live_on("b", "lib", "claude-code"), 60, "host B to see A's listener")
        self.assertEqual(seen["host"], netns.HOSTNAME["a"])
        seen = self.wait_for(lambda: self.live_on("a", "ui", "codex"), 90, "host A to see B's Codex session")
        self.assertEqual(seen["host"], netns.HOSTNAME["b"])
        asker_model = self.model_on("b", "b-asker", "asker", peer="lib", question="What changed in the parse API?")
        asker = self.claude_on("b", "b-asker", app, asker_model, "/bridge ask lib What changed in the parse API?")
        init_model = self.model_on("a", "a-initiator", "talk-initiator", peer="ui", turns="2")
        initiator = self.claude_on("a", "a-initiator", core, init_model, "/bridge talk API contract with ui")
        for run in (asker, listener, initiator, joiner):
            self.assertEqual(run.wait(150), 0, run.name)

        # Ask and answer: the question reached A's model, the answer B's model and B's session's result.
        questions = [r for r in listener_model.claude_tool_results() if "What changed in the parse API?" in r]
        self.assertTrue(questions, "the question never reached A's model")
        qid = QUERY_RE.search(questions[0]).group(1)
        self.assertTrue(any("Result<Tree, ParseError>" in r for r in asker_model.claude_tool_results()))
        self.assertIn("Result<Tree, ParseError>", json.loads(asker.stdout)["result"])
        peers = self.peers_on("a")
        self.assertEqual((peers["lib"]["host"], peers["app"]["host"]), (netns.HOSTNAME["a"], netns.HOSTNAME["b"]))
        self.assertEqual((peers["lib"]["agent"], peers["app"]["agent"], peers["ui"]["agent"]), ("claude-code", "claude-code", "codex"))
        # The receipts of the question, as the store keeps them on the Redis host (both sessions have ended, so no
        # command can act as either any more): claimed by A's listener into its model's context, answered once.
        rows = self.redis.cli("LRANGE", f"e2e:s:{peers['app']['id']}:rcpt:{qid}", "0", "-1").splitlines()
        events = [json.loads(row) for row in rows if row.strip()]
        kinds = [e["event"] for e in events]
        claimed = [e for e in events if e["event"] == "claimed"]
        self.assertTrue(claimed and claimed[0]["by"] == peers["lib"]["id"], events)
        self.assertEqual(kinds.count("answered"), 1, kinds)
        self.assertEqual([e["by"] for e in events if e["event"] == "answered"], [peers["lib"]["id"]])

        # The talk: Codex on B said turn 2; A's model read it (talk wait on A), and A's mirror and `talk show` hold it.
        codex_turn = "Turn 2 from the joiner"
        self.assertTrue(any(" talk say " in (r["action"].get("command") or "") and codex_turn in r["action"]["command"]
                            for r in joiner_model.requests()), "Codex never said its turn")
        self.assertTrue(any(codex_turn in r for r in init_model.claude_tool_results()), "A's model never saw B's turn")
        talks = os.path.join(core, ".talks")
        files = [f for f in os.listdir(os.path.join(talks, "conversations")) if f.endswith(".md")]
        self.assertEqual(len(files), 1, files)
        r = self.bridge_on("a", "talk", "show", files[0][:-3], "--json", "--dir", talks)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        talk = json.loads(r.stdout)
        self.assertEqual(talk["status"], "RESOLVED")
        self.assertEqual(talk["turnCount"], 2)
        self.assertEqual([t["speaker"] for t in talk["turns"]], ["core", "ui"])
        self.assertIn(codex_turn, talk["turns"][1]["content"])
        self.assertIn(codex_turn, open(os.path.join(talks, "conversations", files[0])).read())


if __name__ == "__main__":
    unittest.main()
