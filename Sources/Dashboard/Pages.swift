import SessionBridge

/// Builds the pages' HTML. Every value from the store goes through `HTML.escape` (or `Markdown.render` for talk
/// turns); ids in links are well-formed ids by then, and are escaped too.
struct PageRenderer {
    let dashboard: Dashboard

    /// A suggested command, spelled as this installation runs it.
    func command(_ arguments: String) -> String { "<code>" + HTML.escape(dashboard.helper.command(arguments)) + "</code>" }

    enum Section: String { case sessions, messages, talks }

    static func document(title: String, section: Section, main: String) -> String {
        func tab(_ s: Section, _ label: String) -> String {
            "<a href=\"/\(s.rawValue)\"" + (s == section ? " class=\"on\" aria-current=\"page\"" : "") + ">\(label)</a>"
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTML.escape(title)) · session-bridge</title>
            <link rel="stylesheet" href="/static/app.css"><script src="/static/app.js" defer></script>
            </head><body>
            <header class="top"><a class="brand" href="/sessions">session-bridge</a>
            <nav>\(tab(.sessions, "Sessions"))\(tab(.messages, "Messages"))\(tab(.talks, "Talks"))</nav>
            <span id="live" class="live" title="changes appear as they happen">connecting…</span></header>
            <main id="main">\(main)</main>
            </body></html>

            """
    }

    func body(_ page: Dashboard.Page) -> (Int, String, Section, String) {
        switch page {
        case .sessions: return (200, "Sessions", .sessions, sessionsPage())
        case .session(let id): return sessionPage(id)
        case .messages(let session, let limit): return (200, "Messages", .messages, messagesPage(session: session, limit: limit))
        case .message(let id): return messagePage(id)
        case .talks: return (200, "Talks", .talks, talksPage())
        case .talk(let id): return talkPage(id)
        }
    }

    // MARK: Pieces

    static func time(_ iso: String?) -> String {
        guard let iso, !iso.isEmpty else { return "<span class=\"dim\">—</span>" }
        let e = HTML.escape(iso)
        return "<time datetime=\"\(e)\">\(e)</time>"
    }

    static func badge(_ text: String, _ kind: String) -> String {
        "<span class=\"badge \(kind)\">\(HTML.escape(text))</span>"
    }

    static func sessionLink(id: String, name: String) -> String {
        "<a href=\"/sessions/\(HTML.escape(id))\">\(HTML.escape(name))</a>"
    }

    static func cell(_ label: String, _ html: String, _ cls: String = "") -> String {
        "<td data-label=\"\(label)\"" + (cls.isEmpty ? "" : " class=\"\(cls)\"") + ">\(html)</td>"
    }

    // MARK: Sessions

    func sessionsPage() -> String {
        let rows = dashboard.bridge().status.sessionRows()
        let live = rows.filter { $0.state == .active || $0.state == .idle }.count
        let pending = rows.reduce(0) { $0 + $1.pending }
        let inFlight = rows.reduce(0) { $0 + $1.inFlight }
        var out = "<h1>Sessions</h1>"
        out += "<p class=\"summary\"><b id=\"count-sessions\">\(rows.count)</b> sessions · <b>\(live)</b> live · "
            + "<b id=\"count-pending\">\(pending)</b> pending · <b id=\"count-inflight\">\(inFlight)</b> in flight</p>"
        if rows.isEmpty {
            out += "<p class=\"empty\">No sessions yet. A session joins with " + command("start --name NAME") + " "
                + "(an agent session joins by itself on its first bridge command).</p>"
            return out
        }
        out += sessionsTable(rows)
        return out
    }

    func sessionsTable(_ rows: [StatusService.SessionRow]) -> String {
        var out = "<table class=\"grid\" id=\"sessions\"><thead><tr><th>Name</th><th>State</th><th>Listening</th>"
            + "<th class=\"num\">Pending</th><th class=\"num\">In flight</th><th>Agent</th><th>Project</th><th>Host</th>"
            + "<th>Last seen</th><th>Id</th></tr></thead><tbody>"
        for r in rows {
            let id = HTML.escape(r.id)
            out += "<tr id=\"s-\(id)\" data-session=\"\(id)\" data-state=\"\(r.state.rawValue)\" data-pending=\"\(r.pending)\" data-inflight=\"\(r.inFlight)\">"
            out += Self.cell("Name", "<b>" + Self.sessionLink(id: r.id, name: r.name) + "</b>", "name")
            out += Self.cell("State", Self.badge(r.state.rawValue, "state-\(r.state.rawValue)"))
            out += Self.cell("Listening", r.listening.map { Self.badge($0.rawValue, "listen") } ?? "<span class=\"dim\">off</span>")
            out += Self.cell("Pending", r.pending > 0 ? "<a href=\"/sessions/\(id)\"><b>\(r.pending)</b></a>" : "0", "num pending")
            out += Self.cell("In flight", r.inFlight > 0 ? "<b>\(r.inFlight)</b>" : "0", "num inflight")
            out += Self.cell("Agent", HTML.escape(r.agent))
            out += Self.cell("Project", "<span class=\"path\">\(HTML.escape(r.projectPath))</span>")
            out += Self.cell("Host", HTML.escape(r.host))
            out += Self.cell("Last seen", Self.time(r.lastSeen))
            out += Self.cell("Id", "<code>\(id)</code>")
            out += "</tr>"
        }
        return out + "</tbody></table>"
    }

    func sessionPage(_ id: String) -> (Int, String, Section, String) {
        let bridge = dashboard.bridge()
        guard let row = bridge.status.sessionRows().first(where: { $0.id == id }) else {
            return (404, "Unknown session", .sessions, "<h1>Unknown session</h1><p class=\"empty\">No session <code>\(HTML.escape(id))</code> in this store (it may have been collected by <code>gc</code>). <a href=\"/sessions\">All sessions</a></p>")
        }
        var out = "<p class=\"crumbs\"><a href=\"/sessions\">Sessions</a> /</p>"
        out += "<h1>\(HTML.escape(row.name)) " + Self.badge(row.state.rawValue, "state-\(row.state.rawValue)") + "</h1>"
        out += "<dl class=\"facts\">"
        func fact(_ k: String, _ v: String) { out += "<div><dt>\(k)</dt><dd>\(v)</dd></div>" }
        fact("Id", "<code>\(HTML.escape(row.id))</code>")
        fact("Agent", HTML.escape(row.agent))
        fact("Project", "<span class=\"path\">\(HTML.escape(row.projectPath))</span>")
        fact("Host", HTML.escape(row.host) + " · pid \(row.pid)")
        fact("Listening", row.listening.map { HTML.escape($0.rawValue) } ?? "off")
        fact("Pending", "<span id=\"session-pending\">\(row.pending)</span>")
        fact("In flight", "<span id=\"session-inflight\">\(row.inFlight)</span>")
        fact("Started", Self.time(row.startedAt))
        fact("Last seen", Self.time(row.lastSeen))
        out += "</dl>"
        out += "<h2>Messages</h2>" + messageList(bridge: bridge, session: id, limit: Dashboard.defaultLimit)
        let theirs = allTalks().talks.filter { $0.header.participants.contains(row.name) }
        out += "<h2>Talks</h2>"
        out += theirs.isEmpty ? "<p class=\"empty\">No talk with \(HTML.escape(row.name)).</p>" : talksTable(theirs, sessions: [row])
        return (200, row.name, .sessions, out)
    }

    // MARK: Messages

    func messagesPage(session: String?, limit: Int) -> String {
        let bridge = dashboard.bridge()
        var out = "<h1>Messages</h1>"
        if let session {
            let name = bridge.status.sessionRows().first { $0.id == session }?.name ?? session
            out += "<p class=\"summary\">To or from " + Self.sessionLink(id: session, name: name) + " · <a href=\"/messages\">all</a></p>"
        }
        return out + messageList(bridge: bridge, session: session, limit: limit)
    }

    /// The newest `limit` messages (to or from `session` when given), each with its receipt timeline.
    func messageList(bridge: Bridge, session: String?, limit: Int) -> String {
        let refs = session.map { bridge.status.messageRefs(involving: $0) } ?? bridge.status.messageRefs()
        var lives: [StatusService.MessageStatus] = []
        for ref in refs where lives.count < limit {
            if let life = bridge.status.messageLife(ref) { lives.append(life) }
        }
        let total = refs.count
        var out = ""
        if lives.isEmpty {
            return "<p class=\"empty\" id=\"no-messages\">No messages yet. A session asks with " + command("ask PEER TEXT") + ".</p>"
        }
        if total > lives.count {
            let more = HTML.escape("?limit=\(min(Dashboard.maxLimit, limit * 4))" + (session.map { "&session=\($0)" } ?? ""))
            out += "<p class=\"summary\">Newest \(lives.count) of \(total) · <a href=\"/messages\(more)\">show more</a></p>"
        }
        out += "<div class=\"messages\">"
        for life in lives { out += messageCard(life, full: false) }
        return out + "</div>"
    }

    static func stateLabel(_ life: StatusService.MessageStatus) -> String {
        switch life.state {
        case .pending: return life.redeliveries > 0 ? "pending again" : "pending"
        case .claimed: return life.message.type == .query ? "seen, not answered" : "seen"
        case .answered: return "answered"
        case .done: return "seen"
        case .expired: return "expired"
        case .quarantined: return "quarantined"
        case .unknown: return "unknown"
        }
    }

    func messageCard(_ life: StatusService.MessageStatus, full: Bool) -> String {
        let m = life.message
        let id = HTML.escape(m.id)
        var out = "<article class=\"msg st-\(life.state.rawValue)\" id=\"m-\(id)\" data-message=\"\(id)\" data-state=\"\(life.state.rawValue)\">"
        out += "<div class=\"msg-head\">" + Self.sessionLink(id: m.from, name: m.fromName) + " <span class=\"arrow\">→</span> "
            + Self.sessionLink(id: m.to, name: m.toName) + " " + Self.badge(m.type.rawValue, "type-\(m.type.rawValue)") + " "
            + Self.badge(Self.stateLabel(life), "st-\(life.state.rawValue)") + " " + Self.time(m.createdAt) + "</div>"
        if full {
            out += "<pre class=\"content\">\(HTML.escape(m.content))</pre>"
        } else {
            out += "<a class=\"msg-body\" href=\"/messages/\(id)\">\(HTML.escape(HTML.preview(m.content)))</a>"
        }
        out += timeline(life)
        return out + "</article>"
    }

    /// sent → seen (by whom, how) → answered, with redeliveries and expiry where they happened.
    func timeline(_ life: StatusService.MessageStatus) -> String {
        let m = life.message
        var out = "<ol class=\"timeline\">"
        out += "<li class=\"ev ev-sent\"><span>sent</span> \(Self.time(m.createdAt))</li>"
        for e in life.events {
            let who = HTML.escape(e.byName ?? e.by ?? "")
            switch e.event {
            case .claimed:
                let via = e.via.map { " via " + HTML.escape($0) } ?? ""
                out += "<li class=\"ev ev-claimed\"><span>seen by \(who)\(via)</span> \(Self.time(e.at))</li>"
            case .answered:
                let reply = e.replyId.flatMap { Identifiers.isValidID($0) ? $0 : nil }
                let link = reply.map { " <a href=\"/messages/\(HTML.escape($0))\">reply</a>" } ?? ""
                out += "<li class=\"ev ev-answered\"><span>answered by \(who)</span>\(link) \(Self.time(e.at))</li>"
            case .redelivered:
                out += "<li class=\"ev ev-redelivered\"><span>redelivered: the lease ran out unanswered</span> \(Self.time(e.at))</li>"
            case .expired:
                out += "<li class=\"ev ev-expired\"><span>expired: claimed too often without an answer</span> \(Self.time(e.at))</li>"
            case .quarantined:
                out += "<li class=\"ev ev-quarantined\"><span>quarantined: malformed</span> \(Self.time(e.at))</li>"
            }
        }
        if life.state == .claimed, let until = life.leaseUntil {
            out += "<li class=\"ev ev-lease\"><span>answer due before the lease ends</span> \(Self.time(until))</li>"
        }
        if m.type == .response, let q = m.inReplyTo, Identifiers.isValidID(q) {
            out += "<li class=\"ev ev-question\"><a href=\"/messages/\(HTML.escape(q))\">the question</a></li>"
        }
        return out + "</ol>"
    }

    func messagePage(_ id: String) -> (Int, String, Section, String) {
        guard let life = dashboard.bridge().status.messageLife(id: id) else {
            return (404, "Unknown message", .messages, "<h1>Unknown message</h1><p class=\"empty\">No message <code>\(HTML.escape(id))</code> in this store. <a href=\"/messages\">All messages</a></p>")
        }
        var out = "<p class=\"crumbs\"><a href=\"/messages\">Messages</a> /</p>"
        out += "<h1>\(HTML.escape(life.message.type == .query ? "Question" : life.message.type.rawValue.capitalized)) "
            + "<code class=\"small\">\(HTML.escape(id))</code></h1>"
        out += messageCard(life, full: true)
        return (200, "Message", .messages, out)
    }

    // MARK: Talks

    func allTalks() -> (talks: [Talks.Summary], damaged: [String]) {
        var talks: [Talks.Summary] = []
        var damaged: [String] = []
        for t in dashboard.talks() {
            let listed = t.list(status: nil)
            talks += listed.talks
            damaged += listed.damaged
        }
        return (talks.sorted { $0.header.updatedAt > $1.header.updatedAt }, damaged)
    }

    func talksPage() -> String {
        let (talks, damaged) = allTalks()
        var out = "<h1>Talks</h1>"
        if dashboard.talkLocations.isEmpty {
            return out + "<p class=\"empty\">No talks folder: start the dashboard in a project with a <code>.talks/</code> folder, or pass <code>--dir TALKS_DIR</code>.</p>"
        }
        out += "<p class=\"summary\">" + dashboard.talkLocations.map { "<span class=\"path\">\(HTML.escape($0.root))</span>" }.joined(separator: ", ") + "</p>"
        if talks.isEmpty && damaged.isEmpty { return out + "<p class=\"empty\">No talks yet. Start one with " + command("talk new TOPIC --with PEER") + ".</p>" }
        out += talksTable(talks, sessions: dashboard.bridge().status.sessionRows())
        if !damaged.isEmpty {
            out += "<p class=\"warn\">Damaged (run " + command("doctor --fix") + "): "
                + damaged.map { "<code>\(HTML.escape($0))</code>" }.joined(separator: ", ") + "</p>"
        }
        return out
    }

    static func participantLinks(_ names: [String], sessions: [StatusService.SessionRow]) -> String {
        names.map { name in
            if let s = sessions.first(where: { $0.name == name && $0.state != .ended }) ?? sessions.first(where: { $0.name == name }) {
                return sessionLink(id: s.id, name: name)
            }
            return HTML.escape(name)
        }.joined(separator: ", ")
    }

    func talksTable(_ talks: [Talks.Summary], sessions: [StatusService.SessionRow]) -> String {
        var out = "<table class=\"grid\" id=\"talks\"><thead><tr><th>Topic</th><th>Status</th><th class=\"num\">Turns</th>"
            + "<th>Next</th><th>Participants</th><th>Updated</th></tr></thead><tbody>"
        for t in talks {
            let h = t.header
            let id = HTML.escape(h.id)
            out += "<tr id=\"t-\(id)\" data-talk=\"\(id)\" data-status=\"\(HTML.escape(h.status.rawValue))\">"
            out += Self.cell("Topic", "<a href=\"/talks/\(id)\"><b>\(HTML.escape(h.topic))</b></a>", "name")
            out += Self.cell("Status", Self.badge(h.status.rawValue, "talk-\(h.status.rawValue.lowercased())"))
            out += Self.cell("Turns", "<span class=\"turns\">\(h.turnCount) / \(h.maxTurns)</span>", "num")
            out += Self.cell("Next", h.status == .active ? Self.participantLinks([h.nextSpeaker], sessions: sessions) : "<span class=\"dim\">—</span>")
            out += Self.cell("Participants", Self.participantLinks(h.participants, sessions: sessions))
            out += Self.cell("Updated", Self.time(h.updatedAt))
            out += "</tr>"
        }
        return out + "</tbody></table>"
    }

    func talkPage(_ id: String) -> (Int, String, Section, String) {
        for t in dashboard.talks() where t.ids().contains(id) {
            let talk: Conversation
            do {
                talk = try t.read(id)
            } catch {
                return (200, id, .talks, "<p class=\"crumbs\"><a href=\"/talks\">Talks</a> /</p><h1>\(HTML.escape(id))</h1><p class=\"warn\">\(HTML.escape(error.message))</p>")
            }
            return (200, talk.header.topic, .talks, talkBody(talk))
        }
        return (404, "Unknown talk", .talks, "<h1>Unknown talk</h1><p class=\"empty\">No talk <code>\(HTML.escape(id))</code>. <a href=\"/talks\">All talks</a></p>")
    }

    func talkBody(_ talk: Conversation) -> String {
        let h = talk.header
        let sessions = dashboard.bridge().status.sessionRows()
        var out = "<p class=\"crumbs\"><a href=\"/talks\">Talks</a> /</p>"
        out += "<h1>\(HTML.escape(h.topic)) " + Self.badge(h.status.rawValue, "talk-\(h.status.rawValue.lowercased())") + "</h1>"
        out += "<dl class=\"facts\">"
        func fact(_ k: String, _ v: String) { out += "<div><dt>\(k)</dt><dd>\(v)</dd></div>" }
        fact("Turns", "<span id=\"talk-turns\">\(h.turnCount) / \(h.maxTurns)</span>")
        fact("Next speaker", h.status == .active ? Self.participantLinks([h.nextSpeaker], sessions: sessions) : "—")
        fact("Participants", Self.participantLinks(h.participants, sessions: sessions))
        fact("Started by", Self.participantLinks([h.initiator], sessions: sessions))
        fact("Created", Self.time(h.createdAt))
        fact("Updated", Self.time(h.updatedAt))
        fact("Id", "<code>\(HTML.escape(h.id))</code>")
        out += "</dl>"
        if let resolution = h.resolution {
            out += "<section class=\"resolution\" id=\"resolution\"><h2>Resolution</h2><div class=\"md\">\(Markdown.render(resolution))</div></section>"
        }
        if let reason = h.blockedReason {
            out += "<section class=\"resolution blocked\" id=\"blocked\"><h2>Blocked</h2><div class=\"md\">\(Markdown.render(reason))</div></section>"
        }
        if talk.turns.isEmpty { out += "<p class=\"empty\">No turn yet: \(HTML.escape(h.nextSpeaker)) speaks first.</p>" }
        for turn in talk.turns {
            out += "<section class=\"turn\" id=\"turn-\(turn.number)\" data-speaker=\"\(HTML.escape(turn.speaker))\">"
            out += "<h3>Turn \(turn.number) — " + Self.participantLinks([turn.speaker], sessions: sessions) + " " + Self.time(turn.at)
            if !turn.isIntact { out += " " + Self.badge("checksum mismatch: edited by hand", "warn") }
            out += "</h3><div class=\"md\">\(Markdown.render(turn.content))</div></section>"
        }
        return out
    }
}
