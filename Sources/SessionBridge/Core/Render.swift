/// Human-readable text for messages, peers and statuses; shared by the CLI and the hooks.
package enum Render {
    /// A delivered message with the exact command that answers it.
    package static func delivery(_ m: Message, cli: String) -> String {
        var lines = [
            "── message \(m.id) ──",
            "from: \(m.fromName) (\(m.from))",
            "type: \(m.type.rawValue)" + (m.inReplyTo.map { " (reply to \($0))" } ?? ""),
            "sent: \(m.createdAt)",
            "",
            m.content,
            "",
        ]
        switch m.type {
        case .query:
            lines += [
                "── answer it from your own context with ──",
                "\(cli) reply \(m.id) - <<'SESSION_BRIDGE_REPLY'",
                "<your answer>",
                "SESSION_BRIDGE_REPLY",
            ]
        case .response:
            lines.append("── this answers your message \(m.inReplyTo ?? "?") ──")
        case .sessionEnded:
            lines.append("── \(m.fromName) has ended its session; it will not answer anymore ──")
        case .ping, .pong:
            break
        }
        return lines.joined(separator: "\n")
    }

    package static func peers(_ rows: [SessionService.PeerInfo], helper: HelperName = .current) -> String {
        if rows.isEmpty { return "no sessions yet: run `\(helper.command("start"))` in each agent session or terminal" }
        var table = [["", "NAME", "ID", "STATE", "LAST SEEN", "AGENT", "PROJECT"]]
        for r in rows {
            table.append([r.you ? "*" : "", r.name, r.id, r.state.rawValue + (r.listening ? " (listening)" : ""),
                          age(r.lastSeen), r.agent, r.projectPath])
        }
        return columns(table) + "\n(* = you)"
    }

    package static func status(_ s: StatusService.SessionStatus, helper: HelperName = .current) -> String {
        var lines: [String] = []
        if let me = s.session {
            lines.append("session: \(me.name) (\(me.id)), \(me.agent), project \(me.projectPath)")
            lines.append("inbox:   \(s.pending) pending, \(s.claimed) claimed awaiting your reply, \(s.answered) done")
        } else if let ended = s.endedSession {
            lines.append("session: \(Identifiers.printable(ended.name)) (\(Identifiers.printable(ended.id))) has ended "
                         + "(start a new one with `\(helper.command("start --name NAME"))`)")
        } else {
            lines.append("session: none bound here (run `\(helper.command("start"))`)")
        }
        lines.append("store:   \(s.storeRoot)")
        let live = s.peers.filter { $0.state != .ended }
        lines.append("peers:   " + (live.isEmpty ? "none" : live.map { "\($0.name) (\($0.id), \($0.state.rawValue))" }.joined(separator: ", ")))
        return lines.joined(separator: "\n")
    }

    package static func messageStatus(_ s: StatusService.MessageStatus) -> String {
        let m = s.message
        var lines = [
            "message \(m.id) (\(m.type.rawValue)), \(s.direction == "sent" ? "to \(m.toName) (\(m.to))" : "from \(m.fromName) (\(m.from))")",
            "sent:     \(m.createdAt)",
        ]
        if let at = s.claimedAt {
            lines.append("seen:     \(at) by \(s.claimedBy ?? "?") via \(s.claimedVia ?? "?")" + (s.leaseUntil.map { ", lease until \($0)" } ?? ""))
        } else {
            lines.append("seen:     not yet")
        }
        if let at = s.answeredAt { lines.append("answered: \(at), reply \(s.replyId ?? "?")") }
        if s.redeliveries > 0 { lines.append("redelivered: \(s.redeliveries) time(s) after unanswered leases") }
        lines.append("state:    \(s.state.rawValue)" + (s.state == .claimed ? " (seen, not answered yet)" : ""))
        return lines.joined(separator: "\n")
    }

    package static func inbox(_ entries: [MessageService.InboxEntry]) -> String {
        if entries.isEmpty { return "no messages" }
        var table = [["ID", "STATE", "FROM", "TYPE", "SENT", "CONTENT"]]
        for e in entries {
            let first = e.message.content.split(separator: "\n").first.map(String.init) ?? ""
            table.append([e.message.id, e.box, e.message.fromName, e.message.type.rawValue, e.message.createdAt,
                          first.count > 60 ? String(first.prefix(60)) + "…" : first])
        }
        return columns(table)
    }

    /// "12s ago", "5m ago", …
    package static func age(_ iso: String, now: Int64 = Clock.nowNanoseconds()) -> String {
        guard let t = Clock.parseISO8601(iso) else { return iso }
        let s = max(0, (now - t) / 1_000_000_000)
        if s < 60 { return "\(s)s ago" }
        if s < 3600 { return "\(s / 60)m ago" }
        if s < 86400 { return "\(s / 3600)h ago" }
        return "\(s / 86400)d ago"
    }

    static func columns(_ rows: [[String]]) -> String {
        guard let width = rows.first?.count else { return "" }
        var widths = [Int](repeating: 0, count: width)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ").trimmedEnd()
        }.joined(separator: "\n")
    }
}

extension String {
    func trimmedEnd() -> String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
