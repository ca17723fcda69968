@testable import SessionBridge

/// The talks folder's config.yaml parsing as the fuzzers see it. Re-point here when its API changes.
enum ConfigAdapter {
    /// The validated config, or the error that refused the text.
    static func parse(_ text: String) -> Result<TalkConfig, BridgeError> {
        do { return .success(try TalkConfig.parse(text, path: "/fuzz/.talks/config.yaml")) } catch { return .failure(error) }
    }
}
