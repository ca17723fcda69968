extension Doctor {
    /// Reservations that no longer hold (expired, or held by a stale or ended session), damaged records, and temp
    /// files a killed writer left; `fix` clears them.
    static func checkReservations(_ store: FileStore, fix: Bool) -> [Finding] {
        checkReservations(root: store.layout.root, fix: fix)
    }

    static func checkReservations(root: String, fix: Bool) -> [Finding] {
        var out: [Finding] = []
        func add(_ subject: String, _ problem: String, _ repair: String) {
            out.append(Finding(area: "reservations", subject: subject, problem: problem, repair: fix ? repair : nil, repaired: fix))
        }
        let reservations = Reservations(storeRoot: root)
        for path in reservations.damagedRecords() {
            add(path, "the reservations record cannot be read, so it is not enforced", "removed")
            if fix { reservations.removeDamaged(path) }
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
        let now = Clock.nowNanoseconds()
        let folder = reservations.store.folder
        for name in FileSystem.list(folder, includeHidden: true) where name.hasPrefix(".") && name.contains(".json.") {
            let path = folder + "/" + name
            guard let t = FileSystem.modificationTime(path), now - t > tempGraceNanoseconds else { continue }
            add(path, "a temp file left by an interrupted write", "removed")
            if fix { FileSystem.remove(path) }
        }
        return out
    }
}
