extension Doctor {
    /// A talks folder that cannot be opened (config.yaml invalid or oversized, a folder that resolves to an unsafe
    /// place) is a problem `doctor` reports with the reason; it never rewrites a person's config to repair it.
    package static func unusableTalks(_ error: BridgeError) -> Finding {
        Finding(area: "talks", subject: "talks folder", problem: error.message, repair: nil, repaired: false)
    }
}
