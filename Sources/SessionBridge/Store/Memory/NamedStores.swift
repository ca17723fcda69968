/// The in-memory engine's stores of one kind in this process, by name: what `memory:NAME` opens, so that every
/// bridge of a process (or of one test) opened on the same name shares one store. One registry per kind (messages,
/// talks, reservations), each made on first use.
final class NamedStores<Store: AnyObject & Sendable>: Sendable {
    private let stores = Monitor<[String: Store]>([:])
    private let make: @Sendable (String) -> Store

    init(make: @escaping @Sendable (String) -> Store) { self.make = make }

    /// The store called `name`, made on first use.
    func named(_ name: String) -> Store {
        stores.withLock { stores in
            if let store = stores[name] { return store }
            let store = make(name)
            stores[name] = store
            return store
        }
    }

    /// Forgets the store called `name`: its holders keep their reference; a later `named` makes a fresh one.
    func discard(_ name: String) {
        stores.withLock { _ = $0.removeValue(forKey: name) }
    }
}
