#!/usr/bin/env python3
"""Measures what idle listening costs: two real Claude Code sessions listen for MINUTES (default 10) with no peer
message, one through a loop of Bash `listen` calls (each returns after its 90 s timeout and the model calls it
again), one through the synchronous Stop hook (`listen --foreground`: the hook waits up to 540 s per turn).
Prints the model requests and turns each spent. Usage: Tests/E2E/bench_listen.py [MINUTES]"""
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class Bench(harness.E2ETestCase):
    def runTest(self):
        pass


def main():
    minutes = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    b = Bench()
    Bench.setUpClass()
    b.setUp()
    try:
        b.install_plugin()
        loop_model = b.model("bash-loop", "listener", answers="1000", timeout="90")
        hook_model = b.model("stop-hook", "responder", mode="foreground", answers="1000")
        b.start_claude("bash-loop", b.project("loop"), loop_model, "/bridge listen --loop")
        b.start_claude("stop-hook", b.project("hook"), hook_model, "/bridge listen --loop")
        time.sleep(minutes * 60)
        print(f"idle listening for {minutes:g} minutes, no peer message (real Claude Code, scripted model):")
        for name, model in (("Bash listen loop (listen --timeout 90)", loop_model), ("Stop hook (listen --foreground)", hook_model)):
            reqs = model.tool_requests()
            turns = sum(1 for r in reqs if "text" in r["action"])
            print(f"  {name:<42} {len(reqs):3d} model requests, {turns:2d} turns ended")
    finally:
        for r in b.runs:
            if r.proc.poll() is None:
                r.proc.kill()
        for s in b.servers:
            s.stop()
        shutil.rmtree(b.work, ignore_errors=True)


if __name__ == "__main__":
    main()
