"""A person's terminal is a session: a real tmux pane with a login shell and no agent or bridge variables starts a
session, asks a real Claude Code session that listens, gets the answer, then holds a talk with it, all typed into
that pane."""
import os
import shlex
import shutil
import subprocess
import time
import unittest

from harness import E2ETestCase, REPO


@unittest.skipUnless(shutil.which("tmux"), "needs tmux")
class TerminalTest(E2ETestCase):
    def setUp(self):
        super().setUp()
        self.socket = os.path.join(self.work, "tmux.sock")
        self.typed = 0

    def tearDown(self):
        self.tmux("kill-server")
        super().tearDown()

    def tmux(self, *args):
        return subprocess.run(["tmux", "-S", self.socket, "-f", "/dev/null", *args], capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin", "HOME": self.home}, timeout=30)

    def open_terminal(self, cwd):
        """A login shell from an empty environment: HOME (where the default store is) and a PATH that has the
        plugin's bin/ folder, as a person who put the helper on PATH has; nothing else."""
        shell = (f"env -i HOME={shlex.quote(self.home)} PATH={shlex.quote(os.path.join(REPO, 'bin'))}:/usr/bin:/bin "
                 "TERM=xterm bash --login --noprofile --norc")
        r = self.tmux("new-session", "-d", "-s", "t", "-x", "220", "-y", "50", "-c", cwd, shell)
        self.assertEqual(r.returncode, 0, r.stderr)

    def type(self, line, timeout=120):
        """Types `line` into the pane as a person would; returns its exit status and output."""
        self.typed += 1
        out = os.path.join(self.work, f"term-{self.typed}.out")
        self.tmux("send-keys", "-t", "t", "-l", f"{{ {line} ; }} > {shlex.quote(out)} 2>&1; echo \"rc=$?\" > {shlex.quote(out)}.rc")
        self.tmux("send-keys", "-t", "t", "Enter")
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(out + ".rc"):
                rc = open(out + ".rc").read()
                if rc.endswith("\n"):
                    return int(rc[3:]), open(out).read()
            stuck = getattr(self, "stuck_models", lambda: [])()   # the harness may report a stuck model
            if stuck:
                self.fail("a model's context showed no runnable command: " + "; ".join(stuck))
            time.sleep(0.1)
        self.fail(f"no result within {timeout} s for: {line}")

    @staticmethod
    def listening(model):
        """The model has run a plain listen: its session now blocks for the next message."""
        return any(" listen" in (r.get("action") or {}).get("command", "") and "--foreground" not in
                   (r.get("action") or {}).get("command", "") for r in model.requests())

    def test_terminal_asks_and_talks_with_a_listening_claude_session(self):
        self.install_plugin()
        lib = self.project("lib")
        me_dir = self.project("desk")
        talks = os.path.join(self.work, "talks")
        self.open_terminal(me_dir)

        # The terminal joins; nothing but `start` was needed.
        rc, out = self.type("session-bridge start --name me")
        self.assertEqual(rc, 0, out)
        self.assertIn("bound to this terminal", out)
        my_id = out.strip().splitlines()[-1]

        # A real Claude Code session listens; the terminal asks it and prints the answer.
        listener_model = self.model("lib", "listener", answer="Port 8080, set in config/server.toml")
        listener = self.start_claude("lib", lib, listener_model, "/bridge listen --loop")
        self.wait_for(lambda: any(p["name"] == "lib" and p["state"] == "active" for p in self.peers()), 90, "lib to register")
        # Asked while it listens (asked earlier, its PostToolUse hook would deliver the question, as designed).
        self.wait_for(lambda: self.listening(listener_model), 90, "lib to listen")
        rc, out = self.type("session-bridge ask lib 'Which port does the server use?' --wait 100")
        self.assertEqual(rc, 0, out)
        self.assertIn("Port 8080", out)
        self.assertEqual(listener.wait(180), 0)

        # A talk with the Claude Code session of that project (the next session in lib listens for the invitation).
        joiner_model = self.model("lib-talk", "talk-joiner")
        joiner = self.start_claude("lib-talk", lib, joiner_model, "/bridge listen --loop")
        self.wait_for(lambda: any(p["name"] == "lib" and p["state"] == "active" and p["agent"] == "claude-code"
                                  for p in self.peers()), 90, "lib to listen again")
        self.wait_for(lambda: self.listening(joiner_model), 90, "lib to listen for the invitation")
        rc, out = self.type(f"session-bridge talk new 'port plan' --with lib --dir {shlex.quote(talks)}")
        self.assertEqual(rc, 0, out)
        self.assertIn("me speaks first", out)
        talk = out.strip().splitlines()[-1]
        join = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("peers join with: "))
        rc, out = self.type(f"session-bridge ask lib {shlex.quote(f'Please join talk {talk} about the port plan: {join}')}")
        self.assertEqual(rc, 0, out)
        rc, out = self.type(f"session-bridge talk say {talk} --dir {shlex.quote(talks)} 'Turn 1 from me: keep 8080?'")
        self.assertEqual(rc, 0, out)
        rc, out = self.type(f"session-bridge talk wait {talk} --dir {shlex.quote(talks)} --timeout 110")
        self.assertEqual(rc, 0, out)
        self.assertIn("from the joiner", out)
        rc, out = self.type(f"session-bridge talk say {talk} --dir {shlex.quote(talks)} 'Turn 3 from me: agreed.'")
        self.assertEqual(rc, 0, out)
        rc, out = self.type(f"session-bridge talk wait {talk} --dir {shlex.quote(talks)} --timeout 110")
        self.assertEqual(rc, 0, out)
        rc, out = self.type(f"session-bridge talk resolve {talk} --dir {shlex.quote(talks)} --summary 'keep 8080'")
        self.assertEqual(rc, 0, out)
        self.assertEqual(joiner.wait(180), 0)
        rc, shown = self.type(f"session-bridge talk show {talk} --dir {shlex.quote(talks)}")
        self.assertIn("Turn 1 — me", shown)
        self.assertIn("Turn 2 — lib", shown)
        self.assertIn("Turn 3 — me", shown)
        self.assertIn("Turn 4 — lib", shown)
        self.assertIn("RESOLVED", shown)

        # The terminal's session is a person's; it is gone (stale) once the terminal closes.
        peers = {p["id"]: p for p in self.peers()}
        self.assertEqual(peers[my_id]["agent"], "terminal")
        self.tmux("kill-server")
        self.wait_for(lambda: {p["id"]: p for p in self.peers()}[my_id]["state"] == "stale", 10, "the closed terminal to be stale")


class ClaudeBashPathTest(E2ETestCase):
    def test_bare_name_in_a_bash_call_is_this_plugin_even_behind_another(self):
        """Claude Code appends plugin bin/ folders to the Bash tool's PATH; the SessionStart hook puts this plugin's
        first, so a bare `session-bridge` typed in a Bash call is this installation, not one earlier on PATH."""
        self.install_plugin()
        other = os.path.join(self.work, "other-bin")
        os.makedirs(other)
        with open(os.path.join(other, "session-bridge"), "w") as f:
            f.write("#!/bin/sh\necho ANOTHER-INSTALLATION\n")
        os.chmod(os.path.join(other, "session-bridge"), 0o755)
        cmd = "command -v session-bridge && session-bridge --version"
        model = self.model("pathcheck", "commands", cmd1=cmd)
        saved = os.environ["PATH"]
        os.environ["PATH"] = other + ":" + saved   # the session's PATH (the harness passes the environment on)
        try:
            run = self.start_claude("pathcheck", self.project("proj"), model, f"Run `{cmd}` and report.")
        finally:
            os.environ["PATH"] = saved
        self.assertEqual(run.wait(120), 0)
        results = model.claude_tool_results()
        self.assertTrue(any(os.path.join(self.plugin_root(), "bin", "session-bridge") in r and "0.1.0" in r for r in results), results)
        self.assertFalse(any("ANOTHER-INSTALLATION" in r for r in results), results)


if __name__ == "__main__":
    unittest.main()
