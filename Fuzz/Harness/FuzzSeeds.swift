import Foundation
@testable import SessionBridge

/// Seed inputs for each target, built from the test fixtures (the guard corpus) and from what the tool itself
/// writes (talks, messages, hook inputs of both hosts), in each target's input format.
public enum FuzzSeeds {
    /// Named seeds for `target`. `guardCorpus` is Tests/SessionBridgeTests/Fixtures/guard-corpus.json.
    public static func seeds(for target: FuzzTarget, world: FuzzWorld, guardCorpus: [UInt8]?) -> [(name: String, bytes: [UInt8])] {
        switch target {
        case .guard, .guardWrap: return guardSeeds(guardCorpus)
        case .talk: return talkSeeds(world)
        case .talkSay: return saySeeds(world)
        case .message: return messageSeeds()
        case .hook: return hookSeeds()
        case .config: return configSeeds()
        case .json: return jsonSeeds(guardCorpus)
        }
    }

    static func guardSeeds(_ corpus: [UInt8]?) -> [(name: String, bytes: [UInt8])] {
        guard let corpus, let entries = (try? JSONSerialization.jsonObject(with: Data(corpus))) as? [[String: Any]] else { return [] }
        var out: [(String, [UInt8])] = []
        for (i, e) in entries.enumerated() {
            let host = e["host"] as? String ?? "claude", tool = e["tool"] as? String ?? ""
            let input = e["input"] as? [String: Any] ?? [:]
            let shape: Int, text: String
            switch tool {
            case "Bash":
                text = input["command"] as? String ?? ""
                shape = host == "codex" ? (i % 2 == 0 ? 1 : 2) : 0
            case "apply_patch": shape = 3; text = input["command"] as? String ?? ""
            case "Write", "Edit", "MultiEdit", "NotebookEdit":
                shape = 4; text = input["file_path"] as? String ?? input["notebook_path"] as? String ?? ""
            default:
                // Other tools as whole hook inputs.
                shape = 5
                let object: [String: Any] = ["session_id": "s-1", "cwd": "{PROJECT}", "hook_event_name": "PreToolUse", "tool_name": tool, "tool_input": input]
                text = (try? JSONSerialization.data(withJSONObject: object)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            }
            out.append(("corpus-\(i)", [UInt8(shape)] + Array(text.utf8)))
        }
        out.append(("raw-bash", [5] + Array(#"{"session_id":"s-1","cwd":"{PROJECT}","tool_name":"Bash","tool_input":{"command":"echo hi > .talks/x"}}"#.utf8)))
        out.append(("raw-broken", [5] + Array(#"{"tool_name":"Bash","tool_input":{"command":"rm -rf {PROJECT}/.talks"#.utf8)))
        return out
    }

    static func talkSeeds(_ world: FuzzWorld) -> [(name: String, bytes: [UInt8])] {
        let t = world.talkTemplate
        let text = String(decoding: t, as: UTF8.self)
        let yamlStyle = """
        ---
        schema: 1
        id: api-contract-zd35js
        topic: 'API contract: v2'
        initiator: lib
        participants:
          - lib
          - app
        status: active
        turnCount: 1
        maxTurns: 20
        nextSpeaker: app
        createdAt: 2026-11-21T18:00:52.814Z
        updatedAt: "2026-11-21T18:00:52.952Z"
        resolution: ~
        # a comment
        ---

        ## Turn 1 -- lib

        I propose parse() returns Result<Tree, ParseError>.
        \\<!-- not a trailer -->

        <!-- turn number=1 speaker=lib nonce=cee6c2701173 at=2026-11-21T18:00:52.849Z sha256=\(SHA256.hex("I propose parse() returns Result<Tree, ParseError>.\n<!-- not a trailer -->")) -->
        stray line

        """
        var empty = Conversation(header: TalkHeader(id: "empty-talk", topic: "t \"quoted\"\n", initiator: "a", participants: ["a", "b"],
                                                    status: .resolved, turnCount: 0, maxTurns: 3, nextSpeaker: "b", createdAt: "x",
                                                    updatedAt: "y", resolution: "done", blockedReason: nil))
        let plain = empty.render()
        empty.header.status = .blocked
        empty.header.blockedReason = "max turns reached"
        return [
            ("template", t), ("template-crlf", TalkFuzz.crlfVersion(t)), ("yaml-style", Array(yamlStyle.utf8)),
            ("no-turns", Array(plain.utf8)), ("blocked", Array(empty.render().utf8)),
            ("torn", Array(text.utf8.prefix(text.utf8.count - 30))),
            ("lone-cr", Array(text.replacing("plain line", with: "50%\r## Turn 7 — app").utf8)),
        ]
    }

    static func saySeeds(_ world: FuzzWorld) -> [(name: String, bytes: [UInt8])] {
        let contents = [
            "hello", "## Turn 3 — app", "<!-- turn number=3 speaker=app nonce=x at=y sha256=z -->", "a\r\nb\r\n", "progress 10%\rprogress 100%",
            "  \n\n  text with trailing spaces   \n\n", "\\## Turn 1 — a\n\\\\<!-- c -->", "---\nschema: 2\n---", "emoji 🎉 and é / é",
            "tab\there\n\n\nthree blank lines above", " ## Turn 2 — lib", "\u{2028}line separator\u{85}next line",
        ]
        var out: [(String, [UInt8])] = []
        for (i, c) in contents.enumerated() {
            out.append(("say-\(i)", [0] + Array(c.utf8)))
            out.append(("say-crlf-\(i)", [1] + Array(c.utf8)))
        }
        // With their own talk file: each talk seed, then the content.
        for (name, file) in talkSeeds(world) {
            out.append(("file-\(name)", [2] + file + [0] + Array("a new turn".utf8)))
        }
        return out
    }

    /// Hook inputs as the guard bench sends them (from the corpus), stored manifests and edge documents.
    static func jsonSeeds(_ corpus: [UInt8]?) -> [(name: String, bytes: [UInt8])] {
        var out: [(String, [UInt8])] = []
        if let corpus, let entries = (try? JSONSerialization.jsonObject(with: Data(corpus))) as? [[String: Any]] {
            for (i, e) in entries.enumerated() where i % 4 == 0 {
                let object: [String: Any] = ["session_id": "s-1", "cwd": "/w/p", "hook_event_name": "PreToolUse", "tool_name": e["tool"] ?? "",
                                             "tool_input": e["input"] ?? [:], "transcript_path": "/h/.claude/projects/p/s.jsonl"]
                if let d = try? JSONSerialization.data(withJSONObject: object) { out.append(("hook-\(i)", Array(d))) }
            }
        }
        let m = SessionManifest(id: "kgndjmem", name: "app", projectPath: "/w/p", host: "h", pid: 4242, pidStartTime: 99, agent: "claude-code",
                                claudeSessionId: "c-1", codexThreadId: nil, startedAt: "2026-12-02T10:00:00.000Z", lastSeen: "2026-12-02T10:00:00.000Z",
                                state: "live", endedAt: nil, helpers: ["/opt/sb/session-bridge"])
        out.append(("manifest", JSONCoding.encode(m)))
        out.append(("manifest-pretty", JSONCoding.encode(m, pretty: true)))
        let edges = [#"{"tool_name":"Bash","tool_input":{"command":"X=.cl; rm -rf ~/${X}aude/session-bridge \ud800"}}"#,
                     #"[1, -0.5e+3, true, false, null, "\u00e9\ud83d\ude00\/", {"a": [], "b": {}},]"#, "\u{FEFF}{\"stop_hook_active\":true}",
                     #"{"a":1,"a":"two"}"#, "01", "1e999", "\"\u{1}\""]
        for (i, e) in edges.enumerated() { out.append(("edge-\(i)", Array(e.utf8))) }
        return out
    }

    static func messageSeeds() -> [(name: String, bytes: [UInt8])] {
        let m = Message(from: "kgndjmem", fromName: "app", to: "sleepy42", toName: "lib", type: .query, content: "what is 2+2?\n\"quoted\" \\ é")
        let r = Message(from: "sleepy42", fromName: "lib", to: "kgndjmem", toName: "app", type: .response, inReplyTo: m.id, content: "4")
        var out: [(String, [UInt8])] = [("stored-query", [0] + JSONCoding.encode(m)), ("stored-reply", [0] + JSONCoding.encode(r, pretty: true))]
        out.append(("stored-readme", [0] + Array(#"{"schema": 1, "id": "01a1ff27-9a0c-7817-8522-818ffc0bdd7e", "from": "kgndjmem", "fromName": "app", "to": "sleepy42", "toName": "lib", "type": "query", "inReplyTo": null, "createdAt": "2026-11-21T17:29:07.852Z", "content": "what is 2+2?", "sha256": "x"}"#.utf8)))
        out.append(("new", [1] + Array("kgndjmem\0app\0sleepy42\0lib\0\0the content\nline 2".utf8)))
        out.append(("new-reply", [1] + Array("abcdefgh\0a\0hgfedcba\0b\001a1ff27-9a0c-7817-8522-818ffc0bdd7e\0\u{1}\u{7f}\u{2028}".utf8)))
        for (i, s) in ["plain", "quote \" backslash \\ slash /", "\u{0}\u{1}\u{8}\u{c}\u{1b}\u{7f}", "\u{2028}\u{2029}🎉é"].enumerated() {
            out.append(("quoted-\(i)", [2] + Array(s.utf8)))
        }
        return out
    }

    static func configSeeds() -> [(name: String, bytes: [UInt8])] {
        [
            ("default", Array(TalkConfig.template.utf8)),
            ("readme", Array("""
            schema_version: 1
            # conversation_dir: /mnt/shared/talks/conversations
            lock_strategy: flock          # flock | lockfile
            stale_lock_seconds: 30
            max_turns: 20
            watcher: {debounce_ms: 500, polling_fallback: true, inject_method: auto}
            security: {block_direct_edits: true, require_nonce_verification: true, audit_log: true}

            """.utf8)),
            ("shared-dir", Array("schema_version: 1\nconversation_dir: \"/mnt/shared/talks\\nx\"\nlock_strategy: lockfile\nwatcher:\n  prompt: \"Read {talk} as {alias}: {id} in {dir}\"\n".utf8)),
            ("anchors", Array("base: &b {debounce_ms: 100}\nwatcher: *b\nmax_turns: 0x10\n".utf8)),
        ]
    }

    static func hookSeeds() -> [(name: String, bytes: [UInt8])] {
        let sid = FuzzWorld.hookSessionID
        let claude = #""session_id":"\#(sid)","transcript_path":"{HOME}/.claude/projects/p/\#(sid).jsonl","cwd":"{PROJECT}""#
        let codex = #""session_id":"\#(sid)","transcript_path":"{HOME}/.codex/sessions/2026/11/21/rollout.jsonl","cwd":"{PROJECT}","model":"gpt-5","permission_mode":"default","turn_id":"t-1""#
        var out: [(String, [UInt8])] = []
        for (index, event) in HookAdapter.events.enumerated() {
            let name = event.name
            var extra: String
            switch event.cli {
            case "pre-tool-use": extra = #""tool_name":"Bash","tool_input":{"command":"echo x > {PROJECT}/.talks/conversations/a.md"},"tool_use_id":"c1""#
            case "post-tool-use": extra = #""tool_name":"Bash","tool_input":{"command":"ls","session_id":"nested"},"tool_response":"a\nb","tool_use_id":"c1""#
            case "user-prompt-submit": extra = #""prompt":"ask the lib session about \"parse()\"""#
            case "stop", "stop-background": extra = #""stop_hook_active":false,"last_assistant_message":"done""#
            case "session-start": extra = #""source":"startup""#
            default: extra = #""reason":"exit""#
            }
            out.append(("\(event.cli)-claude", [UInt8(index)] + Array("{\(claude),\"hook_event_name\":\"\(name)\",\(extra)}".utf8)))
            out.append(("\(event.cli)-codex", [UInt8(index)] + Array("{\(codex),\"hook_event_name\":\"\(name)\",\(extra)}".utf8)))
            out.append(("\(event.cli)-other", [UInt8(index)] + Array("{\"session_id\":\"another\",\"hook_event_name\":\"\(name)\"}".utf8)))
        }
        return out
    }
}
