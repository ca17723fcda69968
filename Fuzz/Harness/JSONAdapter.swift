@testable import SessionBridge

/// The hot-path JSON reads as the fuzzers see them. Re-point here when the reader's API changes.
enum JSONAdapter {
    /// A document as `JSONReader` parses it (nil: refused).
    static func node(_ bytes: [UInt8]) -> JSONNode? { JSONReader.node(bytes) }

    /// The guard's reading of a PreToolUse hook input.
    static func preToolUse(_ bytes: [UInt8]) -> PreToolUseInput? { PreToolUseInput.decode(bytes) }

    /// The hooks' reading of their input.
    static func hookInput(_ bytes: [UInt8]) -> HookInput? { HookInput.decode(bytes) }

    /// A session manifest as the stores read it.
    static func manifest(_ bytes: [UInt8]) -> SessionManifest? { SessionManifest.decode(bytes) }
}
