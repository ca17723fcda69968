/// Edit reservations for the commands: the calling session is the holder.
package struct ReservationService {
    let bridge: Bridge

    /// The reservation rules on this bridge's engine, their holders looked up in its message store.
    package var rules: Reservations {
        Reservations(store: bridge.reservationStore, sessions: bridge.store, host: bridge.host)
    }

    /// `reserve`: holds the paths for this session, or fails with exit 12 naming the holder in the way.
    package func reserve(_ arguments: [String], request: Reservations.Request, cwd: String = FileSystem.currentDirectory()) throws(BridgeError) -> Reservations.ReserveResult {
        let me = try bridge.sessions.requireSession()
        let result = try rules.reserve(arguments, for: me, cwd: cwd, home: bridge.environment["HOME"] ?? "/", request: request)
        if case .conflict(let requested, let held) = result.outcome {
            throw .conflict(.reserved(requested: requested, held: held))
        }
        return result
    }

    /// `release`: the named reservations of this session in the project here, all of them there, or with
    /// `everywhere` all of them in every project.
    package func release(_ arguments: [String], everywhere: Bool, cwd: String = FileSystem.currentDirectory()) throws(BridgeError) -> [Reservation] {
        let me = try bridge.sessions.requireSession()
        if everywhere { return rules.releaseAll(holder: me.id) }
        return try rules.release(arguments, holder: me.id, cwd: cwd, home: bridge.environment["HOME"] ?? "/")
    }

    /// `reservations`: what holds in the project here; with `all`, every record in every project, whatever its state.
    package func listReservations(all: Bool, cwd: String = FileSystem.currentDirectory()) -> [Reservations.Row] {
        rules.list(cwd: all ? nil : cwd, me: bridge.sessions.currentSession()?.id)
    }
}
