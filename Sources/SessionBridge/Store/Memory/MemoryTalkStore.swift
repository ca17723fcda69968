#if canImport(Glibc)
import Glibc
#endif

/// The in-memory talk engine: talks held in this process, for tests and for embedding the bridge. One mutex makes
/// each change atomic (the rules are decided while it is held); a condition variable broadcast on every change
/// is the change signal. It enforces the same rules and the same size limit as the file engine; talks vanish with
/// the process.
package final class MemoryTalkStore: TalkStore, @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    // Guarded by `mutex`.
    private var talks: [String: Conversation] = [:]
    /// Each talk's size as the file engine would render it, so the size limit means the same on both.
    private var bodyBytes: [String: Int] = [:]
    private var version: UInt64 = 0

    /// The largest talk a `say` may produce.
    let maxTalkBytes: Int

    private static let registry = NamedStores { _ in MemoryTalkStore() }

    /// The process's talk store called `name`, made on first use (the talks of `memory:NAME`).
    package static func named(_ name: String) -> MemoryTalkStore { registry.named(name) }

    package init(maxTalkBytes: Int = TalkStorage.defaultMaxTalkBytes) {
        self.maxTalkBytes = maxTalkBytes
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    private func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Records a change and wakes every waiter (called with the mutex held).
    private func changed() {
        version &+= 1
        pthread_cond_broadcast(condition)
    }

    // MARK: Reading

    package func ids() throws(TalkError) -> [String] {
        locked { talks.keys.sorted() }
    }

    package func exists(_ id: String) throws(TalkError) -> Bool {
        locked { talks[id] != nil }
    }

    package func header(_ id: String) throws(TalkError) -> TalkHeader {
        try locked { () throws(TalkError) in
            guard let talk = talks[id] else { throw .unknownTalk(id) }
            return talk.header
        }
    }

    package func read(_ id: String, since: Int?) throws(TalkError) -> Conversation {
        try locked { () throws(TalkError) in
            guard var talk = talks[id] else { throw .unknownTalk(id) }
            if let since { talk.turns.removeAll { $0.number <= since } }
            return talk
        }
    }

    package func list(status: TalkStatus?) throws(TalkError) -> TalkListing {
        let headers = locked { talks.keys.sorted().compactMap { talks[$0]?.header } }
        return TalkListing(headers: headers.filter { status == nil || $0.status == status }.sorted { $0.updatedAt > $1.updatedAt },
                           damaged: [])
    }

    package func changeSignal(_ id: String) throws(TalkError) -> any TalkChangeSignal {
        Signal(store: self, seen: locked { version })
    }

    package func normalize(_ id: String, by who: String) throws(TalkError) -> TalkNormalization {
        guard try exists(id) else { throw .unknownTalk(id) }
        return TalkNormalization(id: id, changed: false, strayLinesRemoved: 0)
    }

    // MARK: Changes

    package func create(_ header: TalkHeader) throws(TalkError) -> TalkCreation {
        locked {
            guard talks[header.id] == nil else { return .idTaken }
            let talk = Conversation(header: header)
            talks[header.id] = talk
            bodyBytes[header.id] = 0
            changed()
            return .created(talk)
        }
    }

    package func append(_ request: TurnRequest, to id: String) throws(TalkError) -> TurnOutcome {
        try locked { () throws(TalkError) -> TurnOutcome in
            guard var talk = talks[id] else { throw .unknownTalk(id) }
            switch TalkRules.append(request, after: talk.header, turnsHeld: talk.turns.count) {
            case .refuse(let refusal):
                return .refused(refusal)
            case .accept(let (turn, header)):
                let body = (bodyBytes[id] ?? 0) + Conversation.renderTurnBytes(turn).count
                let size = Conversation.renderHeader(header).utf8.count + body
                if size > maxTalkBytes { throw .tooLarge(id, size: size, limit: maxTalkBytes) }
                talk.header = header
                talk.turns.append(turn)
                talks[id] = talk
                bodyBytes[id] = body
                changed()
                return .appended(turn, header)
            }
        }
    }

    package func close(_ id: String, _ closing: TalkClosing) throws(TalkError) -> ClosingOutcome {
        try locked { () throws(TalkError) -> ClosingOutcome in
            guard var talk = talks[id] else { throw .unknownTalk(id) }
            switch TalkRules.close(closing, talk.header) {
            case .refuse(let refusal):
                return .refused(refusal)
            case .accept(let header):
                talk.header = header
                talks[id] = talk
                changed()
                return .closed(header)
            }
        }
    }

    // MARK: The change signal

    /// Wakes when the store's version moves past the one this signal last saw.
    final class Signal: TalkChangeSignal {
        let store: MemoryTalkStore
        var seen: UInt64

        init(store: MemoryTalkStore, seen: UInt64) {
            self.store = store
            self.seen = seen
        }

        func wait(timeoutMilliseconds: Int) -> Bool {
            var deadline = timespec()
            clock_gettime(CLOCK_MONOTONIC, &deadline)
            let total = Int(deadline.tv_nsec) + (max(0, timeoutMilliseconds) % 1000) * 1_000_000
            deadline.tv_sec += max(0, timeoutMilliseconds) / 1000 + total / 1_000_000_000
            deadline.tv_nsec = total % 1_000_000_000
            pthread_mutex_lock(store.mutex)
            defer { pthread_mutex_unlock(store.mutex) }
            while store.version == seen {
                if pthread_cond_timedwait(store.condition, store.mutex, &deadline) == ETIMEDOUT { break }
            }
            let woke = store.version != seen
            seen = store.version
            return woke
        }
    }
}
