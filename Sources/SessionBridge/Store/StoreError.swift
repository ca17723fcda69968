#if canImport(Glibc)
import Glibc
#endif

/// A failure of the store, as every engine reports it: a code a caller can act on and the detail a person reads.
/// Expected outcomes are not store errors: "nothing pending" is an empty result, "another process claimed it
/// first" is `ClaimOutcome.gone`, a missing session is nil.
package struct StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    package enum Code: String, Sendable, CaseIterable {
        /// The store cannot be reached (a network engine's server is down, refuses the connection or timed out).
        case unreachable
        /// The operation contradicts the store's state (a message id already delivered; a lock held elsewhere).
        case conflict
        /// Stored data cannot be read as what it should be (a damaged manifest, an entry of the wrong type).
        case corrupt
        /// No room: the disk, a quota or the server's memory is full.
        case full
        /// The store refuses this user (file permissions, a read-only file system, an ACL or a wrong password).
        case permission
        /// The session an operation names does not exist in the store (`detail` is its id).
        case notFound
        /// The store is not safe to use: anyone else who can write to it could inject messages into an agent.
        case insecure
        /// The setting names an engine this binary does not have, or cannot be parsed.
        case unsupported
        /// Any other input/output failure.
        case io
    }

    package var code: Code
    /// What failed, for a person (names the path, key or host; never a secret).
    package var detail: String

    package init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    package var description: String { "\(code.rawValue): \(detail)" }
}

extension BridgeError {
    /// The error a command reports for a store failure: same exit codes and texts as the file engine has always
    /// given (storage failure 9, insecure store 8, conflict 12), plus 15 for a store that cannot be reached.
    package init(_ error: StoreError) {
        switch error.code {
        case .unreachable: self = .storeUnreachable(error.detail)
        case .conflict: self = .conflict(.store(error))
        case .corrupt, .full, .permission: self = .storage(.store(error))
        case .notFound: self = .unknownPeer(error.detail)
        case .insecure: self = .insecureStore(.store(error))
        case .unsupported: self = .invalidInput(.store(error))
        case .io: self = .io(.store(error))
        }
    }
}

extension StoreError {
    /// The store error a file system failure stands for (the file engine's own helpers report `BridgeError`).
    package init(_ error: BridgeError) {
        switch error {
        case .storage(.store(let original)), .io(.store(let original)):
            self = original
        case .storage(let failure):
            let permission = error.errno.map { [EACCES, EPERM, EROFS].contains($0) } ?? false
            self.init(permission ? .permission : .full, failure.text(helper: HelperName(text: HelperName.bareName)))
        case .insecureStore(.store(let original)): self = original
        case .insecureStore(let finding): self.init(.insecure, finding.text)
        case .conflict(.store(let original)): self = original
        case .conflict(let conflict): self.init(.conflict, conflict.text(helper: HelperName(text: HelperName.bareName)))
        case .storeUnreachable(let text): self.init(.unreachable, text)
        case .unknownPeer(let id): self.init(.notFound, id)
        default: self.init(.io, error.message(helper: HelperName(text: HelperName.bareName)))
        }
    }
}

/// Runs a store operation where a `BridgeError` is thrown (the bridge's own operations).
@inline(__always)
package func bridged<T>(_ body: () throws(StoreError) -> T) throws(BridgeError) -> T {
    do { return try body() } catch { throw BridgeError(error) }
}

/// Runs file system steps where a `StoreError` is thrown (inside the file engine).
@inline(__always)
func stored<T>(_ body: () throws(BridgeError) -> T) throws(StoreError) -> T {
    do { return try body() } catch { throw StoreError(error) }
}

extension BridgeError {
    /// The errno of the file system call this failure comes from, if it comes from one.
    var errno: Int32? {
        switch self {
        case .storage(.file(let failure)), .io(.file(let failure)): return failure.errno
        case .storage(.reservationsUnreadable(_, let cause)): return cause.errno
        default: return nil
        }
    }
}
