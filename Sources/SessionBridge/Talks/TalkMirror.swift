/// The local markdown mirror of a talk kept by a networked engine: `.talks/conversations/<id>.md` in schema v1,
/// byte for byte what the file engine would have written for the same turns, so people, diffs and tools read
/// it the same way. It is written only from state the engine's server accepted, and never read to decide a
/// change. Updating is append-only: the turns already mirrored are copied byte for byte, only the header is
/// rewritten and the missing turns are appended in order. A mirror that cannot be read, or that holds more turns
/// than the server (or another talk's), is kept as `<id>.md.bak` and rebuilt from the server's turns.
package struct TalkMirror: Sendable {
    package let location: TalkLocation

    package init(location: TalkLocation) {
        self.location = location
    }

    /// Brings the mirror of `header.id` up to `header`: `turnsAfter(n)` gives the accepted turns numbered above n
    /// (the engine reads them from its server). Returns how many turns were appended.
    @discardableResult
    package func update(_ header: TalkHeader, turnsAfter: (Int) throws(TalkError) -> [Turn]) throws(TalkError) -> Int {
        let id = header.id
        let path = location.file(id)
        func storage<T>(_ body: () throws(BridgeError) -> T) throws(TalkError) -> T {
            do { return try body() } catch { throw .storage(error) }
        }
        try storage { () throws(BridgeError) in try location.initialize() }
        let lock = try storage { () throws(BridgeError) in
            try TalkLock.acquire(location.lock(id), strategy: location.config.lockStrategy, owner: "mirror",
                                 staleSeconds: location.config.staleLockSeconds)
        }
        defer { lock.release() }
        var body: ArraySlice<UInt8> = []
        var held = 0
        var crlf = false
        var existing: [UInt8]?
        if FileSystem.exists(path) {
            let limit = TalkStorage.readLimit(maxTalkBytes: TalkStorage.defaultMaxTalkBytes)
            var usable = false
            if let before = try? FileSystem.read(path, limit: limit) {
                existing = before
                crlf = TalkFile.usesCRLF(before)
                if let parts = try? FileTalkStore.split(before), parts.header.id == id, parts.turnCount <= header.turnCount {
                    body = parts.body
                    held = parts.turnCount
                    usable = true
                }
            }
            if !usable { location.keepBackup(id) }
        }
        // Exactly the turns the header counts beyond those held, in order (a later read may hold more: not yet).
        let turns = try turnsAfter(held).filter { $0.number > held && $0.number <= header.turnCount }
        guard turns.map(\.number) == Array(stride(from: held + 1, through: header.turnCount, by: 1)) else {
            throw .storage(.io(.mirrorOutOfStep(talk: id, held: held)))
        }
        var bytes = Array(Conversation.renderHeader(header).utf8)
        bytes += body
        for turn in turns { bytes += Conversation.renderTurnBytes(turn) }
        if crlf { bytes = TalkFile.withCRLF(bytes) }
        if bytes == existing { return 0 }          // already up to date: the file is left alone
        try storage { () throws(BridgeError) in _ = try TalkStorage.publish(bytes, to: path) }
        return turns.count
    }
}
