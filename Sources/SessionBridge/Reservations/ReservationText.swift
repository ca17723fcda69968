/// Reservation text for people and models, with commands spelled by `HelperName`.
package enum ReservationText {
    package static func holder(_ r: Reservation) -> String {
        "\(Identifiers.printable(r.holderName)) (session \(Identifiers.printable(r.holder)), \(Identifiers.printable(r.agent)))"
    }

    package static func conflict(requested: Reservation, held: Reservation, helper: HelperName) -> String {
        let p = Identifiers.printable
        var text = "'\(p(requested.pattern))' overlaps '\(p(held.pattern))', held "
            + (held.shared ? "shared" : "exclusively") + " by \(holder(held)) since \(p(held.since)) until \(p(held.until))"
        if let why = held.reason { text += ", for: \(p(why))" }
        let question = "I would like to reserve \(p(requested.pattern)), which overlaps your reservation \(p(held.pattern)). Please release it when you can and tell me."
        return text + "; ask them: `\(helper.command("ask \(held.holder) \(HelperName.singleQuoted(question)) --wait 90"))`"
    }

    package static func reserved(_ result: Reservations.ReserveResult) -> String {
        guard case .reserved(let list) = result.outcome else { return "" }
        return list.map { r in
            "reserved \(Identifiers.printable(r.pattern)) (\(r.shared ? "shared" : "exclusive")) in \(result.project.root) until \(r.until)"
        }.joined(separator: "\n")
    }

    package static func released(_ list: [Reservation]) -> String {
        if list.isEmpty { return "nothing to release: this session holds no such reservation here" }
        return list.map { "released \(Identifiers.printable($0.pattern)) in \(Identifiers.printable($0.root))" }.joined(separator: "\n")
    }

    package static func table(_ rows: [Reservations.Row], all: Bool, helper: HelperName = .current) -> String {
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
