/// Edit reservations for the commands: the calling session is the holder.
extension Bridge {
    /// Reservations on this bridge's engine, their holders looked up in its message store.
    public var reservations: Reservations {
        Reservations(store: reservationStore, sessions: store, host: host)
    }

    /// `reserve`: holds the paths for this session, or fails with exit 12 naming the holder in the way.
    public func reserve(_ arguments: [String], request: Reservations.Request, cwd: String = FileSystem.currentDirectory()) throws(BridgeError) -> Reservations.ReserveResult {
        let me = try requireSession()
        let result = try reservations.reserve(arguments, for: me, cwd: cwd, home: environment["HOME"] ?? "/", request: request)
        if case .conflict(let requested, let held) = result.outcome {
            throw .conflict(ReservationText.conflict(requested: requested, held: held, helper: config.helper))
        }
        return result
    }

    /// `release`: the named reservations of this session in the project here, all of them there, or with
    /// `everywhere` all of them in every project.
    public func release(_ arguments: [String], everywhere: Bool, cwd: String = FileSystem.currentDirectory()) throws(BridgeError) -> [Reservation] {
        let me = try requireSession()
        if everywhere { return reservations.releaseAll(holder: me.id) }
        return try reservations.release(arguments, holder: me.id, cwd: cwd, home: environment["HOME"] ?? "/")
    }

    /// `reservations`: what holds in the project here; with `all`, every record in every project, whatever its state.
    public func listReservations(all: Bool, cwd: String = FileSystem.currentDirectory()) -> [Reservations.Row] {
        reservations.list(cwd: all ? nil : cwd, me: currentSession()?.id)
    }
}

/// Reservation text for people and models, with commands spelled by `HelperName`.
public enum ReservationText {
    public static func holder(_ r: Reservation) -> String {
        "\(Identifiers.printable(r.holderName)) (session \(Identifiers.printable(r.holder)), \(Identifiers.printable(r.agent)))"
    }

    public static func conflict(requested: Reservation, held: Reservation, helper: HelperName) -> String {
        let p = Identifiers.printable
        var text = "'\(p(requested.pattern))' overlaps '\(p(held.pattern))', held "
            + (held.shared ? "shared" : "exclusively") + " by \(holder(held)) since \(p(held.since)) until \(p(held.until))"
        if let why = held.reason { text += ", for: \(p(why))" }
        let question = "I would like to reserve \(p(requested.pattern)), which overlaps your reservation \(p(held.pattern)). Please release it when you can and tell me."
        return text + "; ask them: `\(helper.command("ask \(held.holder) \(HelperName.singleQuoted(question)) --wait 90"))`"
    }

    public static func reserved(_ result: Reservations.ReserveResult) -> String {
        guard case .reserved(let list) = result.outcome else { return "" }
        return list.map { r in
            "reserved \(Identifiers.printable(r.pattern)) (\(r.shared ? "shared" : "exclusive")) in \(result.project.root) until \(r.until)"
        }.joined(separator: "\n")
    }

    public static func released(_ list: [Reservation]) -> String {
        if list.isEmpty { return "nothing to release: this session holds no such reservation here" }
        return list.map { "released \(Identifiers.printable($0.pattern)) in \(Identifiers.printable($0.root))" }.joined(separator: "\n")
    }

    public static func table(_ rows: [Reservations.Row], all: Bool, helper: HelperName = .current) -> String {
        if rows.isEmpty {
            return all ? "no reservations" : "no reservations hold in this project (reserve with `\(helper.command("reserve PATH…"))`)"
        }
        var table = [["", "PATTERN", "MODE", "HOLDER", "SINCE", "UNTIL"] + (all ? ["STATE", "ROOT"] : []) + ["REASON"]]
        for r in rows {
            let p = Identifiers.printable
            table.append([r.you ? "*" : "", p(r.pattern), r.shared ? "shared" : "exclusive", "\(p(r.holderName)) (\(p(r.holder)))",
                          p(r.since), p(r.until)] + (all ? [r.state, p(r.root)] : []) + [r.reason.map(p) ?? ""])
        }
        return Render.columns(table) + "\n(* = you)"
    }
}
