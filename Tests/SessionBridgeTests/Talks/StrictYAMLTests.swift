import Foundation
import Testing
import Yams
@testable import SessionBridge

private typealias Node = StrictYAML.Node
typealias YAMLReason = StrictYAML.Failure.Reason

private func parse(_ text: String) -> Result<Node?, StrictYAML.Failure> { StrictYAML.parse(Array(text.utf8)) }

/// A node in a compact form to compare with expectations: plain scalars bare, quoted ones in '', sequences in [],
/// mappings in {} with entries in order.
private func render(_ node: Node?) -> String {
    guard let node else { return "nil" }
    switch node {
    case .scalar(let s, let plain, _): return plain ? s : "'\(s)'"
    case .sequence(let items, _): return "[" + items.map { render($0) }.joined(separator: ",") + "]"
    case .mapping(let entries, _): return "{" + entries.map { "\($0.key):\(render($0.value))" }.joined(separator: ",") + "}"
    }
}

@Suite struct StrictYAMLTests {
    @Test(arguments: [
        ("a: 1", "{a:1}"),
        ("a: 1\nb: two words\n", "{a:1,b:two words}"),
        ("---\na: 1 # note\n# comment\n\n", "{a:1}"),
        ("a:\n  b: 1\n  c:\n    d: x\n", "{a:{b:1,c:{d:x}}}"),
        ("a: {b: 1, c: [x, 'y z', \"q\"]}", "{a:{b:1,c:[x,'y z','q']}}"),
        ("a: {b: 1,\n  c: 2}  # multi-line flow\n", "{a:{b:1,c:2}}"),
        ("a:\n- x\n- y\nb: 1", "{a:[x,y],b:1}"),
        ("a:\n  - x\n  - k: v\n    l: w\n", "{a:[x,{k:v,l:w}]}"),
        ("- - a\n  - b\n- c", "[[a,b],c]"),
        ("a:\nb: ~\n", "{a:,b:~}"),
        ("\"quoted key\": 'it''s'\n", "{quoted key:'it's'}"),
        ("a: \"t\\tn\\n\\u00e9\\x41\\\\\\\"\"", "{a:'t\tn\néA\\\"'}"),
        ("url: http://x.org/a#b\n", "{url:http://x.org/a#b}"),
        ("a: 1\r\nb: 2\r\n", "{a:1,b:2}"),
        ("\u{FEFF}a: 1", "{a:1}"),
        ("a: -1\nb: x-y\nc: '-'\n", "{a:-1,b:x-y,c:'-'}"),
        ("a: [ ]\nb: {}\n", "{a:[],b:{}}"),
        ("a: b:c\n", "{a:b:c}"),
    ])
    func parsesTheSubset(_ text: String, _ expected: String) throws {
        let node = try parse(text).get()
        #expect(render(node) == expected, "\(text.debugDescription)")
    }

    @Test func emptyDocumentsAreNil() throws {
        for text in ["", "\n\n", "# only a comment\n", "---\n", "---\n# c\n"] {
            #expect(try parse(text).get() == nil, "\(text)")
        }
    }

    @Test(arguments: [
        ("a: &x 1", YAMLReason.anchor, 1),
        ("a: 1\nb: *x", .alias, 2),
        ("<<: *base", .alias, 1),
        ("a: [&x 1]", .anchor, 1),
        ("a: {b: *x}", .alias, 1),
        ("&x a: 1", .anchor, 1),
        ("a: !!str 1", .tag, 1),
        ("a: !local x", .tag, 1),
        ("%YAML 1.2\n---\na: 1", .directive, 1),
        ("a: 1\n---\nb: 2", .multipleDocuments, 2),
        ("a: 1\n...\n", .multipleDocuments, 2),
        ("a: |\n  text\n", .blockScalar, 1),
        ("a: >-\n  text\n", .blockScalar, 1),
        ("? a\n: b", .complexKey, 1),
        ("a: 1\na: 2", .duplicateKey("a"), 2),
        ("a: {b: 1, b: 2}", .duplicateKey("b"), 1),
        ("\ta: 1", .tabIndentation, 1),
        ("a:\n\tb: 1", .tabIndentation, 2),
        ("a: 1\n  b: 2", .multilineScalar, 2),
        ("a: one\n  two", .multilineScalar, 2),
        ("a:\n    b: 1\n  c: 2", .badIndentation, 3),
        ("- a\n  - b", .badIndentation, 2),
        ("a: \"open", .unterminatedQuote, 1),
        ("a: 'open\nb: 1", .unterminatedQuote, 1),
        ("a: \"x\ny\"", .unterminatedQuote, 1),
        ("a: \"\\q\"", .badEscape, 1),
        ("a: \"\\u12\"", .badEscape, 1),
        ("a: \"\\ud800\"", .badEscape, 1),
        ("a: @x", .reservedIndicator("@"), 1),
        ("a: `x`", .reservedIndicator("`"), 1),
        ("{[a]: 1}", .keyNotScalar, 1),
        ("a: 1\u{0}", .controlCharacter, 1),
        ("a: 1\nb: \u{1b}[31m", .controlCharacter, 2),
        ("a: 1\rb: 2", .loneCarriageReturn, 1),
    ])
    func refusesWhatIsOutsideTheSubset(_ text: String, _ reason: YAMLReason, _ line: Int) {
        switch parse(text) {
        case .success(let n): Issue.record("accepted \(text.debugDescription): \(String(describing: n))")
        case .failure(let f):
            #expect(f.reason == reason, "\(text.debugDescription): \(f.message)")
            #expect(f.line == line, "\(text.debugDescription): \(f.message)")
            #expect(f.message.hasPrefix("line \(line): ") && !f.message.contains("\n"))
        }
    }

    @Test(arguments: [
        "[a", "{a: 1", "a: [1, 2]]", "a: b: c", "a: {b}", "a: [1,, 2]", "{a: 1} x", "a: 1 b: 2",
        "- a\nb: 1", "a: 1\n- b", ": v", "a:\n  - x\n - y", "a: [1\nb: 2", "'a' x: 1", "a: 'x' y",
        "a: \"x\" # ok\nb: \"y\" z", "[a]: 1",
    ])
    func refusesMalformedInput(_ text: String) {
        if case .success(let n) = parse(text) { Issue.record("accepted \(text.debugDescription): \(String(describing: n))") }
    }

    @Test func invalidUTF8IsRefusedWithItsLine() {
        let bytes = Array("a: 1\nb: ".utf8) + [0xC3, 0x28] + Array("\n".utf8)
        guard case .failure(let f) = StrictYAML.parse(bytes) else { Issue.record("accepted"); return }
        #expect(f.reason == .notUTF8 && f.line == 2)
    }

    @Test func nestingIsBounded() {
        let deepFlow = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        guard case .failure(let f) = parse(deepFlow) else { Issue.record("accepted"); return }
        #expect(f.reason == .tooDeep)
        var deepBlock = ""
        for level in 0..<200 { deepBlock += String(repeating: " ", count: level) + "k\(level):\n" }
        guard case .failure(let g) = parse(deepBlock) else { Issue.record("accepted"); return }
        #expect(g.reason == .tooDeep)
        let deepSequence = String(repeating: "- ", count: 5_000) + "x"
        guard case .failure(let h) = parse(deepSequence) else { Issue.record("accepted"); return }
        #expect(h.reason == .tooDeep)
        // Within the bound is fine.
        let ok = String(repeating: "[", count: StrictYAML.maxDepth - 1) + String(repeating: "]", count: StrictYAML.maxDepth - 1)
        #expect((try? parse(ok).get()) != nil)
    }

    @Test func anAliasBombIsRefusedAtOnce() {
        var bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        for (i, name) in "bcdefghi".enumerated() {
            let prev = String(Array("abcdefghi")[i])
            bomb += "\(name): &\(name) [" + Array(repeating: "*\(prev)", count: 9).joined(separator: ",") + "]\n"
        }
        let started = Date()
        guard case .failure(let f) = parse(bomb) else { Issue.record("accepted"); return }
        #expect(f.reason == .anchor && f.line == 1)
        #expect(Date().timeIntervalSince(started) < 0.1)
    }

    /// Deterministic pseudo-random numbers (SplitMix64), so a failure can be replayed.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    }

    @Test func mutatedConfigsNeverTrapAndParseTheSameTwice() {
        let seeds = [Array(TalkConfig.template.utf8),
                     Array("schema_version: 1\nwatcher: {debounce_ms: 500, polling_fallback: true, inject_method: auto}\nsecurity: {block_direct_edits: true}\n".utf8),
                     Array("a:\n  - x\n  - {k: 'v', l: \"w\\n\"}\n  - - y\n".utf8)]
        let alphabet = Array(" \t\n\r-:#&*!|>?'\"{}[],.%@`\\~0a".utf8) + [0, 0xC3, 0xFF, 0x80]
        var random = Random(state: 12)
        var accepted = 0
        for round in 0..<6_000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0...random.below(6) {
                let at = random.below(bytes.count + 1)
                switch random.below(4) {
                case 0: bytes.insert(alphabet[random.below(alphabet.count)], at: at)
                case 1: if at < bytes.count { bytes.remove(at: at) }
                case 2: if at < bytes.count { bytes[at] = alphabet[random.below(alphabet.count)] }
                default: bytes = Array(bytes.prefix(at))
                }
            }
            let first = StrictYAML.parse(bytes)
            #expect(first == StrictYAML.parse(bytes))
            if case .success = first { accepted += 1 }
            if case .failure(let f) = first { #expect(f.line >= 1 && !f.message.contains("\n")) }
            _ = TalkConfig.parse(bytes: bytes)
        }
        // The mutations both keep some documents valid and break others.
        #expect(accepted > 100 && accepted < 6_000)
    }

    @Test func randomBytesAtTheSizeCapParseFast() {
        var random = Random(state: 7)
        let alphabet = Array(" \n-:#'\"{}[],ab1".utf8)
        for _ in 0..<20 {
            let bytes = (0..<TalkConfig.maxBytes).map { _ in alphabet[random.below(alphabet.count)] }
            let started = Date()
            _ = TalkConfig.parse(bytes: bytes)
            #expect(Date().timeIntervalSince(started) < 0.5)
        }
        // A long valid document too: many keys, one per line.
        let many = (0..<3_000).map { "k\($0): v\($0)" }.joined(separator: "\n")
        let started = Date()
        #expect((try? parse(many).get()) != nil)
        #expect(Date().timeIntervalSince(started) < 0.5)
    }
}

/// A Yams (libyaml) node in the same compact form as `render`, or nil for what `render` cannot show.
private func render(yams node: Yams.Node) -> String? {
    switch node {
    case .scalar(let s): return s.style == .plain ? s.string : "'\(s.string)'"
    case .sequence(let seq):
        let items = seq.map { render(yams: $0) }
        return items.contains(where: { $0 == nil }) ? nil : "[" + items.compactMap { $0 }.joined(separator: ",") + "]"
    case .mapping(let map):
        var parts: [String] = []
        for (k, v) in map {
            guard case .scalar(let key) = k, let value = render(yams: v) else { return nil }
            parts.append("\(key.string):\(value)")
        }
        return "{" + parts.joined(separator: ",") + "}"
    case .alias: return nil
    }
}

/// Differential checks against a full YAML parser: whatever the strict parser accepts is YAML, and reads the same.
@Suite struct StrictYAMLAgreesWithLibYAMLTests {
    static let documents = [
        TalkConfig.template,
        "a: 1\nb: two words\n", "---\na: 1 # note\n# comment\n\n", "a:\n  b: 1\n  c:\n    d: x\n",
        "a: {b: 1, c: [x, 'y z', \"q\"]}", "a: {b: 1,\n  c: 2}  # multi-line flow\n", "a:\n- x\n- y\nb: 1",
        "a:\n  - x\n  - k: v\n    l: w\n", "- - a\n  - b\n- c", "\"quoted key\": 'it''s'\n",
        "a: \"t\\tn\\n\\u00e9\\x41\\\\\\\"\"", "url: http://x.org/a#b\n", "a: 1\r\nb: 2\r\n", "a: -1\nb: x-y\nc: '-'\n",
        "a: [ ]\nb: {}\n", "a: b:c\n", "key : value\n", "a: 'x' # c\n", "- a: 1\n  b: [2, 3]\n-   c: 4\n    d: 5\n",
        "watcher: {debounce_ms: 500, polling_fallback: true, inject_method: auto}   # and prompt: \"… {talk}\"\n",
        "a: {b: 1,\n  c: [x,\n    y]}\nd:\n  - e\n  - f: g\n    h: 'i'\n",
        "- a\n-\n  - b\n  -   c: d\n- e: {f: g}\n",
    ]

    @Test(arguments: documents)
    func acceptedDocumentsReadTheSameInLibYAML(_ text: String) throws {
        let ours = try #require(try StrictYAML.parse(Array(text.utf8)).get())
        let theirs = try #require(try Yams.compose(yaml: text))
        #expect(render(ours) == render(yams: theirs), "\(text.debugDescription)")
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func mutatedDocumentsThatWeAcceptAreYAMLThatReadsTheSame(_ seed: UInt64) {
        var random = StrictYAMLTests.Random(state: seed)
        let alphabet = Array(" \n-:#'\"{}[],.ab1?!&*|>%@`\t\r~".utf8)
        var accepted = 0
        for round in 0..<4_000 {
            var bytes = Array(Self.documents[round % Self.documents.count].utf8)
            for _ in 0...random.below(6) {
                let at = random.below(bytes.count + 1)
                switch random.below(3) {
                case 0: bytes.insert(alphabet[random.below(alphabet.count)], at: at)
                case 1: if at < bytes.count { bytes.remove(at: at) }
                default: if at < bytes.count { bytes[at] = alphabet[random.below(alphabet.count)] }
                }
            }
            guard case .success(let ours?) = StrictYAML.parse(bytes) else { continue }
            accepted += 1
            let text = String(decoding: bytes, as: UTF8.self)
            guard let theirs = try? Yams.compose(yaml: text) else {
                Issue.record("accepted what libyaml refuses: \(text.debugDescription)")
                continue
            }
            #expect(render(ours) == render(yams: theirs), "\(text.debugDescription)")
        }
        #expect(accepted > 100)
    }
}

@Suite struct StrictTalkConfigTests {
    @Test func documentedFormsParse() throws {
        let readme = """
        schema_version: 1
        # conversation_dir: /mnt/shared/talks/conversations
        lock_strategy: flock          # flock | lockfile
        stale_lock_seconds: 30
        max_turns: 20
        watcher: {debounce_ms: 500, polling_fallback: true, inject_method: auto}   # and prompt: "… {talk} {alias} {id} {dir}"
        security: {block_direct_edits: true, require_nonce_verification: true, audit_log: true}

        """
        #expect(try TalkConfig.parse(readme, path: "c") == TalkConfig())
        let full = try TalkConfig.parse("""
        ---
        schema_version: "1"
        conversation_dir: shared/talks
        lock_strategy: lockfile
        stale_lock_seconds: 5
        max_turns: 8
        watcher:
          debounce_ms: 0
          polling_fallback: False
          inject_method: none
          prompt: 'Read {talk} ({alias}): your turn in {id}'
        security:
          block_direct_edits: TRUE
          require_nonce_verification: false
          audit_log: .talks/audit.log
        """, path: "c")
        #expect(full.conversationDir == "shared/talks" && full.lockStrategy == .lockfile && full.staleLockSeconds == 5)
        #expect(full.maxTurns == 8 && full.watcherDebounceMs == 0 && !full.watcherPollingFallback && full.watcherInjectMethod == "none")
        #expect(full.watcherPrompt == "Read {talk} ({alias}): your turn in {id}")
        #expect(full.blockDirectEdits && !full.requireNonceVerification && full.auditLog)
        #expect(try TalkConfig.parse("schema_version: 1.0\nwatcher:\nsecurity:\n", path: "c") == TalkConfig())
    }

    @Test(arguments: [
        ("max_turns: \"5\"", "line 1: max_turns must be a whole number"),
        ("max_turns: 5.5", "line 1: max_turns must be a whole number"),
        ("max_turns: 99999999999999999999999", "max_turns must be a whole number"),
        ("stale_lock_seconds: 100000000", "stale_lock_seconds must be a whole number >= 1 and <= 86400"),
        ("watcher:\n  debounce_ms: -1", "line 2: watcher.debounce_ms must be a whole number >= 0"),
        ("watcher:\n  prompt: \"a\\nb\"", "line 2: watcher.prompt must be one line of text"),
        ("watcher:\n  prompt: \"\(String(repeating: "p", count: 2000))\"", "watcher.prompt must be one line of text"),
        ("watcher: [1]", "line 1: watcher must be a mapping"),
        ("watcher:\n  colour: red", "line 2: unknown setting watcher.colour"),
        ("security:\n  audit_log: [x]", "security.audit_log must be true, false or a path"),
        ("security:\n  block_direct_edits: yes", "security.block_direct_edits must be true or false"),
        ("conversation_dir: \"\"", "conversation_dir must be an absolute path"),
        ("conversation_dir: ~/talks", "conversation_dir must be an absolute path or one relative to the project"),
        ("conversation_dir: \"/tmp/a\\0b\"", "conversation_dir must be an absolute path"),
        ("conversation_dir: [a, b]", "conversation_dir must be an absolute path"),
        ("schema_version: 2", "schema_version must be 1"),
        ("lock_strategy: proper-lockfile", "lock_strategy must be flock or lockfile"),
        ("just text", "line 1: must be a mapping of settings"),
        ("- a", "line 1: must be a mapping of settings"),
        ("a: &x 1", "line 1: an anchor (&)"),
        ("max_turns: 1\nmax_turns: 2", "line 2: the key 'max_turns' appears twice"),
    ])
    func invalidSettingsNameTheKeyAndLine(_ yaml: String, _ fragment: String) {
        do {
            _ = try TalkConfig.parse(yaml, path: "config.yaml")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.message.hasPrefix("config.yaml: "))
            #expect(error.message.contains(fragment), "\(error.message)")
            #expect(!error.message.contains("\n"))
            #expect(error.exitCode == 6)
        }
    }

    @Test func oversizedConfigIsRefusedUnparsed() {
        let big = Array(("# " + String(repeating: "x", count: TalkConfig.maxBytes)).utf8)
        guard case .failure(let e) = TalkConfig.parse(bytes: big) else { Issue.record("accepted"); return }
        #expect(e.problem == .tooLarge(size: big.count))
    }
}

/// A project in a fake home, with a store, for the config.yaml-as-hostile-input cases.
struct HostileConfigWorld {
    let base: String, home: String, store: String, project: String

    init() throws {
        base = TalkLocation.resolve(makeTempDir("hostile"))
        home = base + "/home"
        store = home + "/.claude/session-bridge"
        project = home + "/src/proj"
        for d in [store, project + "/.talks/conversations", project + "/.talks/registry", project + "/Sources"] {
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        }
    }

    var environment: Environment { Environment(["HOME": home, "SESSION_BRIDGE_HOME": store]) }
    var cliEnvironment: [String: String] { ["HOME": home] }

    func config(_ text: String) throws {
        try text.write(toFile: project + "/.talks/config.yaml", atomically: false, encoding: .utf8)
    }

    func write(_ path: String) -> Guard.Verdict {
        let object: [String: Any] = ["session_id": "s", "cwd": project, "hook_event_name": "PreToolUse",
                                     "tool_name": "Write", "tool_input": ["file_path": path, "content": "x"]]
        return Guard.evaluate(input: Array(try! JSONSerialization.data(withJSONObject: object)), environment: environment)
    }

    func bash(_ command: String) -> Guard.Verdict {
        let object: [String: Any] = ["session_id": "s", "cwd": project, "hook_event_name": "PreToolUse",
                                     "tool_name": "Bash", "tool_input": ["command": command]]
        return Guard.evaluate(input: Array(try! JSONSerialization.data(withJSONObject: object)), environment: environment)
    }

    /// The guard keeps guarding the default talks folder and the store, and allows ordinary writes.
    func expectGuardStillSane(_ label: String, configIsALink: Bool = false) {
        #expect(write(project + "/.talks/conversations/t.md") != .allow, "\(label): a talk write was allowed")
        // (A config.yaml that is a symlink is the guard's business: writing through it writes its target.)
        if !configIsALink { #expect(write(project + "/.talks/config.yaml") != .allow, "\(label): a config write was allowed") }
        #expect(write(store + "/sessions/x/manifest.json") != .allow, "\(label): a store write was allowed")
        #expect(write(project + "/Sources/main.swift") == .allow, "\(label): an ordinary write was denied")
        #expect(write("/tmp/elsewhere.txt") == .allow, "\(label): a write to /tmp was denied")
        #expect(write(home + "/notes.txt") == .allow, "\(label): a write in home was denied")
        #expect(bash("echo hi > /tmp/out.txt") == .allow, "\(label): a shell write to /tmp was denied")
        #expect(bash("echo hi > .talks/conversations/t.md") != .allow, "\(label): a shell talk write was allowed")
    }
}

@Suite struct HostileConfigTests {
    /// Every conversation_dir that would make the guard claim too much, as config.yaml writes it.
    static func unsafeDirs(_ w: HostileConfigWorld) -> [(String, ConfigError.UnsafeLocation)] {
        [("/", .root), ("/tmp", .topLevel), ("/usr", .topLevel), (".", .projectOrAncestor), ("..", .projectOrAncestor),
         ("src/..", .projectOrAncestor), ("\"\(w.home)\"", .homeOrAncestor), (w.home + "/", .homeOrAncestor), (w.base, .homeOrAncestor),
         ("/./", .root), ("../../../../../../../../..", .root), (w.store, .store), (w.store + "/sessions", .store),
         (w.home + "/.claude", .storeAncestor)]
    }

    @Test func unsafeConversationDirsAreRefusedAndTheGuardStaysSane() throws {
        let w = try HostileConfigWorld()
        for (dir, why) in Self.unsafeDirs(w) {
            try w.config("conversation_dir: \(dir)\n")
            do {
                _ = try TalkLocation.find(dir: nil, environment: w.environment, cwd: w.project)
                Issue.record("accepted conversation_dir \(dir)")
            } catch {
                #expect(error.exitCode == 6)
                #expect(error.message.contains("config.yaml: line 1: conversation_dir resolves to"), "\(error.message)")
                #expect(error.message.contains(why.reason), "\(dir): \(error.message)")
            }
            w.expectGuardStillSane("conversation_dir: \(dir)")
        }
    }

    @Test func aStoreOutsideHomeCannotBeContainedEither() throws {
        let w = try HostileConfigWorld()
        let outside = w.base + "/shared/store"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try w.config("conversation_dir: \(w.base)/shared\n")
        let env = Environment(["HOME": w.home, "SESSION_BRIDGE_HOME": outside])
        #expect(throws: BridgeError.self) { try TalkLocation.find(dir: nil, environment: env, cwd: w.project) }
    }

    @Test func symlinkedConversationDirIsResolvedFirst() throws {
        let w = try HostileConfigWorld()
        try FileManager.default.createSymbolicLink(atPath: w.project + "/innocent", withDestinationPath: "/")
        try w.config("conversation_dir: innocent/talks/..\n")
        #expect(throws: BridgeError.self) { try TalkLocation.find(dir: nil, environment: w.environment, cwd: w.project) }
        w.expectGuardStillSane("symlink to /")
    }

    @Test func plantedSymlinksInTheTalksFolderCannotWidenTheGuard() throws {
        // No config at all: .talks/conversations itself is a link to / (or to the home folder).
        for target in ["/", "HOME"] {
            let w = try HostileConfigWorld()
            try FileManager.default.removeItem(atPath: w.project + "/.talks/conversations")
            try FileManager.default.createSymbolicLink(atPath: w.project + "/.talks/conversations", withDestinationPath: target == "HOME" ? w.home : "/")
            do {
                _ = try TalkLocation.find(dir: nil, environment: w.environment, cwd: w.project)
                Issue.record("accepted a conversations link to \(target)")
            } catch {
                #expect(error.message.contains("the conversations folder"), "\(error.message)")
            }
            #expect(w.write("/tmp/elsewhere.txt") == .allow)
            #expect(w.write(w.home + "/notes.txt") == .allow)
            #expect(w.write(w.project + "/.talks/config.yaml") != .allow)
        }
        // The talks folder itself a link to the project's parent.
        let w = try HostileConfigWorld()
        try FileManager.default.removeItem(atPath: w.project + "/.talks")
        try FileManager.default.createSymbolicLink(atPath: w.project + "/.talks", withDestinationPath: "..")
        #expect(throws: BridgeError.self) { try TalkLocation.find(dir: nil, environment: w.environment, cwd: w.project) }
        #expect(w.write(w.project + "/Sources/main.swift") == .allow)
    }

    @Test func safeConversationDirsWork() throws {
        let w = try HostileConfigWorld()
        let shared = w.base + "/shared-talks"
        for (dir, expected) in [("shared/talks", w.project + "/shared/talks"), (shared, shared), (".talks/conversations", w.project + "/.talks/conversations")] {
            try w.config("conversation_dir: \(dir)\n")
            let location = try TalkLocation.find(dir: nil, environment: w.environment, cwd: w.project)
            #expect(TalkLocation.resolve(location.conversations) == expected)
            #expect(w.write(expected + "/t.md") != .allow, "\(dir) is not guarded")
            w.expectGuardStillSane("conversation_dir: \(dir)")
        }
    }

    @Test(arguments: [
        "a: &a [1]\nb: *a\n",
        "security:\n  block_direct_edits: false\nbomb: &x [*x]\n",
        "security: {block_direct_edits: false}\nconversation_dir: /\n",
        "security: {block_direct_edits: false}\nconversation_dir: ..\n",
        "security:\n\tblock_direct_edits: false\n",
        "{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{",
        "max_turns: 1\n---\nsecurity: {block_direct_edits: false}\n",
    ])
    func invalidConfigsKeepTheDefaultGuard(_ yaml: String) throws {
        let w = try HostileConfigWorld()
        try w.config(yaml)
        #expect(throws: BridgeError.self) { try TalkLocation.find(dir: nil, environment: w.environment, cwd: w.project) }
        // An invalid config cannot turn the guard off.
        w.expectGuardStillSane(yaml)
    }

    @Test func aBillionLaughsConfigCostsTheGuardNothing() throws {
        let w = try HostileConfigWorld()
        var bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        for (i, name) in "bcdefghijklmnopq".enumerated() {
            let prev = String(Array("abcdefghijklmnopq")[i])
            bomb += "\(name): &\(name) [" + Array(repeating: "*\(prev)", count: 9).joined(separator: ",") + "]\n"
        }
        try w.config(bomb)
        let started = Date()
        for _ in 0..<50 { #expect(w.write(w.project + "/Sources/a.swift") == .allow) }
        #expect(Date().timeIntervalSince(started) < 2.5, "50 guard calls took \(Date().timeIntervalSince(started)) s")
        w.expectGuardStillSane("alias bomb")
    }

    @Test func oversizedAndNonRegularConfigsAreRefused() throws {
        let w = try HostileConfigWorld()
        try w.config("# " + String(repeating: "x", count: 200_000) + "\n")
        #expect(throws: BridgeError.self) { try TalkLocation.find(dir: nil, environment: w.environment, cwd: w.project) }
        w.expectGuardStillSane("oversized")
        try FileManager.default.removeItem(atPath: w.project + "/.talks/config.yaml")
        #expect(mkfifo(w.project + "/.talks/config.yaml", 0o600) == 0)
        let started = Date()
        #expect(throws: BridgeError.self) { try TalkLocation.find(dir: nil, environment: w.environment, cwd: w.project) }
        w.expectGuardStillSane("FIFO")
        #expect(Date().timeIntervalSince(started) < 2)
        try FileManager.default.removeItem(atPath: w.project + "/.talks/config.yaml")
        try FileManager.default.createSymbolicLink(atPath: w.project + "/.talks/config.yaml", withDestinationPath: "/dev/zero")
        #expect(throws: BridgeError.self) { try TalkLocation.find(dir: nil, environment: w.environment, cwd: w.project) }
        w.expectGuardStillSane("symlink to /dev/zero", configIsALink: true)
    }

    @Test func aPlantedConfigCacheIsNotTrusted() throws {
        // Old versions cached the parsed config in registry/config.cache, keyed by the YAML's hash; a repository
        // can ship one. Nothing reads it now.
        let w = try HostileConfigWorld()
        try w.config("max_turns: 4\n")
        let forged = "session-bridge talk config cache 1\nsource=\(SHA256.hex("max_turns: 4\n"))\nschemaVersion=1\nlockStrategy=flock\n"
            + "staleLockSeconds=30\nmaxTurns=4\nwatcherDebounceMs=500\nwatcherPollingFallback=true\nwatcherInjectMethod=6175746f\n"
            + "blockDirectEdits=false\nrequireNonceVerification=true\nauditLog=true\nconversationDir=2f\n"
        try forged.write(toFile: w.project + "/.talks/registry/config.cache", atomically: false, encoding: .utf8)
        let location = try TalkLocation.find(dir: nil, environment: w.environment, cwd: w.project)
        #expect(location.config.blockDirectEdits && location.config.conversationDir == nil && location.config.maxTurns == 4)
        w.expectGuardStillSane("forged cache")
    }

    @Test func talkCommandsAndDoctorReportAnInvalidConfigInOneLine() throws {
        let w = try HostileConfigWorld()
        try w.config("max_turns: 3\nwatcher: &w {debounce_ms: 1}\n")
        for args in [["talk", "list"], ["talk", "new", "Plan", "--with", "b", "--as", "a"], ["talk", "show", "x"], ["talk", "init"]] {
            let r = try CLI.run(args, root: w.store, key: nil, extra: w.cliEnvironment, cwd: w.project)
            #expect(r.status == 6, "\(args): \(r.stderr)")
            #expect(r.stderr.contains("config.yaml: line 2: an anchor (&)"), "\(args): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
        }
        for args in [["doctor"], ["doctor", "--fix"]] {
            let doctor = try CLI.run(args, root: w.store, key: nil, extra: w.cliEnvironment, cwd: w.project)
            #expect(doctor.status == 13, "\(doctor.stdout) \(doctor.stderr)")
            #expect(doctor.stdout.contains("config.yaml: line 2: an anchor (&)"), "\(doctor.stdout)")
        }
        // The config is left as it was: doctor does not rewrite a person's settings.
        #expect(try String(contentsOfFile: w.project + "/.talks/config.yaml", encoding: .utf8) == "max_turns: 3\nwatcher: &w {debounce_ms: 1}\n")
        try w.config("conversation_dir: /\n")
        let r = try CLI.run(["talk", "list"], root: w.store, key: nil, extra: w.cliEnvironment, cwd: w.project)
        #expect(r.status == 6 && r.stderr.contains("conversation_dir resolves to /, which is refused"), "\(r.stderr)")
        // Fixed, everything works again.
        try w.config("max_turns: 3\n")
        #expect(try CLI.run(["talk", "list"], root: w.store, key: nil, extra: w.cliEnvironment, cwd: w.project).status == 0)
    }

    @Test func theHookGuardStaysFastWithAHostileConfig() throws {
        let w = try HostileConfigWorld()
        var bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        for (i, name) in "bcdefghijklmnopq".enumerated() {
            bomb += "\(name): &\(name) [" + Array(repeating: "*\(Array("abcdefghijklmnopq")[i])", count: 9).joined(separator: ",") + "]\n"
        }
        try w.config(bomb)
        let input = try JSONSerialization.data(withJSONObject: ["session_id": "s", "cwd": w.project, "hook_event_name": "PreToolUse",
                                                                "tool_name": "Write", "tool_input": ["file_path": "/tmp/x.txt", "content": "x"]])
        let started = Date()
        let r = try CLI.run(["hook", "pre-tool-use"], root: w.store, key: nil, stdin: input, extra: w.cliEnvironment, cwd: w.project)
        #expect(r.status == 0 && !r.stdout.contains("deny"), "\(r.stdout) \(r.stderr)")
        #expect(Date().timeIntervalSince(started) < 2)
        let talk = try JSONSerialization.data(withJSONObject: ["session_id": "s", "cwd": w.project, "hook_event_name": "PreToolUse",
                                                               "tool_name": "Write", "tool_input": ["file_path": w.project + "/.talks/conversations/a.md", "content": "x"]])
        let denied = try CLI.run(["hook", "pre-tool-use"], root: w.store, key: nil, stdin: talk, extra: w.cliEnvironment, cwd: w.project)
        #expect(denied.stdout.contains("deny") || denied.status == 2, "\(denied.stdout) \(denied.stderr)")
    }
}
