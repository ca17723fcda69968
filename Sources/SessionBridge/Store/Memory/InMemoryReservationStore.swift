/// Reservations in process memory: the records by key under one mutex, so `update` is one critical section.
/// `memory:NAME` opens the named one of this process (`named`), beside `InMemoryStore.named`.
package final class InMemoryReservationStore: ReservationStore {
    let records: Monitor<[String: ReservationRecord]>
    package let location: String

    package init(name: String = "") {
        records = Monitor([:])
        location = "memory:" + name + " (reservations)"
    }

    private static let registry = NamedStores { InMemoryReservationStore(name: $0) }

    /// The process's reservation store called `name`, made on first use.
    package static func named(_ name: String) -> InMemoryReservationStore { registry.named(name) }

    /// Forgets the named store (a later `named` makes a fresh one).
    package static func discard(named name: String) { registry.discard(name) }

    package func keys() throws(BridgeError) -> Set<String> {
        records.withLock { Set($0.keys) }
    }

    package func record(key: String) throws(BridgeError) -> ReservationRecord? {
        records.withLock { $0[key] }
    }

    package func update<T>(_ projectID: String, _ body: (inout [Reservation]) throws(BridgeError) -> T) throws(BridgeError) -> T {
        let key = ReservationProject.key(projectID)
        return try records.withLock { (all: inout [String: ReservationRecord]) throws(BridgeError) -> T in
            if let existing = all[key], existing.project != projectID {
                throw .storage(.reservationsOfAnotherProject(record: key, inRedis: false))
            }
            var list = all[key]?.reservations ?? []
            let before = list
            let result = try body(&list)
            if list == before { return result }
            try ReservationRecord.checkSize(list)
            all[key] = list.isEmpty ? nil : ReservationRecord(project: projectID, reservations: list)
            return result
        }
    }

    package func removeRecord(key: String) throws(BridgeError) {
        records.withLock { $0[key] = nil }
    }
}
