#!/usr/bin/env python3
"""A scripted model served on 127.0.0.1 for end-to-end tests with the real Claude Code and Codex CLIs.

It speaks the Anthropic Messages API (POST /v1/messages, for Claude Code) and the OpenAI Responses API
(POST /v1/responses, for Codex), both streamed as server-sent events. Every request body is appended to a JSONL
log so tests can assert on exactly what reached the model.

A *policy* decides each answer from what happened so far, like a real model would: it reads the expanded command
text or skill listing, finds the helper path there, looks at the last tool result, and chooses the next tool call.

Usage: fake_model.py --port-file F --log L --policy NAME [--arg KEY=VALUE ...]
"""
import argparse
import http.server
import json
import os
import re
import socketserver
import sys
import threading

HELPER_RE = re.compile(r'"([^"\s]*/scripts/session-bridge)"')
MESSAGE_ID_RE = re.compile(r"── message ([0-9a-f-]{36}) ──")


# ---------------------------------------------------------------- what the model sees

class View:
    """A protocol-neutral view of one request: all text the model can read, and the last tool result."""

    def __init__(self, texts, tool_results, kind):
        self.texts = texts                  # every text block / message, in order
        self.tool_results = tool_results    # tool results in order (strings)
        self.kind = kind                    # "anthropic" or "openai"

    @property
    def all_text(self):
        return "\n".join(self.texts)

    @property
    def last_result(self):
        return self.tool_results[-1] if self.tool_results else None

    def helper(self):
        m = HELPER_RE.search(self.all_text)
        if m:
            return m.group(1)
        # Codex lists a skill with its file path; the helper sits two folders above the skill's folder.
        m = re.search(r"\(file: ([^)\s]*/skills/ask-peer/SKILL\.md)\)", self.all_text)
        if m:
            return os.path.normpath(os.path.join(os.path.dirname(m.group(1)), "..", "..", "scripts", "session-bridge"))
        return None


def text_of(content):
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(text_of(c.get("text", c.get("content", ""))) if isinstance(c, dict) else str(c) for c in content)
    return str(content)


def codex_output(raw):
    """Codex wraps shell output ('Chunk ID… Process exited with code N … Output:\n<text>'); keep what a model
    reads: the text, preceded by 'Exit code N' when N is not 0 (as Claude Code shows it)."""
    m = re.search(r"Process exited with code (\d+)", raw)
    text = raw.split("\nOutput:\n", 1)[1] if "\nOutput:\n" in raw else raw
    if m and m.group(1) != "0":
        return f"Exit code {m.group(1)}\n{text}"
    return text


def anthropic_view(body):
    texts, results = [], []
    for s in body.get("system", []) or []:
        texts.append(s.get("text", "") if isinstance(s, dict) else str(s))
    for m in body.get("messages", []):
        content = m.get("content")
        if isinstance(content, str):
            texts.append(content)
            continue
        for block in content or []:
            t = block.get("type")
            if t == "text":
                texts.append(block.get("text", ""))
            elif t == "tool_result":
                r = text_of(block.get("content", ""))
                results.append(r)
                texts.append(r)
    return View(texts, results, "anthropic")


def openai_view(body):
    texts, results = [body.get("instructions", "")], []
    for item in body.get("input", []):
        t = item.get("type")
        if t == "message":
            texts.append(text_of(item.get("content", [])))
        elif t in ("function_call_output", "custom_tool_call_output"):
            out = item.get("output")
            out = out if isinstance(out, str) else json.dumps(out)
            results.append(codex_output(out))
            texts.append(out)
    return View(texts, results, "openai")


# ---------------------------------------------------------------- policies

def shell(cmd, timeout_ms=120000):
    return {"tool": "shell", "command": cmd, "timeout_ms": timeout_ms}


def say(text):
    return {"text": text}


class Policy:
    """Base: one step per request. Subclasses implement next(view) -> action dict."""

    def __init__(self, args):
        self.args = args
        self.step = 0

    def next(self, view):
        raise NotImplementedError


class Listener(Policy):
    """/bridge listen: start, listen, answer each query from 'context', listen again; stop after N answers."""

    def next(self, view):
        helper = view.helper()
        if helper is None:
            return say("I cannot find the session-bridge helper in my instructions.")
        answers = int(self.args.get("answers", "1"))
        answered = sum(1 for r in view.tool_results if r.startswith("answered "))
        last = view.last_result
        if last is None:
            return shell(f'"{helper}" start')
        if answered >= answers and last.startswith("answered "):
            return say(f"Answered {answered} question(s); stopping as scripted.")
        m = MESSAGE_ID_RE.search(last or "")
        if m and "type: query" in last:
            question = last.split("\n\n", 1)[1].split("\n\n── answer it", 1)[0].strip() if "\n\n" in last else ""
            answer = self.args.get("answer", "ANSWER") + f" (to: {question})"
            return shell(f"\"{helper}\" reply {m.group(1)} - <<'SESSION_BRIDGE_REPLY'\n{answer}\nSESSION_BRIDGE_REPLY")
        return shell(f'"{helper}" listen --timeout {self.args.get("timeout", "60")}', 110000)


class Asker(Policy):
    """/bridge ask or the skill: list peers, pick one by name, ask with --wait, report the answer."""

    def next(self, view):
        helper = view.helper()
        if helper is None:
            return say("I cannot find the session-bridge helper in my instructions.")
        last = view.last_result
        question = self.args.get("question", "What is the answer?")
        if last is None:
            return shell(f'"{helper}" peers --json')
        if self.step_kind(view) == "peers":
            try:
                start = last.index("[")
                peers = json.loads(last[start:])
            except (ValueError, json.JSONDecodeError):
                return say("peers output was not JSON: " + last[:200])
            want = self.args.get("peer", "")
            live = [p for p in peers if not p.get("you") and p.get("state") in ("active", "idle")]
            chosen = next((p for p in live if want and want in (p["name"], p["id"])), None) or (live[0] if live else None)
            if chosen is None:
                return say("No live peer to ask.")
            wait = self.args.get("wait", "60")
            return shell(f"\"{helper}\" ask {chosen['name']} --wait {wait} - <<'SESSION_BRIDGE_ASK'\n{question}\nSESSION_BRIDGE_ASK")
        return say("Peer result: " + last.strip()[:2000])

    @staticmethod
    def step_kind(view):
        return "peers" if len(view.tool_results) == 1 else "asked"


class Commands(Policy):
    """Runs a fixed list of shell commands given as args cmd1, cmd2, ... (with {helper} substituted), then stops."""

    def next(self, view):
        helper = view.helper() or "session-bridge"
        n = len(view.tool_results)
        cmd = self.args.get(f"cmd{n + 1}")
        if cmd is None:
            return say("done: " + (view.last_result or "")[:500])
        return shell(cmd.replace("{helper}", helper))


QUERY_RE = re.compile(r"── message ([0-9a-f-]{36}) ──\nfrom: [^\n]*\ntype: query")


class Responder(Policy):
    """A session that works and answers peers between its own steps: answers every peer query it can see (in a
    tool result or in hook context), turns on the listen mode it was given (foreground / background), runs
    `steps` work commands, and turns listening off after `answers` answers."""

    def __init__(self, args):
        super().__init__(args)
        self.replied = []
        self.mode_set = False
        self.off = False
        self.worked = 0

    def next(self, view):
        helper = view.helper()
        if helper is None:
            return say("I cannot find the session-bridge helper in my instructions.")
        for qid in dict.fromkeys(QUERY_RE.findall(view.all_text)):
            if qid not in self.replied:
                self.replied.append(qid)
                answer = self.args.get("answer", "ANSWER") + f" (#{len(self.replied)})"
                return shell(f"\"{helper}\" reply {qid} - <<'SESSION_BRIDGE_REPLY'\n{answer}\nSESSION_BRIDGE_REPLY")
        mode = self.args.get("mode")
        if mode and not self.mode_set:
            self.mode_set = True
            return shell(f'"{helper}" listen --{mode}')
        if self.worked < int(self.args.get("steps", "0")):
            self.worked += 1
            return shell(f"echo working step {self.worked} && sleep {self.args.get('pause', '0.5')}")
        if mode and not self.off and len(self.replied) >= int(self.args.get("answers", "1")):
            self.off = True
            return shell(f'"{helper}" listen --off')
        return say(f"idle; answered {len(self.replied)}")


JOIN_RE = re.compile(r"talk wait ([a-z0-9-]+) --dir (\S+)")
LAST_TURN_RE = re.compile(r"last turn (\d+) by")


class TalkInitiator(Policy):
    """Starts a talk with `peer`, invites it, takes turns 1, 3, … and resolves once `turns` turns are in."""

    def next(self, view):
        helper = view.helper()
        if helper is None:
            return say("no helper")
        results, last = view.tool_results, view.last_result
        peer, topic, turns = self.args.get("peer", "app"), self.args.get("topic", "API contract"), int(self.args.get("turns", "4"))
        wait = self.args.get("wait", "60")
        if not results:
            return shell(f'"{helper}" talk new "{topic}" --with {peer} --max-turns 10')
        created = results[0]
        join = JOIN_RE.search(created)
        if join is None:
            return say("talk new failed: " + created[:300])
        tid = join.group(1)
        if len(results) == 1:
            return shell(f"\"{helper}\" ask {peer} - <<'SESSION_BRIDGE_ASK'\n"
                         f"Please join talk {tid} about {topic}: {helper} {join.group(0)}\nSESSION_BRIDGE_ASK")
        if len(results) == 2:
            return shell(f"\"{helper}\" talk say {tid} - <<'SESSION_BRIDGE_TURN'\n"
                         f"Turn 1 from the initiator: I propose parse() returns Result.\nSESSION_BRIDGE_TURN")
        if (last.startswith("turn ") and " recorded" in last) or last.startswith("Exit code 10"):
            return shell(f'"{helper}" talk wait {tid} --timeout {wait}', 110000)
        m = LAST_TURN_RE.search(last)
        if last.startswith("your turn") and m:
            k = int(m.group(1))
            if k >= turns:
                return shell(f'"{helper}" talk resolve {tid} --summary "Agreed after {k} turns: parse() returns Result"')
            return shell(f"\"{helper}\" talk say {tid} - <<'SESSION_BRIDGE_TURN'\n"
                         f"Turn {k + 1} from the initiator, answering turn {k}.\nSESSION_BRIDGE_TURN")
        return say("talk finished: " + last.strip()[:300])


class TalkJoiner(Policy):
    """Listens for an invitation, joins the talk (with the --dir it was given) and takes turns until it closes."""

    def next(self, view):
        helper = view.helper()
        if helper is None:
            return say("no helper")
        results, last = view.tool_results, view.last_result
        wait = self.args.get("wait", "60")
        invite = next((r for r in results if "── message" in r and JOIN_RE.search(r)), None)
        if invite is None:
            if last is None:
                return shell(f'"{helper}" start')
            if last.startswith(("registered", "already registered")) or last.startswith("Exit code 10"):
                return shell(f'"{helper}" listen --timeout {wait}', 110000)
            return say("unexpected: " + last[:300])
        m = JOIN_RE.search(invite)
        tid, tdir = m.group(1), m.group(2)
        if last is invite:
            return shell(f'"{helper}" reply {MESSAGE_ID_RE.search(invite).group(1)} joining')
        if last.startswith("answered ") or (last.startswith("turn ") and " recorded" in last) or last.startswith("Exit code 10"):
            return shell(f'"{helper}" talk wait {tid} --dir {tdir} --timeout {wait}', 110000)
        lt = LAST_TURN_RE.search(last)
        if last.startswith("your turn") and lt:
            k = int(lt.group(1))
            return shell(f"\"{helper}\" talk say {tid} --dir {tdir} - <<'SESSION_BRIDGE_TURN'\n"
                         f"Turn {k + 1} from the joiner: agreed with turn {k}, with a detail.\nSESSION_BRIDGE_TURN")
        return say("talk over: " + last.strip()[:300])


class Attempts(Policy):
    """Makes the tool calls listed in the JSON arg `actions` ({"tool": name, "input": {...}}), one per request, with
    {cwd} replaced; then reports the last result."""

    def next(self, view):
        actions = json.loads(self.args.get("actions", "[]"))
        n = len(view.tool_results)
        if n >= len(actions):
            return say("attempts done: " + (view.last_result or "")[:300])
        a = actions[n]
        if a["tool"] == "shell":
            return shell(a["input"])
        return {"tool": "raw", "name": a["tool"], "input": a["input"]}


POLICIES = {"attempts": Attempts, "listener": Listener, "asker": Asker, "commands": Commands, "responder": Responder,
            "talk-initiator": TalkInitiator, "talk-joiner": TalkJoiner}


# ---------------------------------------------------------------- wire formats

def sse(handler, events):
    handler.send_response(200)
    handler.send_header("content-type", "text/event-stream")
    handler.send_header("cache-control", "no-cache")
    handler.end_headers()
    for name, data in events:
        handler.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
    handler.wfile.flush()
    handler.close_connection = True


def anthropic_events(action, model, counter):
    events = [("message_start", {"type": "message_start", "message": {
        "id": f"msg_{counter}", "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 1}}})]
    if "tool" in action:
        if action["tool"] == "raw":
            name, inp = action["name"], action["input"]
        else:
            name = "Bash"
            inp = {"command": action["command"], "description": "session bridge", "timeout": action.get("timeout_ms", 120000)}
        events += [
            ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {
                "type": "tool_use", "id": f"toolu_{counter:04d}", "name": name, "input": {}}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {
                "type": "input_json_delta", "partial_json": json.dumps(inp)}}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ]
        stop = "tool_use"
    else:
        events += [
            ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": action["text"]}}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ]
        stop = "end_turn"
    events += [("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                  "usage": {"output_tokens": 5}}),
               ("message_stop", {"type": "message_stop"})]
    return events


def openai_events(action, body, counter):
    tools = {t.get("name") for t in body.get("tools", [])}
    if action.get("tool") == "raw" and action["name"] == "apply_patch":
        item = {"type": "custom_tool_call", "id": f"ctc_{counter}", "call_id": f"call_{counter}", "name": "apply_patch",
                "input": action["input"]["patch"], "status": "completed"}
    elif "tool" in action:
        if "exec_command" in tools:
            item = {"type": "function_call", "id": f"fc_{counter}", "call_id": f"call_{counter}", "name": "exec_command",
                    "arguments": json.dumps({"cmd": action["command"], "yield_time_ms": 30000}), "status": "completed"}
        else:
            item = {"type": "function_call", "id": f"fc_{counter}", "call_id": f"call_{counter}", "name": "shell_command",
                    "arguments": json.dumps({"command": action["command"], "timeout_ms": action.get("timeout_ms", 120000)}),
                    "status": "completed"}
    else:
        item = {"type": "message", "role": "assistant", "id": f"msg_{counter}", "status": "completed",
                "content": [{"type": "output_text", "text": action["text"], "annotations": []}]}
    return [
        ("response.created", {"type": "response.created", "response": {"id": f"resp_{counter}"}}),
        ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}),
        ("response.completed", {"type": "response.completed", "response": {"id": f"resp_{counter}", "usage": {
            "input_tokens": 10, "input_tokens_details": None, "output_tokens": 5, "output_tokens_details": None,
            "total_tokens": 15}}}),
    ]


def make_handler(policy, log_path, lock):
    state = {"counter": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_HEAD(self):
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def do_GET(self):
            self.send_response(404)
            self.send_header("content-length", "0")
            self.end_headers()

        def do_POST(self):
            length = int(self.headers.get("content-length", "0"))
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                body = {}
            path = self.path.split("?")[0]
            if path.endswith("/count_tokens"):
                data = json.dumps({"input_tokens": 100}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            with lock:
                state["counter"] += 1
                counter = state["counter"]
                if path.endswith("/responses"):
                    view = openai_view(body)
                    action = policy.next(view) if body.get("tools") else say("ok")
                else:
                    view = anthropic_view(body)
                    action = policy.next(view) if body.get("tools") else say("ok")
                with open(log_path, "a") as f:
                    f.write(json.dumps({"n": counter, "path": path, "body": body, "action": action}) + "\n")
            if path.endswith("/responses"):
                sse(self, openai_events(action, body, counter))
            else:
                sse(self, anthropic_events(action, body.get("model", "claude"), counter))

    return Handler


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--policy", required=True, choices=sorted(POLICIES))
    ap.add_argument("--arg", action="append", default=[])
    a = ap.parse_args()
    args = dict(kv.split("=", 1) for kv in a.arg)
    policy = POLICIES[a.policy](args)
    server = Server(("127.0.0.1", 0), make_handler(policy, a.log, threading.Lock()))
    with open(a.port_file + ".part", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(a.port_file + ".part", a.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
