"""The scripted models are literal: they run a bridge command only when their own context shows it verbatim, filling
in only the placeholders that text names. No CLI is started here; each case builds the context a policy would see."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_model as fm  # noqa: E402

QID = "01a1ff27-9a0c-7817-8522-818ffc0bdd7e"
HELPER = '"/opt/plug ins/session-bridge/scripts/session-bridge"'


def delivery(cli, qid=QID, content="Which port?"):
    return (f"── message {qid} ──\nfrom: app (kgndjmem)\ntype: query\nsent: 2026-11-21T17:29:07.852Z\n\n{content}\n\n"
            f"── answer it from your own context with ──\n{cli} reply {qid} - <<'SESSION_BRIDGE_REPLY'\n<your answer>\n"
            "SESSION_BRIDGE_REPLY")


def hook_context(cli, **kw):
    return ("PostToolUse:Bash hook additional context: session-bridge: a message from peer sessions. Answer each query "
            "from your own context with its reply command, then go on with what you were doing.\n\n" + delivery(cli, **kw))


BRIDGE_MD = (f"# /bridge: session bridge\n\nThe bridge helper is `{HELPER}` (written BRIDGE below: always use the full "
             "quoted path).\n\n- `listen`: run `BRIDGE listen --foreground`, then end your turn.\n- `listen --off`: run "
             "`BRIDGE listen --off`.\n- `listen --loop`: run `BRIDGE listen` with the Bash tool's `timeout` set to 110000.\n"
             "1. Run `BRIDGE peers --json` to see the sessions.\n3. Ask:\n   ```\n   BRIDGE ask PEER --wait 100 - <<'SESSION_BRIDGE_ASK'\n"
             "   your question\n   SESSION_BRIDGE_ASK\n   ```\n"
             "- Start: `BRIDGE talk new \"TOPIC\" --with PEER[,PEER]`. Invite each peer with `BRIDGE ask PEER - "
             "<<'SESSION_BRIDGE_ASK' ... SESSION_BRIDGE_ASK` giving the topic and that join line.\n"
             "- Each turn: `BRIDGE talk wait ID [--dir DIR]`. Write yours:\n  ```\n  BRIDGE talk say ID [--dir DIR] - "
             "<<'SESSION_BRIDGE_TURN'\n  your turn\n  SESSION_BRIDGE_TURN\n  ```\n"
             "- End it: `BRIDGE talk resolve ID [--dir DIR] --summary \"what was decided\"`.\n")

CODEX_SKILL = ("# Ask a peer session\n\nThe bridge helper is `\"${CLAUDE_PLUGIN_ROOT}/scripts/session-bridge\"` (BRIDGE below; "
               "always quote the full path). In Codex, where `${CLAUDE_PLUGIN_ROOT}` is not replaced, BRIDGE is "
               "`scripts/session-bridge` two folders above this SKILL.md (`<this skill's folder>/../../scripts/session-bridge`), "
               "and a shell call returns within 30 s: use `--wait 25`.\n\nTo answer peers: run `BRIDGE listen --timeout 25` in a loop.\n"
               "1. Run `BRIDGE peers --json`.\n")


def view(*texts, calls=(), kind="anthropic"):
    return fm.View(list(texts) + [r for _, r in calls], list(calls), kind)


def act(policy, v, **args):
    return fm.POLICIES[policy]({k: str(x) for k, x in args.items()}).next(v)


class LiteralCommandsTest(unittest.TestCase):
    def test_reply_is_the_printed_command_with_only_the_answer_filled_in(self):
        for cli in (HELPER, "'/x/scripts/session-bridge'", "/x/scripts/session-bridge", "session-bridge"):
            with self.subTest(cli=cli):
                a = act("responder", view("work on it", hook_context(cli)), answer="8080")
                self.assertEqual(a["command"], f"{cli} reply {QID} - <<'SESSION_BRIDGE_REPLY'\n8080 (#1)\nSESSION_BRIDGE_REPLY")

    def test_a_helper_path_elsewhere_does_not_make_a_reply_command(self):
        """The old models found any helper path in any text; a reply needs a reply command in the context."""
        bare = delivery("").replace(" reply ", "reply ").split("── answer it")[0]
        for other in (f"see {HELPER} for details", f"`{HELPER} status`", "Base directory for this skill: /x/skills/ask-peer"):
            with self.subTest(other=other):
                with self.assertRaises(fm.NoCommand):
                    fm.Responder({}).next(view(other, bare))

    def test_alias_only_resolves_within_the_text_that_defines_it(self):
        v = view(BRIDGE_MD, "Stop hook feedback:\n" + delivery("BRIDGE"))
        with self.assertRaises(fm.NoCommand):
            fm.Responder({}).next(v)
        a = act("responder", view(BRIDGE_MD), mode="foreground")
        self.assertEqual(a["command"], f"{HELPER} listen --foreground")

    def test_message_id_placeholder_is_filled_with_the_id_the_context_printed(self):
        bare = delivery("").split("── answer it")[0]
        a = act("responder", view(BRIDGE_MD.replace("- `listen --off`", "Reply with\n```\nBRIDGE reply MESSAGE_ID - "
                                                      "<<'SESSION_BRIDGE_REPLY'\nyour answer\nSESSION_BRIDGE_REPLY\n```\n- `listen --off`"), bare))
        self.assertEqual(a["command"], f"{HELPER} reply {QID} - <<'SESSION_BRIDGE_REPLY'\nANSWER (#1)\nSESSION_BRIDGE_REPLY")

    def test_listen_forms_are_not_confused(self):
        ctx = fm.Context(view(BRIDGE_MD))
        self.assertEqual([f.command for f in ctx.find_all(fm.LISTEN)], [f"{HELPER} listen"])
        self.assertEqual([f["mode"] for f in ctx.find_all(fm.LISTEN_MODE)], ["foreground", "off"])

    def test_unfilled_placeholders_refuse(self):
        f = fm.Context(view(BRIDGE_MD)).find("talk say", fm.TALK_SAY)
        with self.assertRaises(fm.NoCommand):
            f.render(body="x")
        self.assertEqual(f.render({"ID": "t-1", "[--dir DIR]": ""}, body="x"),
                         f"{HELPER} talk say t-1 - <<'SESSION_BRIDGE_TURN'\nx\nSESSION_BRIDGE_TURN")
        with self.assertRaises(fm.NoCommand):
            f.render({"ID": "t-1", "[--dir DIR]": "", "PEER": "lib"}, body="x")

    def test_off_needs_a_shown_command(self):
        r = fm.Responder({"off": "1"})
        self.assertIn(" reply ", r.next(view("work", hook_context(HELPER)))["command"])
        replied = view("work", hook_context(HELPER), calls=[(None, "answered app (reply x)")])
        self.assertEqual(r.next(replied)["text"][:4], "idle")
        timeout = ("Stop hook feedback:\nsession-bridge: no peer message in the last 0 minutes; still listening. End your "
                   f"turn to keep waiting, or run `{HELPER} listen --off` to stop listening.")
        self.assertEqual(r.next(view("work", hook_context(HELPER), timeout))["command"], f"{HELPER} listen --off")

    def test_codex_reads_the_listed_skill_then_fills_this_skills_folder(self):
        path = "/ch/plugins/cache/session-bridge/skills/ask-peer/SKILL.md"
        listing = f"## Skills\n- session-bridge:ask-peer: Ask another agent session (file: {path})\n"
        a = act("listener", view(listing, kind="openai"))
        self.assertEqual(a["command"], f"cat {path}")
        a = act("listener", view(listing, calls=[(f"cat {path}", CODEX_SKILL)], kind="openai"))
        self.assertEqual(a["command"], "/ch/plugins/cache/session-bridge/scripts/session-bridge listen --timeout 25")
        # The same text as a tool result of something else: the folder is unknown, so there is no command.
        with self.assertRaises(fm.NoCommand):
            fm.Listener({}).next(view(CODEX_SKILL, kind="openai"))

    def test_asker_fills_the_peer_and_the_question(self):
        peers = json.dumps([{"name": "lib", "id": "abcd2345", "state": "active", "you": False}])
        a = act("asker", view(BRIDGE_MD, calls=[(f"{HELPER} peers --json", peers)]), peer="lib", question="Port?")
        self.assertEqual(a["command"], f"{HELPER} ask lib --wait 100 - <<'SESSION_BRIDGE_ASK'\nPort?\nSESSION_BRIDGE_ASK")

    def test_talk_initiator_invites_with_the_join_line_talk_new_printed(self):
        created = ("talk 'API contract' between lib, app; lib speaks first; at most 20 turns\nfile: /p/.talks/conversations/"
                   f"api-contract-1a2b.md\npeers join with: {HELPER} talk wait api-contract-1a2b --dir /p/.talks\napi-contract-1a2b")
        first = act("talk-initiator", view(BRIDGE_MD), peer="app")
        self.assertEqual(first["command"], f'{HELPER} talk new "API contract" --with app')
        a = act("talk-initiator", view(BRIDGE_MD, calls=[(first["command"], created)]), peer="app")
        self.assertEqual(a["command"], f"{HELPER} ask app - <<'SESSION_BRIDGE_ASK'\nPlease join talk api-contract-1a2b about "
                         f"API contract: {HELPER} talk wait api-contract-1a2b --dir /p/.talks\nSESSION_BRIDGE_ASK")

    def test_talk_joiner_without_a_talk_say_command_is_stuck(self):
        invite = hook_context(HELPER, content=f"Please join talk t-9 about X: {HELPER} talk wait t-9 --dir /p/.talks")
        j = fm.TalkJoiner({"listen": "0"})
        v = view("work", invite)
        self.assertIn(" reply ", j.next(v)["command"])
        v = view("work", invite, calls=[(None, "answered app (reply r)")])
        self.assertEqual(j.next(v)["command"], f"{HELPER} talk wait t-9 --dir /p/.talks")
        v = view("work", invite, calls=[(None, "answered app (reply r)"), (None, "your turn in talk t-9 (turn 2 of at most 20); last turn 1 by lib:\n\nhi")])
        with self.assertRaises(fm.NoCommand):
            j.next(v)
        v = view(BRIDGE_MD, invite, calls=[(None, "answered app (reply r)"), (None, "your turn in talk t-9 (turn 2 of at most 20); last turn 1 by lib:\n\nhi")])
        self.assertEqual(j.next(v)["command"], f"{HELPER} talk say t-9 --dir /p/.talks - <<'SESSION_BRIDGE_TURN'\n"
                         "Turn 2 from the joiner: agreed with turn 1, with a detail.\nSESSION_BRIDGE_TURN")

    def test_talk_joiner_runs_a_bare_join_line_with_its_own_helper_when_its_skill_says_so(self):
        """A talk on the store's server prints its join line with the bare name: a session whose context says such a
        line runs with BRIDGE in its place runs the printed line with its own helper; one without that note runs it as
        printed, or first opens a skill its context lists."""
        invite = hook_context(HELPER, content="Please join talk t-9 about X: session-bridge talk wait t-9")
        answered = [(None, "answered app (reply r)")]
        note = ("- Join (when a peer invites you): run the join line it gave (`BRIDGE talk wait ID --dir DIR`; a line whose "
                "helper is the plain name session-bridge, for a talk on the store's server, runs with BRIDGE in place of "
                "`session-bridge`).\n")
        j = fm.TalkJoiner({"listen": "0"})
        self.assertEqual(j.next(view(BRIDGE_MD + note, invite, calls=answered))["command"], f"{HELPER} talk wait t-9")
        self.assertEqual(j.next(view("work", invite, calls=answered))["command"], "session-bridge talk wait t-9")
        listed = "- session-bridge:talk: Talk (file: /ch/skills/talk/SKILL.md)"
        self.assertEqual(j.next(view(listed, invite, calls=answered))["command"], "cat /ch/skills/talk/SKILL.md")
        with self.assertRaises(fm.NoCommand):   # the note, but no helper of its own shown anywhere
            j.next(view(note, invite, calls=answered))

    def test_talk_initiator_invites_with_a_join_line_without_a_folder(self):
        created = ("talk 'API contract' between lib, app; lib speaks first; at most 20 turns\nfile: /p/.talks/conversations/"
                   "api-contract-1a2b.md\npeers join with their own helper, from any host: session-bridge talk wait "
                   "api-contract-1a2b\napi-contract-1a2b")
        first = act("talk-initiator", view(BRIDGE_MD), peer="app")
        a = act("talk-initiator", view(BRIDGE_MD, calls=[(first["command"], created)]), peer="app")
        self.assertEqual(a["command"], f"{HELPER} ask app - <<'SESSION_BRIDGE_ASK'\nPlease join talk api-contract-1a2b about "
                         "API contract: session-bridge talk wait api-contract-1a2b\nSESSION_BRIDGE_ASK")

    def test_talk_turn_from_the_watchers_one_line_form(self):
        prompt = (f"Read /p/.talks/conversations/t-9.md (you are 'app'): it is your turn in talk t-9; answer with {HELPER} "
                  "talk say t-9 --dir /p/.talks --as app \"<your turn>\"")
        self.assertEqual(fm.Responder({}).take_turn(fm.Context(view(prompt)), "t-9", "Turn 2: agreed.")["command"],
                         f"{HELPER} talk say t-9 --dir /p/.talks --as app 'Turn 2: agreed.'")

    def test_talk_turn_with_the_command_talk_wait_prints(self):
        invite = hook_context(HELPER, content=f"Please join talk t-9 about X: {HELPER} talk wait t-9 --dir '/p q/.talks'")
        turn = ("your turn in talk t-9 (turn 2 of at most 20); last turn 1 by lib:\n\nhi\n\n── take your turn with ──\n"
                f"{HELPER} talk say t-9 --dir '/p q/.talks' - <<'SESSION_BRIDGE_TURN'\n<your turn>\nSESSION_BRIDGE_TURN")
        j = fm.TalkJoiner({"listen": "0"})
        v = view("work", invite, calls=[(None, "answered app (reply r)")])
        self.assertEqual(j.next(v)["command"], f"{HELPER} talk wait t-9 --dir '/p q/.talks'")
        v = view("work", invite, calls=[(None, "answered app (reply r)"), (None, turn)])
        self.assertEqual(j.next(v)["command"], f"{HELPER} talk say t-9 --dir '/p q/.talks' - <<'SESSION_BRIDGE_TURN'\n"
                         "Turn 2 from the joiner: agreed with turn 1, with a detail.\nSESSION_BRIDGE_TURN")

    def test_reading_a_skill_does_not_count_as_a_step(self):
        path = "/ch/skills/talk/SKILL.md"
        invite = hook_context(HELPER, content=f"Please join talk t-9 about X: {HELPER} talk wait t-9 --dir /p/.talks")
        turn = "your turn in talk t-9 (turn 2 of at most 20); last turn 1 by lib:\n\nhi"
        calls = [(None, "answered app (reply r)"), (None, turn), (f"cat {path}", "# Talk with peer sessions\nno commands here")]
        with self.assertRaises(fm.NoCommand):   # still its turn, still no talk say command: stuck, not "talk over"
            fm.TalkJoiner({"listen": "0"}).next(view(f"- session-bridge:talk: Talk (file: {path})", invite, calls=calls))

    def test_prose_commands_end_where_the_sentence_does(self):
        ctx = fm.Context(view("A message from app is waiting (session-bridge): answer it; if it is not shown to you, run "
                              "'/x/scripts/session-bridge' listen --timeout 5"))
        self.assertEqual([f.command for f in ctx.find_all(fm.LISTEN)], ["'/x/scripts/session-bridge' listen --timeout 5"])

    def test_a_shown_command_the_shell_cannot_start_is_reported(self):
        r = fm.Responder({})
        cmd = r.next(view("work", hook_context("session-bridge")))["command"]
        failed = view("work", hook_context("session-bridge"),
                      calls=[(cmd, "Exit code 127\n/bin/bash: line 1: session-bridge: command not found")])
        with self.assertRaisesRegex(fm.NoCommand, "does not run here"):
            r.next(failed)
        self.assertEqual(r.next(failed)["text"][:4], "idle")

    def test_codex_stop_hook_text_is_read_as_the_xml_it_comes_in(self):
        escaped = delivery(HELPER).replace("<", "&lt;").replace(">", "&gt;")
        body = {"input": [{"type": "message", "role": "user", "content": [
            {"type": "input_text", "text": f'<hook_prompt hook_run_id="stop:5:/x/hooks.json">{escaped}</hook_prompt>'}]}]}
        a = fm.Responder({}).next(fm.openai_view(body))
        self.assertEqual(a["command"], f"{HELPER} reply {QID} - <<'SESSION_BRIDGE_REPLY'\nANSWER (#1)\nSESSION_BRIDGE_REPLY")

    def test_talk_initiator_waits_with_the_each_turn_form_not_the_join_line(self):
        md = BRIDGE_MD + "- Join (when a peer invites you): run the join line it gave (`BRIDGE talk wait ID --dir DIR`).\n"
        created = f"peers join with: {HELPER} talk wait t-1 --dir /p/.talks\nt-1"
        calls = [("new", created), ("ask", "01a1ff27-0000-7817-8522-818ffc0bdd7e"), ("say", "turn 1 recorded (nonce n); next: app")]
        a = act("talk-initiator", view(md, calls=calls), peer="app")
        self.assertEqual(a["command"], f"{HELPER} talk wait t-1")

    def test_commands_policy_runs_only_what_its_prompt_shows(self):
        self.assertEqual(act("commands", view("Run `/x/session-bridge status --json`"), cmd1="/x/session-bridge status --json")["command"],
                         "/x/session-bridge status --json")
        with self.assertRaises(fm.NoCommand):
            act("commands", view("Show the status."), cmd1="/x/session-bridge status --json")


if __name__ == "__main__":
    unittest.main()
