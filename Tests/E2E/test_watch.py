"""The watcher with a real interactive Claude Code session in a tmux pane: a person launches it with
`session-bridge launch`, the session sits idle (not listening), a peer asks it something, and the watcher types a
prompt into its pane; the session's UserPromptSubmit hook shows it the question and it answers."""
import json
import os
import shlex
import shutil
import subprocess
import time
import unittest

from harness import REPO, E2ETestCase, base_env


@unittest.skipIf(shutil.which("tmux") is None, "needs tmux (scripts/prerequisites installs it)")
class WatchWakesAnIdleSessionTest(E2ETestCase):
    runtimes = frozenset({"claude"})


    def setUp(self):
        super().setUp()
        self.socket = os.path.join(self.work, "tmux.sock")
        self.watcher = None

    def tearDown(self):
        if self.watcher is not None and self.watcher.poll() is None:
            self.watcher.kill()
            self.watcher.wait()
        # What the pane showed, for diagnosis (kept with the workspace when the test fails).
        r = subprocess.run(["tmux", "-S", self.socket, "capture-pane", "-p", "-t", "lib"], capture_output=True, text=True)
        with open(os.path.join(self.work, "pane.txt"), "w") as f:
            f.write(r.stdout)
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True)
        super().tearDown()

    def interactive_home(self, workdir):
        """What an interactive Claude Code needs to start without questions (onboarding, folder trust, API key)."""
        with open(os.path.join(self.home, ".claude.json"), "w") as f:
            json.dump({"hasCompletedOnboarding": True, "projects": {workdir: {"hasTrustDialogAccepted": True}},
                       "customApiKeyResponses": {"approved": ["sk-test"], "rejected": []}}, f)
        os.makedirs(os.path.join(self.home, ".claude"), exist_ok=True)
        path = os.path.join(self.home, ".claude", "settings.json")
        settings = json.load(open(path)) if os.path.exists(path) else {}   # keeps the installed plugin enabled
        settings["skipDangerousModePermissionPrompt"] = True
        with open(path, "w") as f:
            json.dump(settings, f)

    def test_watcher_wakes_an_idle_interactive_session(self):
        self.install_plugin()
        lib = self.project("library")
        self.interactive_home(lib)
        model = self.model("lib", "responder", answer="Library says: call parse() with strict=true")
        helper = os.path.join(REPO, "scripts", "session-bridge")
        # A person in tmux: `session-bridge launch --alias lib -- claude …` binds the pane and starts the agent.
        env = self.claude_env(model)
        launch = f"'{helper}' launch --alias lib -- '{self.claude_bin}' --dangerously-skip-permissions"
        r = subprocess.run(["tmux", "-S", self.socket, "-f", "/dev/null", "new-session", "-d", "-s", "lib", "-x", "160",
                            "-y", "50", "-c", lib, launch], env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        # SessionStart registers the session under the launch alias.
        self.wait_for(lambda: any(p["name"] == "lib" and p["state"] in ("active", "idle") for p in self.peers()), 60,
                      "the interactive session to register as lib")
        self.assertEqual(model.requests(), [], "the idle session should not have called the model yet")
        self.watcher = subprocess.Popen([helper, "watch", "--debounce-ms", "200"], env=base_env(HOME=self.home),
                                        stdout=open(os.path.join(self.work, "watch.out"), "w"), stderr=subprocess.STDOUT)
        asker = self.bridge("start", "--name", "app", env_extra={"SESSION_BRIDGE_SESSION": "app-key"})
        self.assertEqual(asker.returncode, 0, asker.stderr)
        answer = self.bridge("ask", "lib", "--wait", "90", "--json", env_extra={"SESSION_BRIDGE_SESSION": "app-key"},
                             stdin="Which flag makes parse() strict?", timeout=120)
        # The watcher logs a prompt once it has seen it submitted, which can be after the answer came back.
        log_path = os.path.join(self.work, "watch.out")
        if answer.returncode == 0:
            self.wait_for(lambda: "injected into lib" in open(log_path).read(), 15, "the watcher to log its prompt")
        watch_log = open(log_path).read()
        self.assertEqual(answer.returncode, 0, answer.stdout + answer.stderr + "\nwatcher:\n" + watch_log)
        self.assertIn("strict=true", json.loads(answer.stdout)["content"])
        # Exactly one prompt typed, into the right pane; the question reached the model through the prompt hook.
        self.assertEqual(watch_log.count("injected into lib"), 1, watch_log)
        prompts = [r for r in model.requests() if "A message from app is waiting" in json.dumps(r["body"])]
        self.assertTrue(prompts, "the typed prompt never reached the model")
        self.assertTrue(any("Which flag makes parse() strict?" in json.dumps(r["body"]) for r in prompts))
        # The session never ran /bridge nor a skill: it answered with the command its hooks showed it.
        self.assertNotIn("# /bridge: session bridge", model.all_text())


@unittest.skipIf(shutil.which("tmux") is None, "needs tmux (scripts/prerequisites installs it)")
class WatchWakesAnIdleCodexSessionTest(WatchWakesAnIdleSessionTest):
    """The same with an interactive Codex session: the watcher types into its pane, Codex's UserPromptSubmit hook
    shows the question, and the model answers with the command shown there."""
    runtimes = frozenset({"codex"})


    test_watcher_wakes_an_idle_interactive_session = None

    def test_watcher_wakes_an_idle_interactive_codex_session(self):
        self.codex_plugin_install()
        lib = self.project("library")
        with open(os.path.join(self.codex_home(), "config.toml"), "a") as f:   # folder trust, asked otherwise
            f.write(f'\n[projects."{lib}"]\ntrust_level = "trusted"\n')
        model = self.model("lib", "responder", answer="Codex library says: call parse() with strict=true")
        helper = os.path.join(REPO, "scripts", "session-bridge")
        provider = (f'model_providers.fake={{name="fake",base_url="{model.url}/v1",wire_api="responses",'
                    f'request_max_retries=0,stream_max_retries=0}}')
        codex = " ".join(shlex.quote(a) for a in [self.codex_bin, "--dangerously-bypass-approvals-and-sandbox",
                                                   "--dangerously-bypass-hook-trust", "-m", "gpt-5.5", "-c",
                                                   "model_provider=fake", "-c", provider])
        env = base_env(HOME=self.home, CODEX_HOME=self.codex_home())
        r = subprocess.run(["tmux", "-S", self.socket, "-f", "/dev/null", "new-session", "-d", "-s", "lib", "-x", "160",
                            "-y", "50", "-c", lib, f"{shlex.quote(helper)} launch --alias lib -- {codex}"],
                           env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        # Codex starts its thread, and so runs SessionStart, with the first prompt: the person types one, and the
        # session then sits idle.
        self.wait_for(lambda: "OpenAI Codex" in self.pane_text(), 60, "the Codex TUI to start")
        self.type_into_pane("Look around this library.")
        self.wait_for(lambda: any(p["name"] == "lib" and p["state"] in ("active", "idle") for p in self.peers()), 60,
                      "the interactive Codex session to register as lib")
        self.wait_for(lambda: any(r["action"].get("text", "").startswith("idle") for r in model.requests()), 60,
                      "the first turn to end")
        before = len(model.requests())
        self.watcher = subprocess.Popen([helper, "watch", "--debounce-ms", "200"], env=base_env(HOME=self.home),
                                        stdout=open(os.path.join(self.work, "watch.out"), "w"), stderr=subprocess.STDOUT)
        asker = self.bridge("start", "--name", "app", env_extra={"SESSION_BRIDGE_SESSION": "app-key"})
        self.assertEqual(asker.returncode, 0, asker.stderr)
        answer = self.bridge("ask", "lib", "--wait", "90", "--json", env_extra={"SESSION_BRIDGE_SESSION": "app-key"},
                             stdin="Which flag makes parse() strict?", timeout=120)
        # The watcher logs a prompt once it has seen it submitted, which can be after the answer came back.
        log_path = os.path.join(self.work, "watch.out")
        if answer.returncode == 0:
            self.wait_for(lambda: "injected into lib" in open(log_path).read(), 15, "the watcher to log its prompt")
        watch_log = open(log_path).read()
        self.assertEqual(answer.returncode, 0, answer.stdout + answer.stderr + "\nwatcher:\n" + watch_log)
        self.assertIn("strict=true", json.loads(answer.stdout)["content"])
        self.assertEqual(watch_log.count("injected into lib"), 1, watch_log)
        prompts = [r for r in model.requests()[before:] if "A message from app is waiting" in json.dumps(r["body"])]
        self.assertTrue(prompts, "the typed prompt never reached the model")
        self.assertTrue(any("Which flag makes parse() strict?" in json.dumps(r["body"]) for r in prompts))
        self.assertNotIn("# Ask a peer session", model.all_text())

    def pane_text(self):
        return subprocess.run(["tmux", "-S", self.socket, "capture-pane", "-p", "-t", "lib"], capture_output=True, text=True).stdout

    def type_into_pane(self, text):
        """A person types a prompt: the text, a moment, then Enter (a TUI that is still starting drops an Enter
        sent with the text)."""
        time.sleep(1)
        subprocess.run(["tmux", "-S", self.socket, "send-keys", "-t", "lib", "-l", text], check=True)
        time.sleep(0.5)
        subprocess.run(["tmux", "-S", self.socket, "send-keys", "-t", "lib", "Enter"], check=True)


if __name__ == "__main__":
    unittest.main()
