"""Shared machinery for the end-to-end tests: temp homes, fake model servers, real CLI runs, and diagnostics."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import install_clis  # noqa: E402

STRIPPED_PREFIXES = ("CLAUDE", "SESSION_BRIDGE", "CODEX", "ANTHROPIC", "OPENAI")

# What an installed plugin needs at run time: the plugin's files (those scripts/package ships) and the binaries its
# launcher runs, with the stamp that tells the launcher they are of these sources. Never the build tree: Claude Code
# and Codex copy the folder they install, and a build running meanwhile changes it under the copy.
PLUGIN_PATHS = (".claude-plugin", ".codex-plugin", "commands", "hooks", "skills", "bin", "scripts/session-bridge", "README.md",
                "LICENSE", "AGENTS.md")
PLUGIN_BINARIES = ("session-bridge", "session-bridge-jq", "session-bridge-ui")
_release_checked = False


def ensure_release_build():
    """Runs the repository's launcher once per test run: it builds the release binaries when they are missing or of
    other sources, as it does for a person's first command."""
    global _release_checked
    if _release_checked:
        return
    r = subprocess.run([os.path.join(REPO, "scripts", "session-bridge"), "--version"], env=base_env(), capture_output=True,
                       text=True, timeout=3600)
    if r.returncode != 0:
        raise RuntimeError(f"the helper does not build or run: {r.stdout}{r.stderr}")
    _release_checked = True


def stage_plugin(dest):
    """Makes `dest` a plugin folder holding only what the plugin runs: PLUGIN_PATHS, and the release binaries with
    their stamp in .build/ (the layout the launcher looks in; with no Sources/ beside them it never rebuilds)."""
    ensure_release_build()
    for rel in PLUGIN_PATHS:
        src, target = os.path.join(REPO, rel), os.path.join(dest, rel)
        if not os.path.exists(src):
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.isdir(src):
            shutil.copytree(src, target, symlinks=True)
        else:
            shutil.copy2(src, target)
    release = os.path.join(dest, ".build", "release")
    os.makedirs(release)
    for name in PLUGIN_BINARIES:
        src = os.path.join(REPO, ".build", "release", name)
        if os.path.exists(src):
            shutil.copy2(src, os.path.join(release, name))
    shutil.copy2(os.path.join(REPO, ".build", "sources.sha256"), os.path.join(dest, ".build", "sources.sha256"))
    return dest


def base_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(STRIPPED_PREFIXES) and k != "CLAUDECODE"}
    env.update(extra)
    return env


class ModelServer:
    """One scripted model for one agent session. `prefix` starts it elsewhere (another host's network namespace,
    where it serves that host's loopback)."""

    def __init__(self, workdir, name, policy, prefix=(), **args):
        self.name = name
        self.log = os.path.join(workdir, f"model-{name}.jsonl")
        port_file = os.path.join(workdir, f"model-{name}.port")
        cmd = [*prefix, sys.executable, os.path.join(HERE, "fake_model.py"), "--port-file", port_file, "--log", self.log,
               "--policy", policy]
        for k, v in args.items():
            cmd += ["--arg", f"{k}={v}"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while not os.path.exists(port_file):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"model server {name} did not start")
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read())
        self.url = f"http://127.0.0.1:{self.port}"

    def errors(self):
        """What the model could not do because its context showed no runnable command for it."""
        path = self.log + ".errors"
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [line.rstrip("\n") for line in f if line.strip()]

    def requests(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f if line.strip()]

    def tool_requests(self):
        return [r for r in self.requests() if r["body"].get("tools")]

    def all_text(self):
        """Everything any request showed the model, as one string."""
        return "\n".join(json.dumps(r["body"]) for r in self.requests())

    def claude_tool_results(self):
        """Every tool_result text Claude Code sent to this model, in order (repeats across requests included)."""
        out = []
        for r in self.tool_requests():
            for m in r["body"].get("messages", []):
                if isinstance(m.get("content"), list):
                    for b in m["content"]:
                        if b.get("type") == "tool_result":
                            c = b.get("content")
                            out.append(c if isinstance(c, str) else "\n".join(x.get("text", "") for x in c or []))
        return out

    def codex_tool_outputs(self):
        """Every tool output Codex sent to this model, in order."""
        out = []
        for r in self.tool_requests():
            for item in r["body"].get("input", []):
                if item.get("type") in ("function_call_output", "custom_tool_call_output"):
                    o = item.get("output")
                    out.append(o if isinstance(o, str) else json.dumps(o))
        return out

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def describe(self):
        lines = [f"=== model {self.name}: {len(self.requests())} request(s) ==="]
        lines += [f"!!! no runnable command: {e}" for e in self.errors()]
        for r in self.requests():
            body = r["body"]
            last = (body.get("messages") or body.get("input") or [{}])[-1]
            lines.append(f"--- request {r['n']} {r['path']} -> {json.dumps(r['action'])[:600]}")
            lines.append("    last input: " + json.dumps(last)[:1500])
        return "\n".join(lines)


class Run:
    """A CLI process (real Claude Code or Codex) with captured output."""

    def __init__(self, name, cmd, cwd, env, stdin=subprocess.DEVNULL):
        self.name = name
        self.cmd = cmd
        self.out_path = os.path.join(cwd, f".e2e-{name}.out")
        self.err_path = os.path.join(cwd, f".e2e-{name}.err")
        self.out = open(self.out_path, "w")
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=self.out, stderr=self.err, stdin=stdin)
        self.returncode = None
        self.stuck = lambda: []   # set by E2ETestCase: what the scripted models could not do

    def wait(self, timeout):
        """Waits for the process; gives up early, failing, once a scripted model is stuck (it will not go on)."""
        deadline = time.time() + timeout
        try:
            while True:
                try:
                    self.returncode = self.proc.wait(min(0.5, max(0.0, deadline - time.time())))
                    break
                except subprocess.TimeoutExpired:
                    stuck = self.stuck()
                    if stuck or time.time() >= deadline:
                        self.proc.kill()
                        self.returncode = self.proc.wait()
                        if stuck:
                            raise AssertionError(f"{self.name} stopped: a model's context showed no runnable command: "
                                                 + "; ".join(stuck))
                        raise AssertionError(f"{self.name} did not finish within {timeout} s")
        finally:
            self.out.close()
            self.err.close()
        return self.returncode

    @property
    def stdout(self):
        with open(self.out_path) as f:
            return f.read()

    @property
    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def describe(self):
        return (f"=== cli {self.name}: {' '.join(self.cmd)[:300]} -> exit {self.returncode} ===\n"
                f"stdout:\n{self.stdout[-4000:]}\nstderr:\n{self.stderr[-4000:]}")


class E2ETestCase(unittest.TestCase):
    """Creates a temp workspace; on failure prints what each model received and each CLI printed."""

    claude_bin = None
    codex_bin = None
    keep = os.environ.get("SESSION_BRIDGE_E2E_KEEP") == "1"
    # The real CLIs a test runs. The newest-versions pass skips a test whose runtimes all run at their pinned version
    # there: the first pass already ran it against exactly those binaries.
    runtimes = frozenset({"claude", "codex"})

    @classmethod
    def setUpClass(cls):
        cls.claude_bin = install_clis.claude()
        cls.codex_bin = install_clis.codex()

    def setUp(self):
        if os.environ.get("SESSION_BRIDGE_E2E_NEWEST") == "1" and not (self.runtimes & install_clis.changed_runtimes()):
            self.skipTest(f"{' and '.join(sorted(self.runtimes))}: the pinned version, run in the first pass")
        self.work = tempfile.mkdtemp(prefix="sb-e2e-")
        self.servers = []
        self.runs = []
        self.home = os.path.join(self.work, "home")
        os.makedirs(self.home, mode=0o700)

    def tearDown(self):
        failed = any(e for _, e in (self._outcome.result.failures + self._outcome.result.errors)
                     if _ is self) if hasattr(self._outcome, "result") else False
        for r in self.runs:
            if r.proc.poll() is None:
                r.proc.kill()
                r.proc.wait()
        if failed:
            print("\n" + "\n".join(s.describe() for s in self.servers), file=sys.stderr)
            print("\n".join(r.describe() for r in self.runs), file=sys.stderr)
            store = os.path.join(self.home, ".claude", "session-bridge")
            if os.path.isdir(store):
                print("=== store files ===\n" + "\n".join(
                    os.path.relpath(os.path.join(d, f), store) for d, _, fs in os.walk(store) for f in fs), file=sys.stderr)
        stuck = self.stuck_models()
        for s in self.servers:
            s.stop()
        if not self.keep and not failed and not stuck:
            shutil.rmtree(self.work, ignore_errors=True)
        else:
            print(f"(workspace kept: {self.work})", file=sys.stderr)
        if stuck and not failed:
            # A scripted model met a context without the command it needed: a real model would be stuck too.
            print("\n" + "\n".join(s.describe() for s in self.servers), file=sys.stderr)
            self.fail("a model's context showed no runnable command: " + "; ".join(stuck))

    # -- helpers

    def project(self, name):
        p = os.path.join(self.work, name)
        os.makedirs(p, exist_ok=True)
        return p

    def model(self, name, policy, prefix=(), **args):
        s = ModelServer(self.work, name, policy, prefix=prefix, **args)
        self.servers.append(s)
        return s

    def stuck_models(self):
        return [f"{s.name}: {e}" for s in self.servers for e in s.errors()]

    def track(self, run):
        run.stuck = self.stuck_models
        self.runs.append(run)
        return run

    def claude_env(self, server, home=None, **extra):
        return base_env(IS_SANDBOX="1", HOME=home or self.home, ANTHROPIC_BASE_URL=server.url, ANTHROPIC_API_KEY="sk-test",
                        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", DISABLE_AUTOUPDATER="1", **extra)

    def claude_plugin(self, *args, home=None):
        env = base_env(HOME=home or self.home, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", IS_SANDBOX="1")
        return subprocess.run([self.claude_bin, "plugin", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)

    def plugin_root(self, home=None):
        """The plugin folder that Claude Code and Codex install for `home` (beside it; staged on first use). Each
        host of a multi-host test has its own, out of the other's sight."""
        root = os.path.join(os.path.dirname(home or self.home), "plugin")
        if not os.path.isdir(root):
            stage_plugin(root)
        return root

    def install_plugin(self, home=None):
        r = self.claude_plugin("marketplace", "add", self.plugin_root(home), home=home)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = self.claude_plugin("install", "session-bridge@session-bridge", home=home)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def start_claude(self, name, cwd, server, prompt, home=None, extra_args=(), env_extra=None, prefix=()):
        """`prefix` runs the CLI elsewhere (on another host: its namespace, its host name)."""
        cmd = [*prefix, self.claude_bin, "-p", "--dangerously-skip-permissions", "--output-format", "json", *extra_args, prompt]
        return self.track(Run(name, cmd, cwd, self.claude_env(server, home, **(env_extra or {}))))

    # -- Codex

    def codex_home(self, home=None):
        d = os.path.join(home or self.work, "codex-home")
        os.makedirs(d, exist_ok=True)
        return d

    def codex_plugin_install(self, home=None):
        """Into `home` (default the test's); a Codex of another home keeps its CODEX_HOME inside it."""
        env = base_env(HOME=home or self.home, CODEX_HOME=self.codex_home(home))
        for args in (["plugin", "marketplace", "add", self.plugin_root(home)], ["plugin", "add", "session-bridge@session-bridge"]):
            r = subprocess.run([self.codex_bin, *args], env=env, capture_output=True, text=True, timeout=180)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def start_codex(self, name, cwd, server, prompt, env_extra=None, home=None, prefix=()):
        provider = (f'model_providers.fake={{name="fake",base_url="{server.url}/v1",wire_api="responses",'
                    f'request_max_retries=0,stream_max_retries=0}}')
        cmd = [*prefix, self.codex_bin, "exec", "--skip-git-repo-check", "--json", "--dangerously-bypass-approvals-and-sandbox",
               "--dangerously-bypass-hook-trust", "-m", "gpt-5.5", "-c", "model_provider=fake", "-c", provider, prompt]
        env = base_env(HOME=home or self.home, CODEX_HOME=self.codex_home(home), **(env_extra or {}))
        return self.track(Run(name, cmd, cwd, env))

    def bridge(self, *args, home=None, env_extra=None, stdin=None, timeout=60, prefix=()):
        """Runs the helper as a user would (not as a session) against this test's store (`prefix`: on another host)."""
        env = base_env(HOME=home or self.home, **(env_extra or {}))
        return subprocess.run([*prefix, os.path.join(REPO, "scripts", "session-bridge"), *args], env=env, capture_output=True,
                              text=True, timeout=timeout, input=stdin)

    def set_listening(self, name, mode, home=None):
        """Turns listening between turns on (foreground / background) or off for the live session `name`, from
        outside, as a person does from a terminal: the session itself never ran /bridge nor a skill."""
        sid = next(p["id"] for p in self.peers(home) if p["name"] == name and p["state"] in ("active", "idle"))
        r = self.bridge("listen", f"--{mode}", "--session", sid, home=home)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return sid

    def peers(self, home=None):
        r = self.bridge("peers", "--json", "--all", home=home)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def wait_for(self, predicate, timeout, what):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = predicate()
            if v:
                return v
            stuck = self.stuck_models()
            if stuck:
                self.fail(f"waiting for {what}: a model's context showed no runnable command: " + "; ".join(stuck))
            time.sleep(0.1)
        self.fail(f"timed out waiting for {what}")
