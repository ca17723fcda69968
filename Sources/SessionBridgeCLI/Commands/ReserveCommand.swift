import ArgumentParser
import SessionBridge

struct ReserveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reserve",
        abstract: "Reserve paths of this project for this session: the guard stops other sessions' edits there.",
        discussion: """
        A PATH reserves that file or folder and everything beneath it; a GLOB may use *, ?, [...] and ** (any number of folders). Paths are resolved (symlinks, ..) and kept relative to the project root: the git work tree, or this folder outside git. Clones of one repository (same remote URL) are one project. An exclusive reservation stops other live sessions' edits; shared ones coexist with each other. A reservation ends on `release`, when this session stops or its process is gone, or at its TTL, renewed while this session edits there. A conflict names the holder and exits 12.
        """)

    @OptionGroup var session: SessionOptions

    @Argument(help: ArgumentHelp("Files, folders or globs to reserve (relative to the current folder).", valueName: "PATH|GLOB"))
    var paths: [String] = []

    @Option(name: .long, help: ArgumentHelp("How long it holds without edits there: 90s, 30m, 2h, 1d or seconds (default 30m, at most 7d).", valueName: "DURATION"))
    var ttl: String?

    @Option(name: .long, help: ArgumentHelp("Why, shown to sessions the reservation stops.", valueName: "TEXT"))
    var reason: String?

    @Flag(name: .long, help: "A shared reservation: coexists with other shared ones, keeps exclusive ones out, stops no edit.")
    var shared = false

    @Flag(name: .long, help: "Print the reservations made as JSON.")
    var json = false

    func run() throws {
        try reportingErrors { () throws(BridgeError) in
            guard !paths.isEmpty else { throw .invalidInput(.noReservationPaths) }
            let seconds = try ttl.map { (t: String) throws(BridgeError) -> Int in
                guard let s = DurationText.seconds(t) else {
                    throw .invalidInput(.invalidTTL(t))
                }
                return s
            } ?? Reservation.defaultTTLSeconds
            let bridge = try session.bridge()
            let result = try bridge.reservations.reserve(paths, request: Reservations.Request(ttlSeconds: seconds, reason: reason, shared: shared))
            if json {
                if case .reserved(let list) = result.outcome { Output.json(list) }
            } else {
                Output.line(ReservationText.reserved(result))
            }
        }
    }
}

struct ReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Release this session's reservations: those named, all of them in this project, or with --all everywhere.")

    @OptionGroup var session: SessionOptions

    @Argument(help: ArgumentHelp("Patterns as reserved, or paths (releases this session's reservations at or beneath them). None: all of this project.", valueName: "PATH|GLOB"))
    var paths: [String] = []

    @Flag(name: .long, help: "Release this session's reservations in every project.")
    var all = false

    @Flag(name: .long, help: "Print the released reservations as JSON.")
    var json = false

    func run() throws {
        try reportingErrors { () throws(BridgeError) in
            if all && !paths.isEmpty { throw .invalidInput(.pathsAndAll) }
            let bridge = try session.bridge()
            let gone = try bridge.reservations.release(paths, everywhere: all)
            if json { Output.json(gone) } else { Output.line(ReservationText.released(gone)) }
        }
    }
}

struct ReservationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reservations",
        abstract: "List the reservations that hold in this project: pattern, mode, holder, since, until, reason (* = yours).")

    @OptionGroup var session: SessionOptions

    @Flag(name: .long, help: "Every project, and reservations that no longer hold (state expired, stale or ended).")
    var all = false

    @Flag(name: .long, help: "Print a JSON list of {project, root, pattern, shared, holder, holderName, agent, host, reason, since, until, state, you}.")
    var json = false

    func run() throws {
        try reportingErrors { () throws(BridgeError) in
            let bridge = try session.bridge()
            let rows = bridge.reservations.listReservations(all: all)
            if json { Output.json(rows) } else { Output.line(ReservationText.table(rows, all: all, helper: bridge.config.helper)) }
        }
    }
}

/// A duration as people write it: `90s`, `30m`, `2h`, `1d`, `1h30m`, or plain seconds.
enum DurationText {
    static func seconds(_ text: String) -> Int? {
        if let n = Int(text) { return n }
        var total = 0
        var number = ""
        for c in text {
            if c.isASCII && c.isNumber {
                number.append(c)
                continue
            }
            guard let n = Int(number), number.count <= 9 else { return nil }
            switch c {
            case "s": total += n
            case "m": total += n * 60
            case "h": total += n * 3600
            case "d": total += n * 86400
            default: return nil
            }
            number = ""
        }
        return number.isEmpty && !text.isEmpty ? total : nil
    }
}
