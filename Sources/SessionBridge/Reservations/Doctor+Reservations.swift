extension Doctor {
    /// The file engine's reservations in its root, their holders in its sessions (tests and the file store).
    static func checkReservations(_ store: FileStore, fix: Bool) -> [Finding] {
        checkReservations(Reservations(store: FileReservationStore(storeRoot: store.layout.root), sessions: store), fix: fix)
    }

    /// Reservations that no longer hold (expired, or held by a stale or ended session), damaged records, and what
    /// the engine's representation can leave behind; `fix` clears them.
    static func checkReservations(_ reservations: Reservations, fix: Bool) -> [Finding] {
        var out: [Finding] = []
        func add(_ subject: String, _ problem: String, _ repair: String) {
            out.append(Finding(area: "reservations", subject: subject, problem: problem, repair: fix ? repair : nil, repaired: fix))
        }
        let location = reservations.store.location
        for key in reservations.damagedRecords() {
            add("\(location): \(key)", "the reservations record cannot be read, so it is not enforced", "removed")
            if fix { reservations.removeDamaged(key: key) }
        }
        for (r, state) in reservations.clearOver(fix: fix) {
            let why: String
            switch state {
            case "expired": why = "expired at \(r.until)"
            case "stale": why = "its holder's process is gone"
            default: why = "its holder's session has ended"
            }
            add("\(r.root): \(r.pattern)", "reservation by \(Identifiers.printable(r.holderName)) (\(r.holder)) no longer holds: \(why)", "cleared")
        }
        out += reservations.store.checkLeftovers(fix: fix, now: Clock.nowNanoseconds())
        return out
    }
}
