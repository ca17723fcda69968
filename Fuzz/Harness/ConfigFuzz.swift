import Foundation
@testable import SessionBridge

/// The config target: the input is a talks folder's config.yaml. It is accepted or refused within a bound
/// (libFuzzer's -timeout and -rss_limit_mb catch the rest), and an accepted config reads back from its cache
/// exactly as parsed: the guard and every talk command read the cached copy.
enum ConfigFuzz {
    static func check(_ bytes: [UInt8]) -> FuzzFailure? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard case .success(let config) = ConfigAdapter.parse(text) else { return nil }
        guard let cached = ConfigAdapter.throughCache(config) else {
            return FuzzFailure(.config, "cache-readable", "the cache of an accepted config does not read back: \(FuzzInput.show(text))")
        }
        guard cached == config, FuzzInput.same(cached.conversationDir, config.conversationDir),
              FuzzInput.same(cached.watcherPrompt, config.watcherPrompt), FuzzInput.same(cached.watcherInjectMethod, config.watcherInjectMethod) else {
            return FuzzFailure(.config, "cache-exact", "the cached config differs from the parsed one: \(FuzzInput.show(text))")
        }
        return nil
    }
}
