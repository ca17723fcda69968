import Foundation
@testable import SessionBridge

/// The config target: the input is a talks folder's config.yaml. It is accepted or refused within a bound
/// (libFuzzer's -timeout and -rss_limit_mb catch the rest), and an accepted config parses the same way every time:
/// the guard and every talk command parse it on each use.
enum ConfigFuzz {
    static func check(_ bytes: [UInt8]) -> FuzzFailure? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard case .success(let config) = ConfigAdapter.parse(text) else { return nil }
        // Parsed on every use (there is no cache): the same text must always give the same config.
        guard case .success(let again) = ConfigAdapter.parse(text), again == config,
              FuzzInput.same(again.conversationDir, config.conversationDir), FuzzInput.same(again.watcherPrompt, config.watcherPrompt),
              FuzzInput.same(again.watcherInjectMethod, config.watcherInjectMethod) else {
            return FuzzFailure(.config, "deterministic", "the same config.yaml parsed twice differs: \(FuzzInput.show(text))")
        }
        return nil
    }
}
