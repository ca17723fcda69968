import Foundation
import Testing
@testable import Dashboard
@testable import SessionBridge

/// The dashboard's pages: what they show, that hostile store content stays text, that reading never writes, and
/// that its change feed wakes for every kind of change the pages show.
@Suite struct DashboardTests {
    struct World {
        let root: String
        let lib: Bridge
        let app: Bridge
        let talksDir: String
        let dashboard: Dashboard
    }

    func world() throws -> World {
        let root = makeTempDir("dash")
        let lib = try makeBridge(root: root, key: "lib-key")
        let app = try makeBridge(root: root, key: "app-key")
        _ = try lib.sessions.start(name: "lib", projectPath: "/p/lib")
        _ = try app.sessions.start(name: "app", projectPath: "/p/<script>alert(1)</script>")
        let talksDir = root + "/project/.talks"
        try FileManager.default.createDirectory(atPath: talksDir, withIntermediateDirectories: true)
        let env = Environment(["SESSION_BRIDGE_HOME": root, "HOME": root])
        let location = try TalkLocation.find(dir: talksDir, environment: env)
        return World(root: root, lib: lib, app: app, talksDir: talksDir,
                     dashboard: Dashboard(store: lib.store, environment: env, talkLocations: [location],
                                          talkEngine: { FileTalkStore(location: $0, environment: env) }))
    }

    func talks(_ w: World) -> Talks {
        let location = w.dashboard.talkLocations[0]
        return Talks(location: location, environment: w.dashboard.environment, sessionName: nil, store: w.dashboard.talkEngine(location))
    }

    // MARK: Escaping, as a class: every character an attacker could use, in any order

    static let hostileAlphabet: [String] = ["<", ">", "\"", "'", "&", "`", "*", "**", "[", "]", "(", ")", "](", "#", "# ", "- ",
        "1. ", "> ", "```", "\n", "\n\n", " ", "a", "é", "javascript:", "https://x.y/", "http://", "data:", "<script>",
        "onerror=", "\u{202E}", "\u{2066}", "\u{0}", "\u{1B}[2J", "\u{7F}", "\u{FEFF}", "&amp;", "&#x3C;", "\\", "_", "~~~"]

    static func randomText(_ rng: inout some RandomNumberGenerator, pieces: Int) -> String {
        (0..<pieces).map { _ in hostileAlphabet.randomElement(using: &rng)! }.joined()
    }

    /// Every tag in `html` with its attributes.
    static func tags(_ html: String) -> [(name: String, attributes: String)] {
        let regex = try! NSRegularExpression(pattern: "<(/?)([a-zA-Z0-9]+)([^>]*)>")
        let ns = html as NSString
        return regex.matches(in: html, range: NSRange(location: 0, length: ns.length)).map {
            (ns.substring(with: $0.range(at: 2)), ns.substring(with: $0.range(at: 3)))
        }
    }

    @Test func escapedTextHoldsNoMarkupAndHidesNothing() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let text = Self.randomText(&rng, pieces: Int.random(in: 0...40, using: &rng))
            let out = HTML.escape(text)
            let withoutMarks = out.replacingOccurrences(of: "<span class=\"ctl\">U\\+[0-9A-F]{4,}</span>", with: "", options: .regularExpression)
            #expect(!withoutMarks.contains("<") && !withoutMarks.contains(">") && !withoutMarks.contains("\"") && !withoutMarks.contains("'"), "\(text.debugDescription) → \(out)")
            #expect(!out.unicodeScalars.contains { $0 != "\n" && $0 != "\t" && HTML.isHidden($0) }, "a hidden character passed: \(text.debugDescription)")
        }
        #expect(HTML.escape("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&#39;")
        #expect(HTML.escape("x\u{202E}y") == "x<span class=\"ctl\">U+202E</span>y")
    }

    @Test func markdownEmitsOnlyItsOwnTagsAndSafeLinks() {
        let allowed: Set<String> = ["p", "br", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "code", "strong", "em", "a", "span"]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            let text = Self.randomText(&rng, pieces: Int.random(in: 0...60, using: &rng))
            let html = Markdown.render(text)
            for tag in Self.tags(html) {
                #expect(allowed.contains(tag.name), "tag <\(tag.name)> from \(text.debugDescription)")
                let attrs = tag.attributes.trimmingCharacters(in: .whitespaces)
                if tag.name == "a" && !attrs.isEmpty {
                    let pattern = "^href=\"https?://[^\"<> ]*\" rel=\"noopener noreferrer nofollow\" target=\"_blank\"$"
                    #expect(attrs.range(of: pattern, options: .regularExpression) != nil, "link \(attrs) from \(text.debugDescription)")
                } else if tag.name == "span" && !attrs.isEmpty {
                    #expect(attrs == "class=\"ctl\"", "span \(attrs)")
                } else {
                    #expect(attrs.isEmpty, "<\(tag.name)\(tag.attributes)> from \(text.debugDescription)")
                }
            }
        }
        let html = Markdown.render("# Title\n\n- `a<b>` **bold** *em*\n- [x](https://e.com/?a=1&b=2)\n\n[bad](javascript:alert(1))\n\n```\n<i>\n```")
        #expect(html.contains("<h3>Title</h3>"))
        #expect(html.contains("<li><code>a&lt;b&gt;</code> <strong>bold</strong> <em>em</em></li>"))
        #expect(html.contains("href=\"https://e.com/?a=1&amp;b=2\""))
        #expect(!html.contains("javascript:alert(1)\"") && html.contains("[bad](javascript:alert(1))"))
        #expect(html.contains("<pre><code>&lt;i&gt;</code></pre>"))
        // A link whose URL holds a hidden character stays text, with the character marked, never an href.
        for hidden in ["\u{202E}", "\u{2066}", "\u{FEFF}", "\u{200F}", "\u{85}"] {
            let rendered = Markdown.render("[a](https://x.y/_\(hidden)*(])")
            #expect(!rendered.contains("<a "), "\(hidden.debugDescription) → \(rendered)")
            #expect(rendered.contains("<span class=\"ctl\">"), "\(hidden.debugDescription) → \(rendered)")
        }
    }

    /// Delimiters without partners, by the hundred thousand: linear time, not quadratic (seconds, not hours).
    @Test(arguments: ["[a](", "*", "**x", "`", "[", "](", "*a"])
    func markdownIsLinearOnUnmatchedDelimiters(_ unit: String) {
        let text = String(repeating: unit, count: 100_000)
        let start = Clock.monotonicNanoseconds()
        let html = Markdown.render(text)
        let seconds = Double(Clock.monotonicNanoseconds() - start) / 1e9
        #expect(!html.isEmpty)
        #expect(seconds < 5, "\(unit): \(seconds) s")
    }

    // MARK: The token

    @Test func theTokenMatchesOnlyItself() {
        let t = AccessToken.random()
        #expect(t.value.count == 64 && t.value.allSatisfy { $0.isHexDigit })
        #expect(AccessToken.random() != t)
        #expect(t.matches(t.value))
        for bad in ["", String(t.value.dropLast()), t.value + "0", String(t.value.reversed()), t.value.uppercased() == t.value ? "x" : t.value.uppercased()] {
            #expect(!t.matches(bad), "\(bad)")
        }
        #expect(!t.matches(nil as String?))
        #expect(AccessToken.cookie("sb_dashboard", in: "a=1; sb_dashboard=\(t.value); b=2") == Substring(t.value))
        #expect(AccessToken.cookie("sb_dashboard", in: "xsb_dashboard=1") == nil)
        #expect(AccessToken.cookie("sb_dashboard", in: nil) == nil)
    }

    // MARK: Routing

    @Test func onlyWellFormedPathsArePages() {
        #expect(Dashboard.page(path: "/", query: [:]) == .sessions)
        #expect(Dashboard.page(path: "/messages", query: ["limit": "999999"]) == .messages(session: nil, limit: Dashboard.maxLimit))
        #expect(Dashboard.page(path: "/messages", query: ["session": "../x"]) == .messages(session: nil, limit: Dashboard.defaultLimit))
        #expect(Dashboard.page(path: "/talks/abc-123", query: [:]) == .talk("abc-123"))
        for bad in ["/sessions/..", "/sessions/a/b", "/messages/a%2Fb", "/talks/.x", "/etc/passwd", "/sessions/a b", "/x"] {
            #expect(Dashboard.page(path: bad, query: [:]) == nil, "\(bad)")
        }
    }

    // MARK: Pages

    @Test func pagesShowSessionsMessagesReceiptsAndTalks() throws {
        let w = try world()
        let q = try w.app.messages.ask("lib", content: "what <is> the port?")
        var sessions = w.dashboard.render(.sessions).html
        let libID = w.lib.sessions.currentSession()!.id
        #expect(sessions.contains("id=\"s-\(libID)\"") && sessions.contains(">lib</a>") && sessions.contains(">app</a>"))
        #expect(sessions.contains("/p/&lt;script&gt;alert(1)&lt;/script&gt;") && !sessions.contains("<script>alert"))
        #expect(sessions.contains("<td data-label=\"Pending\" class=\"num pending\"><a href=\"/sessions/\(libID)\"><b>1</b></a></td>"))
        _ = try w.lib.sessions.setListenMode(.background)
        sessions = w.dashboard.render(.sessions).html
        #expect(sessions.contains("badge listen\">background"))

        var messages = w.dashboard.render(.messages(session: nil, limit: 100)).html
        #expect(messages.contains("id=\"m-\(q.id)\"") && messages.contains("data-state=\"pending\"") && messages.contains("what &lt;is&gt; the port?"))
        _ = try w.lib.messages.listen(timeoutSeconds: 1)
        messages = w.dashboard.render(.messages(session: nil, limit: 100)).html
        #expect(messages.contains("data-state=\"claimed\"") && messages.contains("seen by lib via listen"))
        sessions = w.dashboard.render(.sessions).html
        #expect(sessions.contains("<td data-label=\"In flight\" class=\"num inflight\"><b>1</b></td>"))
        let r = try w.lib.messages.reply(to: q.id, content: "8080")
        messages = w.dashboard.render(.messages(session: nil, limit: 100)).html
        #expect(messages.contains("data-state=\"answered\"") && messages.contains("answered by lib") && messages.contains("href=\"/messages/\(r.id)\""))
        let detail = w.dashboard.render(.message(q.id))
        #expect(detail.status == 200 && detail.html.contains("<pre class=\"content\">what &lt;is&gt; the port?</pre>"))
        let reply = w.dashboard.render(.message(r.id)).html
        #expect(reply.contains("href=\"/messages/\(q.id)\">the question"))
        let limited = w.dashboard.render(.messages(session: nil, limit: 1)).html
        #expect(limited.contains("Newest 1 of 2"))
        let theirs = w.dashboard.render(.messages(session: w.app.sessions.currentSession()!.id, limit: 100)).html
        #expect(theirs.contains("m-\(q.id)") && theirs.contains("m-\(r.id)"), "to or from app: the question it sent and the reply it got")
        #expect(w.dashboard.render(.message("0000-nope")).status == 404)
        #expect(w.dashboard.render(.session("nope-nope")).status == 404)

        let t = talks(w)
        let talk = try t.create(topic: "API <contract>", with: ["app"], maxTurns: 6, first: nil, as: "lib")
        _ = try t.say(talk.header.id, content: "# Plan\n\n<img src=x onerror=alert(1)>\n\n- **one**", as: "lib", next: nil)
        let list = w.dashboard.render(.talks).html
        #expect(list.contains("id=\"t-\(talk.header.id)\"") && list.contains("API &lt;contract&gt;") && list.contains("1 / 6"))
        let page = w.dashboard.render(.talk(talk.header.id)).html
        #expect(page.contains("<h3>Plan</h3>") && page.contains("&lt;img src=x onerror=alert(1)&gt;") && page.contains("<li><strong>one</strong></li>"))
        #expect(page.contains("Next speaker</dt><dd><a href=\"/sessions/\(w.app.sessions.currentSession()!.id)\">app</a>"))
        _ = try t.resolve(talk.header.id, summary: "done: **yes**", as: "lib")
        #expect(w.dashboard.render(.talk(talk.header.id)).html.contains("id=\"resolution\""))
        let full = w.dashboard.render(.sessions).html
        #expect(full.hasPrefix("<!doctype html>") && full.contains("<main id=\"main\">"))
        #expect(!w.dashboard.render(.sessions, fragment: true).html.contains("<main"))
    }

    /// Reading every page changes nothing in the store: no heartbeat, no settled lease, no quarantined stray file.
    @Test func renderingWritesNothing() throws {
        let root = makeTempDir("dash-ro")
        let lib = try makeBridge(root: root, key: "lib-key", extra: ["SESSION_BRIDGE_LEASE_SECONDS": "1"])
        let app = try makeBridge(root: root, key: "app-key")
        _ = try lib.sessions.start(name: "lib")
        _ = try app.sessions.start(name: "app")
        let q = try app.messages.ask("lib", content: "q")
        _ = try app.messages.ask("lib", content: "still pending")
        _ = try lib.messages.listen(timeoutSeconds: 1)
        let libID = lib.sessions.currentSession()!.id
        // A stray file in the pending box and a claim whose lease has run out: `inbox` or `status` would act on both.
        try "junk".write(toFile: root + "/sessions/\(libID)/inbox/new/stray.txt", atomically: false, encoding: .utf8)
        Thread.sleep(forTimeInterval: 1.2)
        func snapshot() -> [String: String] {
            var out: [String: String] = [:]
            for f in allFiles(root) {
                let a = try? FileManager.default.attributesOfItem(atPath: f)
                out[f] = "\((a?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0) \((a?[.size] as? Int) ?? -1)"
            }
            return out
        }
        let before = snapshot()
        let env = Environment(["SESSION_BRIDGE_HOME": root, "HOME": root, "SESSION_BRIDGE_SESSION": "lib-key"])
        let dashboard = Dashboard(store: lib.store, environment: env, talkLocations: [], talkEngine: { FileTalkStore(location: $0, environment: env) })
        for page: Dashboard.Page in [.sessions, .session(libID), .messages(session: nil, limit: 100), .messages(session: libID, limit: 5),
                                     .message(q.id), .talks] {
            _ = dashboard.render(page)
        }
        #expect(snapshot() == before)
    }

    // MARK: The change feed

    /// The file engine's feed is event-driven (inotify), and wakes for each change the pages show.
    @Test func theFeedWakesForEveryChangeThePagesShowOnTheFileStore() throws {
        let root = makeTempDir("dash-feed")
        try FeedScenario.run(root: root, extra: [:], expectedMode: "inotify")
    }

    /// The memory engine's feed: its condition variable, in process.
    @Test func theFeedWakesForEveryChangeThePagesShowOnTheMemoryStore() throws {
        let root = makeTempDir("dash-feed-mem")
        try FeedScenario.run(root: root, extra: ["SESSION_BRIDGE_STORE": "memory:dash-feed-\(UUID().uuidString)"], expectedMode: "memory")
    }
}

/// One run of every change the pages show against a change feed, on the engine `extra` selects: a new session
/// (watched from then on), a question to it, a claim and its receipt, listening on and off, the answer, the session
/// ending, a talk turn. Quiet otherwise: no wake-up while nothing changes.
enum FeedScenario {
    static func run(root: String, extra: [String: String], expectedMode: String) throws {
        let lib = try makeBridge(root: root, key: "lib-key", extra: extra)
        let app = try makeBridge(root: root, key: "app-key", extra: extra)
        _ = try lib.sessions.start(name: "lib", projectPath: "/p/lib")
        _ = try app.sessions.start(name: "app", projectPath: "/p/app")
        let env = Environment(["SESSION_BRIDGE_HOME": root, "HOME": root].merging(extra) { _, new in new })
        // The talks folder is made after the feed starts: the feed watches the nearest existing parent of its
        // conversations until they exist.
        let talksDir = root + "/project/.talks"
        try FileManager.default.createDirectory(atPath: root + "/project", withIntermediateDirectories: true)
        let feed = ChangeFeed(store: lib.store, talkFolders: [talksDir + "/conversations"], forcePolling: false)
        defer { feed.stop() }
        #expect(feed.mode == expectedMode)
        func drain() { while feed.wait(timeoutMilliseconds: 150) {} }
        func expectWake(_ what: Comment, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(feed.wait(timeoutMilliseconds: 3000), what, sourceLocation: sourceLocation)
            drain()
        }
        drain()
        #expect(!feed.wait(timeoutMilliseconds: 300), "quiet store, no wake-up")

        let late = try makeBridge(root: root, key: "late-key", extra: extra)
        _ = try late.sessions.start(name: "late")
        expectWake("a new session")
        let q = try app.messages.ask("late", content: "hello late")
        expectWake("a question to a session created after the feed started")
        _ = try late.messages.listen(timeoutSeconds: 1)
        expectWake("a claim and its receipt")
        _ = try late.sessions.setListenMode(.foreground)
        expectWake("listening on")
        _ = try late.sessions.setListenMode(nil)
        expectWake("listening off (on the file store: a file removed)")
        _ = try late.messages.reply(to: q.id, content: "hi")
        expectWake("the answer")
        _ = try late.sessions.stop()
        expectWake("a session ending")
        try FileManager.default.createDirectory(atPath: talksDir, withIntermediateDirectories: true)
        expectWake("the talks folder made")
        let location = try TalkLocation.find(dir: talksDir, environment: env)
        // The memory engine keeps its talks in process, where no feed of another process could see them: the
        // scenario's talk is the talks folder's (file) one there, which the feed watches.
        let talkStore: any TalkStore = extra["SESSION_BRIDGE_STORE"]?.hasPrefix("memory:") == true
            ? FileTalkStore(location: location, environment: env) : try StoreFactory.openTalks(location: location, environment: env)
        let talks = Talks(location: location, environment: env, sessionName: nil, store: talkStore)
        let talk = try talks.create(topic: "feed", with: ["app"], maxTurns: 10, first: nil, as: "lib")
        expectWake("a talk begun")
        _ = try talks.say(talk.header.id, content: "a turn", as: "lib", next: nil)
        expectWake("a talk turn")
        #expect(!feed.wait(timeoutMilliseconds: 300), "quiet again")
    }
}
