import ArgumentParser
import SessionBridge

struct TalkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "talk",
        abstract: "Multi-turn conversations: append-only markdown files with enforced turn-taking.",
        discussion: "Talks live in the nearest .talks/ folder (or --dir / $SESSION_BRIDGE_TALKS). The speaker is --as NAME or this session's bridge name.",
        subcommands: [TalkInit.self, TalkNew.self, TalkSay.self, TalkShow.self, TalkList.self, TalkWait.self, TalkResolve.self,
                      TalkBlock.self, TalkNormalize.self]
    )
}

/// Options every talk command shares.
struct TalkOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The talks folder (default: the nearest .talks/, or $SESSION_BRIDGE_TALKS).", valueName: "DIR"))
    var dir: String?

    @Option(name: .long, help: ArgumentHelp("Act as this bridge session (id or key).", valueName: "ID"))
    var session: String?

    func talks() throws(BridgeError) -> Talks { try Self.talks(dir: dir, session: session) }

    static func talks(dir: String?, session: String?) throws(BridgeError) -> Talks {
        try Talks.open(dir: dir, environment: .current(), sessionOverride: session)
    }

    /// A talk command as this process names the helper, for the talks folder of `talks` and speaker `asName`.
    static func command(_ verb: String, _ id: String, talks: Talks, asName: String?) -> String {
        HelperName.current.command("talk \(verb) \(id) --dir \(HelperName.quoteIfNeeded(talks.location.root))" + (asName.map { " --as \($0)" } ?? ""))
    }

    /// Runs `resolve` or `block`: the change, then the line naming the talk's new status and its `detail`.
    func close(showing detail: KeyPath<TalkHeader, String?>, _ change: (Talks) throws(BridgeError) -> TalkHeader) throws {
        try reportingErrors { () throws(BridgeError) in
            let h = try change(try talks())
            Output.line("talk \(h.id) \(h.status.rawValue): \(h[keyPath: detail] ?? "")")
        }
    }
}

struct TalkInit: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create the talks folder and config.yaml, and add .talks/ to .gitignore.")
    @OptionGroup var options: TalkOptions

    func run() throws {
        try reportingErrors { () throws(BridgeError) in
            let talks = try options.talks()
            let done = try talks.location.initialize()
            Output.line(done.isEmpty ? "\(talks.location.root) is ready" : done.joined(separator: "\n"))
        }
    }
}

struct TalkNew: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "new", abstract: "Start a talk; prints its id alone on the last line.")
    @OptionGroup var options: TalkOptions
    @Argument(help: ArgumentHelp("What the talk is about (one line).", valueName: "TOPIC")) var topic: String
    @Option(name: .customLong("with"), help: ArgumentHelp("The other participants, comma-separated.", valueName: "A,B")) var with: String
    @Option(name: .long, help: ArgumentHelp("Turns before the talk is BLOCKED (default: config max_turns, 20).", valueName: "N")) var maxTurns: Int?
    @Option(name: .long, help: ArgumentHelp("Who speaks first (default: you).", valueName: "NAME")) var first: String?
    @Option(name: .customLong("as"), help: ArgumentHelp("Speak as this name (default: this session's bridge name).", valueName: "NAME")) var asName: String?
    @Flag(name: .long, help: "Print the talk as JSON.") var json = false

    func run() throws {
        try reportingErrors { () throws(BridgeError) in
            let talks = try options.talks()
            let talk = try talks.create(topic: topic, with: with.split(separator: ",").map(String.init), maxTurns: maxTurns,
                                        first: first, as: asName)
            if json { Output.json(TalkJSON(talk)); return }
            let h = talk.header
            Output.line("talk '\(h.topic)' between \(h.participants.joined(separator: ", ")); \(h.nextSpeaker) speaks first; at most \(h.maxTurns) turns")
            Output.line("file: \(talks.location.file(h.id))")
            Output.line(Self.joinLine(h.id, talks: talks))
            Output.line(h.id)
        }
    }

    /// How peers join the talk. A talk of the file engine is the file in this talks folder, reached on this machine:
    /// the line names the folder and the full launcher path, which runs in any session here. A talk kept elsewhere
    /// (on the store's server, reached from any host) is reached by the peer's own helper and talks folder, so the
    /// line names neither this machine's launcher nor its folder.
    static func joinLine(_ id: String, talks: Talks) -> String {
        if talks.store.keepsTalksInFolder {
            return "peers join with: " + HelperName.forAgents.command("talk wait \(id) --dir \(HelperName.quoteIfNeeded(talks.location.root))")
        }
        let anywhere = talks.store.keepsMirror ? ", from any host" : ""
        return "peers join with their own helper\(anywhere): " + HelperName.forPeersElsewhere.command("talk wait \(id)")
    }
}

struct TalkSay: FastPathCommand {
    static let configuration = CommandConfiguration(commandName: "say", abstract: "Add your turn (only when it is your turn).")
    @OptionGroup var options: TalkOptions
    @Argument(help: ArgumentHelp("The talk id.", valueName: "CONV")) var conversation: String
    @OptionGroup var content: ContentOptions
    @Option(name: .customLong("as"), help: ArgumentHelp("Speak as this name.", valueName: "NAME")) var asName: String?
    @Option(name: .long, help: ArgumentHelp("Who speaks next (default: the following participant).", valueName: "NAME")) var next: String?
    @Flag(name: .long, help: "Print the turn as JSON.") var json = false

    var invocation: FastPath.Invocation {
        .say(dir: options.dir, session: options.session, conversation: conversation, text: content.text,
             file: content.file, asName: asName, next: next, json: json)
    }

    func run() throws { try invocation.run() }

    /// The command's work, shared with the fast path.
    static func execute(dir: String?, session: String?, conversation: String, text: String?, file: String?, asName: String?,
                        next: String?, json: Bool) throws {
        try reportingErrors { () throws(BridgeError) in
            let talks = try TalkOptions.talks(dir: dir, session: session)
            let limit = BridgeConfig(environment: .current()).maxMessageBytes
            let source = try ContentSource.from(text: text, file: file)
            let text = try MessageContent.validate(source.bytes(limit: limit), limit: limit)
            let (turn, h) = try talks.sayReturningHeader(conversation, content: text, as: asName, next: next)
            if json { Output.json(turn); return }
            let after = h.status == .active ? "next: \(h.nextSpeaker)" : "talk is now \(h.status.rawValue)\(h.blockedReason.map { " (\($0))" } ?? "")"
            Output.line("turn \(turn.number) recorded (nonce \(turn.nonce)); \(after)")
            if h.status == .active {
                Output.line("wait for your next turn with: " + TalkOptions.command("wait", h.id, talks: talks, asName: asName))
            }
        }
    }
}

struct TalkShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print a talk (header and turns).")
    @OptionGroup var options: TalkOptions
    @Argument(help: ArgumentHelp("The talk id.", valueName: "CONV")) var conversation: String
    @Option(name: .long, help: ArgumentHelp("Only turns after number N.", valueName: "N")) var since: Int?
    @Flag(name: .long, help: "Print {header fields…, turns: [{number, speaker, content, nonce, checksum, at}]}.") var json = false

    func run() throws {
        try reportingErrors { () throws(BridgeError) in
            let talks = try options.talks()
            let talk = try talks.read(talks.resolveID(conversation), since: since)
            if json { Output.json(TalkJSON(talk)); return }
            let h = talk.header
            var lines = ["talk \(h.id): \(h.topic)",
                         "participants: \(h.participants.joined(separator: ", ")) · status \(h.status.rawValue) · turn \(h.turnCount)/\(h.maxTurns)"
                            + (h.status == .active ? " · next: \(h.nextSpeaker)" : "")]
            if let r = h.resolution { lines.append("resolution: \(r)") }
            if let b = h.blockedReason { lines.append("blocked: \(b)") }
            for t in talk.turns { lines += ["", "## Turn \(t.number) — \(t.speaker) (\(t.at))", t.content] }
            Output.line(lines.joined(separator: "\n"))
        }
    }
}

struct TalkList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List talks (newest first).")
    @OptionGroup var options: TalkOptions
    @Option(name: .long, help: ArgumentHelp("ACTIVE, RESOLVED or BLOCKED.", valueName: "S")) var status: String?
    @Option(name: .long, help: ArgumentHelp("Keep talks for which this jq program is true, e.g. '.nextSpeaker == \"lib\"'.", valueName: "JQ")) var filter: String?
    @Flag(name: .long, help: "Print a JSON list of talk headers.") var json = false

    func run() throws {
        try reportingErrors { () throws(BridgeError) in
            let talks = try options.talks()
            var wanted: TalkStatus?
            if let status {
                guard let s = TalkStatus(rawValue: status.uppercased()) else { throw BridgeError.invalidInput(.notOneOf(option: "--status", allowed: TalkStatus.allCases.map(\.rawValue))) }
                wanted = s
            }
            let compiled = try filter.map { (p: String) throws(BridgeError) -> JQProgram in try JQProgram(p) }
            let (found, damaged) = talks.list(status: wanted)
            var headers = found.map(\.header)
            if let compiled {
                var kept: [TalkHeader] = []
                for h in headers where try compiled.matches(h) { kept.append(h) }
                headers = kept
            }
            for id in damaged { Output.warning("talk \(id) is damaged: run `\(HelperName.current.command("doctor"))`") }
            if json { Output.json(headers); return }
            if headers.isEmpty { Output.line("no talks"); return }
            Output.line(headers.map { h in
                "\(h.id)  \(h.status.rawValue)  \(h.turnCount)/\(h.maxTurns)  \(h.status == .active ? "next: \(h.nextSpeaker)" : "")  \(h.topic)"
            }.joined(separator: "\n"))
        }
    }
}

struct TalkWait: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait", abstract: "Block until it is your turn (exit 0) or the talk ends (exit 14); exit 10 on timeout.")
    @OptionGroup var options: TalkOptions
    @Argument(help: ArgumentHelp("The talk id.", valueName: "CONV")) var conversation: String
    @Option(name: .customLong("as"), help: ArgumentHelp("Wait as this name.", valueName: "NAME")) var asName: String?
    @Option(name: .long, help: ArgumentHelp("Seconds to wait.", valueName: "SECONDS")) var timeout: Double = 90

    func run() throws {
        try reportingOutcome { () throws(BridgeError) -> Ending in
            let talks = try options.talks()
            let found = try talks.waitForTurn(conversation, as: asName, timeoutSeconds: timeout)
            switch found.outcome {
            case .timedOut:
                return .turnNotYet(talk: found.id, speaker: found.speaker, seconds: Int(timeout))
            case .refused(let refusal):
                throw refusal.bridgeError(talk: found.id)
            case .turnArrived(let h):
                let last = try talks.read(h.id).turns.last
                Output.line("your turn in talk \(h.id) (turn \(h.turnCount + 1) of at most \(h.maxTurns))"
                    + (last.map { "; last turn \($0.number) by \($0.speaker):\n\n\($0.content)" } ?? ""))
                let say = TalkOptions.command("say", h.id, talks: talks, asName: asName)
                Output.line("\n── take your turn with ──\n\(say) - <<'SESSION_BRIDGE_TURN'\n<your turn>\nSESSION_BRIDGE_TURN")
                return .success
            case .closed(let h):
                return .talkClosed(talk: h.id, status: h.status.rawValue, reason: h.resolution ?? h.blockedReason ?? "")
            }
        }
    }
}

struct TalkResolve: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resolve", abstract: "Close the talk as RESOLVED.")
    @OptionGroup var options: TalkOptions
    @Argument(help: ArgumentHelp("The talk id.", valueName: "CONV")) var conversation: String
    @Option(name: .long, help: ArgumentHelp("What was decided.", valueName: "TEXT")) var summary: String?
    @Option(name: .customLong("as"), help: ArgumentHelp("Act as this name.", valueName: "NAME")) var asName: String?

    func run() throws {
        try options.close(showing: \.resolution) { (talks) throws(BridgeError) in try talks.resolve(conversation, summary: summary, as: asName) }
    }
}

struct TalkBlock: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "block", abstract: "Close the talk as BLOCKED with a reason.")
    @OptionGroup var options: TalkOptions
    @Argument(help: ArgumentHelp("The talk id.", valueName: "CONV")) var conversation: String
    @Option(name: .long, help: ArgumentHelp("Why it cannot go on.", valueName: "TEXT")) var reason: String
    @Option(name: .customLong("as"), help: ArgumentHelp("Act as this name.", valueName: "NAME")) var asName: String?

    func run() throws {
        try options.close(showing: \.blockedReason) { (talks) throws(BridgeError) in try talks.block(conversation, reason: reason, as: asName) }
    }
}

struct TalkNormalize: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "normalize", abstract: "Rewrite a talk in canonical form without changing any turn's content.")
    @OptionGroup var options: TalkOptions
    @Argument(help: ArgumentHelp("The talk id.", valueName: "CONV")) var conversation: String
    @Flag(name: .long, help: "Print the report as JSON.") var json = false

    func run() throws {
        try reportingErrors { () throws(BridgeError) in
            let r = try options.talks().normalize(conversation, as: nil)
            if json { Output.json(r); return }
            Output.line(r.changed ? "rewrote talk \(r.id) in canonical form" + (r.strayLinesRemoved > 0 ? " (\(r.strayLinesRemoved) stray line(s) removed)" : "")
                                  : "talk \(r.id) is already canonical")
        }
    }
}

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the message store and the talks; --fix repairs what it can. Exit 0 only when nothing is (left) wrong.")
    @OptionGroup var options: TalkOptions
    @Flag(name: .long, help: "Repair what can be repaired, and report every change.") var fix = false
    @Flag(name: .long, help: "Print the findings as JSON.") var json = false

    func run() throws {
        try reportingOutcome { () throws(BridgeError) -> Ending in
            let env = Environment.current()
            let stores = try StoreFactory.openForCommand(environment: env)
            let store = stores.messages
            var talks: Talks?
            var unusable: BridgeError?
            do throws(BridgeError) { talks = try options.talks() } catch { unusable = error }
            var report = Doctor.run(store: store, localRoot: stores.localRoot, reservations: stores.reservations, talks: talks, fix: fix, config: BridgeConfig(environment: env))
            if let unusable { report.findings.append(Doctor.unusableTalks(unusable)) }
            if json {
                Output.json(report.findings)
            } else if report.findings.isEmpty {
                Output.line("nothing wrong: messages in \(store.location)" + (talks.map { ", talks in \($0.location.root)" } ?? ""))
            } else {
                for f in report.findings {
                    Output.line("\(f.repaired ? "fixed" : "PROBLEM")  \(f.area): \(f.subject): \(f.problem)" + (f.repair.map { " → \($0)" } ?? ""))
                }
            }
            if report.healthy { return .success }
            return .problemsFound(count: report.findings.filter { !$0.repaired }.count, afterFix: fix)
        }
    }
}
