#!/usr/bin/env python3
"""A scripted model served on 127.0.0.1 for end-to-end tests with the real Claude Code and Codex CLIs.

It speaks the Anthropic Messages API (POST /v1/messages, for Claude Code) and the OpenAI Responses API
(POST /v1/responses, for Codex), both streamed as server-sent events. Every request body is appended to a JSONL
log so tests can assert on exactly what reached the model.

A *policy* decides each answer from what happened so far, like a real model would, and is held to what a real model
could do: it runs a session-bridge command only when that command appears verbatim in its own context (a hook
context, a tool result, the expanded slash-command or skill text), filling in only the placeholders that text names
(`<your answer>`, `MESSAGE_ID`, `PEER`, an id it printed). `Context.find` is the only way a policy gets a command;
when the context has none, the policy stops with "no runnable command for X in my context", the reason is appended
to `<log>.errors`, and the test fails.

Usage: fake_model.py --port-file F --log L --policy NAME [--arg KEY=VALUE ...]
"""
import argparse
import html
import http.server
import json
import os
import re
import shlex
import socketserver
import sys
import threading

MESSAGE_ID_RE = re.compile(r"── message ([0-9a-f-]{36}) ──")
QUERY_RE = re.compile(r"── message ([0-9a-f-]{36}) ──\nfrom: [^\n]*\ntype: query")


# ---------------------------------------------------------------- what the model sees

class View:
    """A protocol-neutral view of one request: every text the model can read, in order, and its tool calls with
    their results (`calls`: (command or None, result) pairs, in order)."""

    def __init__(self, texts, calls, kind):
        self.texts = texts
        self.calls = calls
        self.kind = kind                    # "anthropic" or "openai"

    @property
    def tool_results(self):
        """Tool results in order, leaving out the reading of skill files (which only adds context)."""
        return [r for c, r in self.calls if not is_skill_read(c)]

    @property
    def all_text(self):
        return "\n".join(self.texts)

    @property
    def last_result(self):
        """The result of the last tool call that was not the reading of a skill file (which only adds context)."""
        results = self.tool_results
        return results[-1] if results else None

    def index_of(self, text):
        """The position of this very text (not an equal one) in texts."""
        return next(i for i, t in enumerate(self.texts) if t is text)


def is_skill_read(cmd):
    return bool(cmd) and cmd.startswith("cat ") and cmd.rstrip("'\"").endswith("/SKILL.md")


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
    texts, calls, commands = [], [], {}
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
            elif t == "tool_use":
                commands[block.get("id")] = (block.get("input") or {}).get("command")
            elif t == "tool_result":
                r = text_of(block.get("content", ""))
                calls.append((commands.get(block.get("tool_use_id")), r))
                texts.append(r)
    return View(texts, calls, "anthropic")


HOOK_PROMPT_RE = re.compile(r"(<hook_prompt\b[^>]*>)(.*?)(</hook_prompt>)", re.S)


def hook_prompt_text(text):
    """Codex hands Stop-hook text to the model as XML, `<hook_prompt …>escaped text</hook_prompt>`: read the element's
    text as a reader of that XML does (&lt; is <)."""
    return HOOK_PROMPT_RE.sub(lambda m: m.group(1) + "\n" + html.unescape(m.group(2)) + "\n" + m.group(3), text)


def openai_view(body):
    texts, calls, commands = [body.get("instructions", "")], [], {}
    for item in body.get("input", []):
        t = item.get("type")
        if t == "message":
            texts.append(hook_prompt_text(text_of(item.get("content", []))))
        elif t == "function_call":
            try:
                args = json.loads(item.get("arguments") or "{}")
            except json.JSONDecodeError:
                args = {}
            commands[item.get("call_id")] = args.get("cmd") or args.get("command")
        elif t in ("function_call_output", "custom_tool_call_output"):
            out = item.get("output")
            out = codex_output(out if isinstance(out, str) else json.dumps(out))
            calls.append((commands.get(item.get("call_id")), out))
            texts.append(out)
    return View(texts, calls, "openai")


# ---------------------------------------------------------------- literal commands

class NoCommand(Exception):
    """The context shows no runnable command for what the policy must do next: a real model would be stuck too."""


# The helper as a command line names it: a path or word ending in session-bridge (quoted or not), or an alias
# (an upper-case word such as BRIDGE) that the same text defines.
EXE = r"""(?P<exe>"[^"\n]*session-bridge"|'[^'\n]*session-bridge'|[^\s"'`;()<>]*session-bridge|(?P<alias>[A-Z][A-Z_]{2,}))"""
LEFT = r"(?<![^\s`(:])"
# A command ends at the end of its line or text, at punctuation, or before a word that is not one more option.
RIGHT = r"(?=\s*$|\s*[;,)`\n]|\.(?:\s|$)|\s+[^\s-])"
# A here-document: written out over lines, or on one line with "..." standing for the text.
HEREDOC = r" - <<'(?P<tag>[A-Z_]+)'(?:\n(?P<body>[\s\S]*?)\n|\s+(?P<dots>\.\.\.|…)\s+)(?P=tag)"
# Placeholders a template may name; all must be filled before a command runs.
PLACEHOLDERS = ("MESSAGE_ID", "PEER_NAME", "PEER[,PEER]", "PEER", "[--dir DIR]", "DIR", "TOPIC", "ID", "NAME")
ALIAS_DEF_RE = re.compile(r"`(?P<val>[^`\n]+)` \((?:written )?(?P<name>[A-Z][A-Z_]{2,}) below")
# The value in parentheses may be followed by more of the sentence ("(`…/scripts/session-bridge`; this file is …)").
ALIAS_IS_RE = re.compile(r"\b(?P<name>[A-Z][A-Z_]{2,}) is `(?P<val>[^`\n]+)`(?:[^\n`]*?\(`(?P<val2>[^`\n]+)`[;)])?")
# The helper's bare name, and the words of the skills saying that a line naming it is run with their BRIDGE.
HELPER_NAME = "session-bridge"
OWN_HELPER_RE = re.compile(r"with BRIDGE in place of `session-bridge`")
SKILL_DIR_RE = re.compile(r"Base directory for this skill: (\S+)")
SKILL_LIST_RE = re.compile(r"- (session-bridge:[\w-]+): [^\n]*?\(file: ([^)\n]+?SKILL\.md)\)")


def placeholder_re(placeholder):
    """A placeholder as a whole word (MESSAGE_ID, [--dir DIR], "what was decided")."""
    return re.compile(r"(?<![\w\[-])" + re.escape(placeholder) + r"(?![\w\]])")


class Found:
    """One command as a text shows it, with the helper alias (if any) replaced by the value the text gives it."""

    def __init__(self, match, command, exe, text_index):
        self.match = match
        self.command = command          # verbatim, alias resolved
        self.exe = exe                  # how the command names the helper (alias resolved)
        self.text_index = text_index

    def __getitem__(self, key):
        return self.match.group(key)

    def __repr__(self):
        return f"Found({self.command!r})"

    def render(self, fills=None, body=None):
        """The command with the named placeholders filled in (each must occur in it), and the here-document's
        text replaced by `body` (only when the template has one)."""
        cmd = self.command
        m = self.match
        head, tail = cmd, None
        if "tag" in m.re.groupindex and m.group("tag"):
            cut = cmd.index(f"<<'{m.group('tag')}'") + len(f"<<'{m.group('tag')}'")
            head, tail = cmd[:cut], m.group("tag")
        args = head[len(self.exe):]
        for placeholder, value in (fills or {}).items():
            rx = placeholder_re(placeholder)
            if not rx.search(args):
                raise NoCommand(f"{cmd!r} names no placeholder {placeholder}")
            args = rx.sub(lambda _: value, args)
        args = re.sub(r"  +", " ", args).rstrip(" ")
        head = self.exe + args
        leftover = [p for p in PLACEHOLDERS if placeholder_re(p).search(args)]
        if leftover:
            raise NoCommand(f"{cmd!r}: placeholder(s) {leftover} left unfilled")
        if tail is None:
            if body is not None:
                raise NoCommand(f"{cmd!r} takes no text")
            return head
        if body is None:
            raise NoCommand(f"{cmd!r} needs the text to send")
        return f"{head}\n{body}\n{tail}"


FENCE_RE = re.compile(r"^(?P<indent>[ \t]*)```[^\n]*\n(?P<code>.*?)^(?P=indent)```", re.M | re.S)


def unindent_code(text):
    """The text with each fenced code block's lines taken out of the list indentation markdown gives them, as a
    reader sees the code."""
    def strip(m):
        ind = m.group("indent")
        code = "".join(line[len(ind):] if line.startswith(ind) else line for line in m.group("code").splitlines(True))
        return f"```\n{code}```"
    return FENCE_RE.sub(strip, text)


class Context:
    """The commands a policy may run: only those its request shows verbatim."""

    def __init__(self, view):
        self.view = view
        self.texts = [unindent_code(t) if "```" in t else t for t in view.texts]

    def aliases(self, i):
        """Helper aliases the i-th text defines (BRIDGE -> the quoted path), skipping values that would not expand."""
        text = self.texts[i]
        skill_dir = self.skill_dir(i)
        out = {}
        candidates = [(m.group("name"), m.group("val")) for m in ALIAS_DEF_RE.finditer(text)]
        for m in ALIAS_IS_RE.finditer(text):
            if m.group("val2"):
                candidates.append((m.group("name"), m.group("val2")))
            candidates.append((m.group("name"), m.group("val")))
        for name, val in candidates:
            if name in out or "${" in val:
                continue
            if "<this skill's folder>" in val:
                if skill_dir is None:
                    continue
                val = val.replace("<this skill's folder>", skill_dir)
            bare = val.strip("\"'")
            if not bare.endswith("session-bridge") or not os.path.isabs(bare):
                continue
            out[name] = val if val[0] in "\"'" else shlex.quote(os.path.normpath(bare))
        return out

    def skill_dir(self, i):
        """The folder of the skill whose text the i-th text is: Claude Code says it; in Codex it is the file the
        model read with cat."""
        m = SKILL_DIR_RE.search(self.view.texts[i])
        if m:
            return m.group(1)
        text = self.view.texts[i]
        for cmd, result in self.view.calls:
            if cmd and result is text and cmd.startswith("cat "):
                path = shlex.split(cmd)[1]
                if path.endswith("/SKILL.md"):
                    return os.path.dirname(path)
        return None

    def find_all(self, shape):
        """Every command of this shape in the context, newest text first."""
        rx = re.compile(LEFT + EXE + shape + RIGHT)
        found = []
        for i in range(len(self.texts) - 1, -1, -1):
            text = self.texts[i]
            aliases = None
            for m in rx.finditer(text):
                cmd, exe = m.group(0), m.group("exe")
                if m.group("alias"):
                    aliases = self.aliases(i) if aliases is None else aliases
                    if m.group("alias") not in aliases:
                        continue
                    exe = aliases[m.group("alias")]
                    cmd = exe + cmd[len(m.group("alias")):]
                found.append(Found(m, cmd, exe, i))
        return found

    def find(self, what, shape, where=None):
        for f in self.find_all(shape):
            if where is None or where(f):
                return f
        raise NoCommand(f"no runnable command for {what} in my context")

    def unread_skills(self):
        """Session-bridge skill files the context lists by path (Codex) and the model has not read yet."""
        read = {shlex.split(c)[1] for c, _ in self.view.calls if c and c.startswith("cat ")}
        return [path for _, path in SKILL_LIST_RE.findall(self.view.all_text) if path not in read]


# Command shapes (what follows the helper).
def reply_shape():
    return r" reply (?P<id>[0-9a-f-]{36}|MESSAGE_ID)" + HEREDOC


REPLY_TEXT = r' reply (?P<id>[0-9a-f-]{36}|MESSAGE_ID) "(?P<text>[^"\n]*)"'
LISTEN = r" listen(?P<timeout> --timeout (?P<seconds>\d+))?"
LISTEN_MODE = r" listen --(?P<mode>foreground|background|off)"
PEERS_JSON = r" peers --json"
ASK = r" ask (?P<peer>PEER_NAME|PEER|[\w.-]+)(?P<wait> --wait (?P<seconds>\d+))?" + HEREDOC
AWAIT = r" await (?P<id>MESSAGE_ID|[0-9a-f-]{36})(?P<timeout> --timeout (?P<seconds>\d+))?"
TALK_NEW = r' talk new "(?P<topic>[^"\n]+)" --with (?P<with>[^\s`]+)'
TALK_DIR = r"(?P<dir> \[--dir DIR\]| --dir (?P<dirval>'[^'\n]+'|\"[^\"\n]+\"|[^\s`'\";,)]+))?(?P<as> --as [\w.-]+)?"
TALK_WAIT = r" talk wait (?P<id>ID|[a-z0-9]+(?:-[a-z0-9]+)+)" + TALK_DIR + r"(?P<timeout> --timeout (?P<seconds>\d+))?"
TALK_SAY = r" talk say (?P<id>ID|[a-z0-9]+(?:-[a-z0-9]+)+)" + TALK_DIR + HEREDOC
# The one-line form with the text as an argument (the watcher's prompt: `talk say ID --dir DIR --as NAME "<your turn>"`).
TALK_SAY_TEXT = r" talk say (?P<id>ID|[a-z0-9]+(?:-[a-z0-9]+)+)" + TALK_DIR + r' (?P<text>"(?:<your turn>|your turn|TEXT)")'
TALK_RESOLVE = r" talk resolve (?P<id>ID|[a-z0-9]+(?:-[a-z0-9]+)+)" + TALK_DIR + r' --summary "(?P<summary>[^"\n]*)"'


def with_option(cmd, option, value):
    """`cmd` with `option`'s value set to `value`: used only where the user or the context asked for that value."""
    head, sep, rest = cmd.partition("\n")
    if re.search(rf" {option} \S+", head):
        head = re.sub(rf" {option} \S+", f" {option} {value}", head, count=1)
    elif " - <<'" in head:
        head = head.replace(" - <<'", f" {option} {value} - <<'", 1)
    else:
        head = f"{head} {option} {value}"
    return head + sep + rest


# ---------------------------------------------------------------- policies

def shell(cmd, timeout_ms=120000):
    return {"tool": "shell", "command": cmd, "timeout_ms": timeout_ms}


def say(text):
    return {"text": text}


class Policy:
    """Base: one step per request. Subclasses implement act(view, ctx) -> action dict, and find every bridge
    command through ctx; a NoCommand they raise ends the turn with its reason (and fails the test)."""

    def __init__(self, args):
        self.args = args
        self.unrunnable = set()

    def next(self, view):
        # A command the context showed that the shell cannot even start (exit 127: not found, 126: not executable)
        # leaves a real model stuck as well: say so once.
        for cmd, result in view.calls:
            if cmd and "session-bridge" in cmd and re.match(r"Exit code 12[67]\b", result or "") and cmd not in self.unrunnable:
                self.unrunnable.add(cmd)
                raise NoCommand(f"{cmd.splitlines()[0]!r}, as my context shows it, does not run here: "
                                + " ".join(result.split())[:200])
        return self.act(view, Context(view))

    def act(self, view, ctx):
        raise NotImplementedError

    def learn(self, ctx, what, find):
        """find(), or, when the context shows no such command but lists a session-bridge skill file the model has
        not read (Codex lists skills by path), read that file first: a real model opens the skill it needs.
        `skills=0` plays a session that never opens a skill."""
        try:
            return find()
        except NoCommand:
            unread = ctx.unread_skills() if self.args.get("skills", "1") == "1" else []
            if unread:
                return shell("cat " + shlex.quote(unread[0]))
            raise

    @staticmethod
    def reply_to(ctx, qid, body):
        """The reply command printed with message qid, or else a MESSAGE_ID template, filled in."""
        printed = [f for f in ctx.find_all(reply_shape()) if f["id"] == qid]
        if printed:
            return printed[0].render(body=body)
        f = ctx.find(f"replying to message {qid}", reply_shape(), where=lambda f: f["id"] == "MESSAGE_ID")
        return f.render({"MESSAGE_ID": qid}, body=body)

    @staticmethod
    def dir_fills(f, tdir):
        """Fills for a talk command's optional `[--dir DIR]`: the folder the join line gave, or none."""
        if f["dir"] and f["dir"].startswith(" ["):
            return {"[--dir DIR]": f"--dir {tdir}" if tdir else ""}
        return {}

    def take_turn(self, ctx, tid, text, tdir=None):
        """My turn in talk tid, through the talk say command my context shows (a skill I have not read yet may)."""
        def find():
            mine = lambda f: f["id"] in ("ID", tid)  # noqa: E731
            forms = [f for f in ctx.find_all(TALK_SAY) if mine(f)]
            if forms:
                f = forms[0]
                fills = {"ID": tid} if f["id"] == "ID" else {}
                return shell(f.render({**fills, **self.dir_fills(f, tdir)}, body=text))
            f = ctx.find("taking my turn in a talk (talk say)", TALK_SAY_TEXT, where=mine)
            fills = {"ID": tid} if f["id"] == "ID" else {}
            return shell(f.render({**fills, **self.dir_fills(f, tdir), f["text"]: shlex.quote(text)}))
        return self.learn(ctx, "taking my turn in a talk", find)

    def listen(self, ctx):
        """The plain listen command, in the form with a timeout when the context gives one (Codex: a shell call
        returns within 30 s)."""
        def find():
            forms = ctx.find_all(LISTEN)
            if not forms:
                raise NoCommand("no runnable command for listening in my context")
            timed = [f for f in forms if f["timeout"]]
            return shell((timed or forms)[0].render(), 110000)
        return self.learn(ctx, "listening", find)


def question_of(delivery):
    """The content of a delivered message (between its header and its footer)."""
    if "\n\n" not in delivery:
        return ""
    return delivery.split("\n\n", 1)[1].split("\n\n── ", 1)[0].strip()


class Listener(Policy):
    """/bridge listen --loop (or, in Codex, the skill's listen loop): listen, answer each query from 'answer',
    listen again; stop after `answers` answers."""

    def act(self, view, ctx):
        answers = int(self.args.get("answers", "1"))
        answered = sum(1 for r in view.tool_results if r.startswith("answered "))
        last = view.last_result or ""
        if answered >= answers and last.startswith("answered "):
            return say(f"Answered {answered} question(s); stopping as scripted.")
        m = MESSAGE_ID_RE.search(last)
        if m and "type: query" in last:
            answer = self.args.get("answer", "ANSWER") + f" (to: {question_of(last)})"
            return shell(self.reply_to(ctx, m.group(1), answer))
        # A query can also come as hook context (claimed by PostToolUse between two listen calls).
        replied = {c.split(" reply ", 1)[1].split(" ", 1)[0] for c, _ in view.calls if c and " reply " in c}
        for qid in dict.fromkeys(QUERY_RE.findall(view.all_text)):
            if qid not in replied:
                text = next(t for t in reversed(view.texts) if f"── message {qid} ──" in t)
                answer = self.args.get("answer", "ANSWER") + f" (to: {question_of(text.split(f'── message {qid} ──', 1)[1])})"
                return shell(self.reply_to(ctx, qid, answer))
        return self.listen(ctx)


class Asker(Policy):
    """/bridge ask or the skill: list peers, pick one by name, ask with --wait, report the answer. `wait` is the
    wait the user asked for (the prompt says it); in Codex the skill's own `--wait` figure applies."""

    def act(self, view, ctx):
        last = view.last_result
        question = self.args.get("question", "What is the answer?")
        kinds = [self.kind(c) for c, _ in view.calls]
        if "peers" not in kinds:
            return self.learn(ctx, "listing peers", lambda: shell(ctx.find("listing peers", PEERS_JSON).render()))
        if "ask" not in kinds:
            try:
                peers = json.loads(last[last.index("["):])
            except (ValueError, json.JSONDecodeError):
                return say("peers output was not JSON: " + last[:200])
            want = self.args.get("peer", "")
            live = [p for p in peers if not p.get("you") and p.get("state") in ("active", "idle")]
            chosen = next((p for p in live if want and want in (p["name"], p["id"])), None) or (live[0] if live else None)
            if chosen is None:
                return say("No live peer to ask.")
            forms = [f for f in ctx.find_all(ASK) if f["peer"] in ("PEER", "PEER_NAME")]
            waiting = [f for f in forms if f["wait"]]
            if not forms:
                raise NoCommand("no runnable command for asking a peer in my context")
            f = (waiting or forms)[0]
            cmd = f.render({f["peer"]: chosen["name"]}, body=question)
            if "wait" in self.args:
                cmd = with_option(cmd, "--wait", self.args["wait"])
            elif view.kind == "openai" and "use `--wait 25`" in view.all_text:
                cmd = with_option(cmd, "--wait", "25")
            return shell(cmd)
        return say("Peer result: " + last.strip()[:2000])

    @staticmethod
    def kind(cmd):
        if not cmd:
            return None
        if " peers --json" in cmd:
            return "peers"
        if " ask " in cmd:
            return "ask"
        return None


class Commands(Policy):
    """Runs the shell commands given as args cmd1, cmd2, ... in order, each only if it appears verbatim in the
    context (the test puts it in the prompt, as a person would tell the model), then stops."""

    def act(self, view, ctx):
        n = len(view.tool_results)
        cmd = self.args.get(f"cmd{n + 1}")
        if cmd is None:
            return say("done: " + (view.last_result or "")[:500])
        if cmd not in view.all_text:
            raise NoCommand(f"no runnable command {cmd!r} in my context")
        return shell(cmd)


class Responder(Policy):
    """A session that works and answers peers between its own steps: answers every peer query it can see (in a
    tool result, hook context or Stop-hook feedback) with the reply command shown with it, turns on the listen mode
    `mode` if given (with the command its context shows), runs `steps` work commands, and once it has `answers`
    answers turns listening off when its context shows how (`off=1`)."""

    def __init__(self, args):
        super().__init__(args)
        self.replied = []
        self.mode_set = False
        self.off = False
        self.worked = 0

    def act(self, view, ctx):
        for qid in dict.fromkeys(QUERY_RE.findall(view.all_text)):
            if qid not in self.replied:
                answer = self.args.get("answer", "ANSWER") + f" (#{len(self.replied) + 1})"
                cmd = self.reply_to(ctx, qid, answer)
                self.replied.append(qid)
                return shell(cmd)
        mode = self.args.get("mode")
        if mode and not self.mode_set:
            self.mode_set = True
            return shell(ctx.find(f"listen --{mode}", LISTEN_MODE, where=lambda f: f["mode"] == mode).render())
        if self.worked < int(self.args.get("steps", "0")):
            self.worked += 1
            return shell(f"echo working step {self.worked} && sleep {self.args.get('pause', '0.5')}")
        if self.args.get("off") == "1" and not self.off and len(self.replied) >= int(self.args.get("answers", "1")):
            offs = [f for f in ctx.find_all(LISTEN_MODE) if f["mode"] == "off"]
            if offs:
                self.off = True
                return shell(offs[0].render())
        return say(f"idle; answered {len(self.replied)}")


LAST_TURN_RE = re.compile(r"last turn (\d+) by")


class TalkInitiator(Policy):
    """Starts a talk with `peer`, invites it with the join line `talk new` printed, takes turns 1, 3, … and
    resolves once `turns` turns are in."""

    def act(self, view, ctx):
        results, last = view.tool_results, view.last_result
        peer, topic, turns = self.args.get("peer", "app"), self.args.get("topic", "API contract"), int(self.args.get("turns", "4"))
        if not results:
            f = ctx.find("starting a talk", TALK_NEW, where=lambda f: f["topic"] == "TOPIC")
            return shell(f.render({"TOPIC": topic, "PEER[,PEER]": peer} if "PEER[,PEER]" in f.command else {"TOPIC": topic, "PEER": peer}))
        created = results[0]
        join = ctx.find("joining the talk (the line talk new printed)", TALK_WAIT,
                        where=lambda f: f.text_index == view.index_of(created) and f["id"] != "ID")
        tid = join["id"]
        if len(results) == 1:
            f = ctx.find("inviting a peer", ASK, where=lambda f: f["peer"] in ("PEER", "PEER_NAME") and not f["wait"])
            return shell(f.render({f["peer"]: peer}, body=f"Please join talk {tid} about {topic}: {join.command}"))
        if len(results) == 2:
            return self.take_turn(ctx, tid, "Turn 1 from the initiator: I propose parse() returns Result.")
        if (last.startswith("turn ") and " recorded" in last) or last.startswith("Exit code 10"):
            # The "each turn" form (`talk wait ID [--dir DIR]`), not the join line a joiner is told to run.
            f = ctx.find("waiting for my turn", TALK_WAIT, where=lambda f: f["id"] == "ID" and not f["dirval"])
            return shell(f.render({"ID": tid, **self.dir_fills(f, None)}), 110000)
        m = LAST_TURN_RE.search(last)
        if last.startswith("your turn") and m:
            k = int(m.group(1))
            if k >= turns:
                f = ctx.find("resolving the talk", TALK_RESOLVE, where=lambda f: f["id"] == "ID")
                fills = {"ID": tid, f'"{f["summary"]}"': f'"Agreed after {k} turns: parse() returns Result"', **self.dir_fills(f, None)}
                return shell(f.render(fills))
            return self.take_turn(ctx, tid, f"Turn {k + 1} from the initiator, answering turn {k}.")
        return say("talk finished: " + last.strip()[:300])


class TalkJoiner(Policy):
    """Waits for an invitation (listening when its context shows how, otherwise working `steps` steps while hooks
    deliver it), answers it, joins with the join line it carries, and takes turns until the talk closes."""

    def __init__(self, args):
        super().__init__(args)
        self.worked = 0

    def act(self, view, ctx):
        results, last = view.tool_results, view.last_result or ""
        invite_id = next((q for q in QUERY_RE.findall(view.all_text)), None)
        if invite_id is None:
            if self.worked < int(self.args.get("steps", "0")):
                self.worked += 1
                return shell(f"echo working step {self.worked} && sleep {self.args.get('pause', '0.5')}")
            if self.args.get("listen", "1") == "1":
                return self.listen(ctx)
            return say("idle")
        # The join line, as the invitation gives it (in the message text delivered to me).
        join = ctx.find("joining the talk (the line the invitation gives)", TALK_WAIT,
                        where=lambda f: f["id"] != "ID" and invite_id in view.texts[f.text_index])
        tid, tdir = join["id"], join["dirval"]
        if not any(r.startswith("answered ") for r in results):
            return shell(self.reply_to(ctx, invite_id, "joining"))
        if last.startswith("answered ") or (last.startswith("turn ") and " recorded" in last) or last.startswith("Exit code 10"):
            return self.join(view, ctx, join)
        lt = LAST_TURN_RE.search(last)
        if last.startswith("your turn") and lt:
            k = int(lt.group(1))
            return self.take_turn(ctx, tid, f"Turn {k + 1} from the joiner: agreed with turn {k}, with a detail.", tdir)
        return say("talk over: " + last.strip()[:300])

    def join(self, view, ctx, join):
        """The join line, run as printed. A line naming the helper by its bare name (a talk on the store's server,
        printed on another host) runs with my own helper in its place when my context says to do that (the skills
        do); while it does not, a skill my context lists and I have not read may."""
        exe = join.exe
        if exe == HELPER_NAME:
            if not OWN_HELPER_RE.search(view.all_text):
                unread = ctx.unread_skills() if self.args.get("skills", "1") == "1" else []
                if unread:
                    return shell("cat " + shlex.quote(unread[0]))
            else:
                own = ctx.find("running the join line with my own helper", TALK_WAIT,
                               where=lambda f: f["id"] == "ID" and f.exe != HELPER_NAME)
                exe = own.exe
        cmd = exe + join.render()[len(join.exe):]
        if view.kind == "openai" and "--timeout 25" in view.all_text and not join["timeout"]:
            cmd = with_option(cmd, "--timeout", "25")
        return shell(cmd, 110000)


class Attempts(Policy):
    """Makes the tool calls listed in the JSON arg `actions` ({"tool": name, "input": {...}}), one per request; then
    reports the last result. These are an adversary's edits, not bridge commands, so they need no template."""

    def act(self, view, ctx):
        actions = json.loads(self.args.get("actions", "[]"))
        n = len(view.tool_results)
        if n >= len(actions):
            return say("attempts done: " + (view.last_result or "")[:300])
        a = actions[n]
        if a["tool"] == "shell":
            return shell(a["input"])
        return {"tool": "raw", "name": a["tool"], "input": a["input"]}


RESERVE = r' reserve PATH… --reason "(?P<reason>[^"\n]*)"'
RELEASE = r" release PATH…"
# The ask command a reservation denial shows: the holder's id, the question quoted, a wait.
ASK_HOLDER = r" ask (?P<peer>[a-z0-9]{8}) '(?P<question>[^'\n]*)' --wait (?P<seconds>\d+)"


class ReserveHolder(Listener):
    """/bridge reserve PATH --reason …: reserves `path` with the reserve command the /bridge text shows, then
    listens; when a peer asks, releases `path` with the release command its context shows and replies that it is
    free (with the reply command printed with the question); then stops."""

    def act(self, view, ctx):
        path, reason = self.args.get("path", "src/api/"), self.args.get("reason", "reworking it")
        cmds = [c or "" for c, _ in view.calls]
        if not any(" reserve " in c for c in cmds):
            f = ctx.find("reserving a path", RESERVE)
            return shell(f.render({"PATH…": path, f'"{f["reason"]}"': f'"{reason}"'}))
        queries = list(dict.fromkeys(QUERY_RE.findall(view.all_text)))
        if not queries:
            return self.listen(ctx)
        if not any(" release " in c for c in cmds):
            return shell(ctx.find("releasing a path", RELEASE).render({"PATH…": path}))
        if not any(" reply " in c for c in cmds):
            return shell(self.reply_to(ctx, queries[0], f"Released {path}: go ahead."))
        return say("Released and answered; stopping as scripted.")


class ReservedEditor(Policy):
    """Edits `path` (Read, then Edit with `old` → `new`); when the edit is denied because another session holds the
    path, runs the ask command the denial shows, and once it has the answer, edits again; then stops."""

    def act(self, view, ctx):
        path = self.args["path"]
        edit = {"tool": "raw", "name": "Edit", "input": {"file_path": path, "old_string": self.args.get("old", "a"),
                                                          "new_string": self.args.get("new", "b")}}
        calls = [(c, r or "") for c, r in view.calls if not is_skill_read(c)]
        if not calls:
            return {"tool": "raw", "name": "Read", "input": {"file_path": path}}
        cmd, last = calls[-1]
        if len(calls) == 1:
            return edit
        if cmd is None and "session-bridge reservation:" in last:
            return shell(ctx.find("asking the holder (the command the denial shows)", ASK_HOLDER).render(), 120000)
        if cmd and " ask " in cmd:
            return say("the holder did not answer: " + last.strip()[:300]) if last.startswith("Exit code") else edit
        return say("edit finished: " + last.strip()[:300])


POLICIES = {"attempts": Attempts, "listener": Listener, "asker": Asker, "commands": Commands, "responder": Responder,
            "talk-initiator": TalkInitiator, "talk-joiner": TalkJoiner, "reserve-holder": ReserveHolder,
            "reserved-editor": ReservedEditor}


def decide(policy, view, errors_path):
    """The policy's next action; a NoCommand becomes a final answer saying so, recorded for the test."""
    try:
        return policy.next(view)
    except NoCommand as e:
        with open(errors_path, "a") as f:
            f.write(str(e) + "\n")
        return say(f"I cannot go on: {e}.")


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
                    action = decide(policy, view, log_path + ".errors") if body.get("tools") else say("ok")
                else:
                    view = anthropic_view(body)
                    action = decide(policy, view, log_path + ".errors") if body.get("tools") else say("ok")
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
