import Testing
@testable import SessionBridge

@Suite struct ClockTests {
    @Test func roundTripsMilliseconds() {
        let t: Int64 = 1_795_000_000_123_000_000
        let s = Clock.iso8601(nanoseconds: t)
        #expect(s.hasSuffix(".123Z"))
        #expect(Clock.parseISO8601(s) == t)
    }

    @Test func parsesWithoutFraction() {
        #expect(Clock.parseISO8601("1970-01-01T00:00:10Z") == 10_000_000_000)
        #expect(Clock.parseISO8601("garbage") == nil)
        #expect(Clock.parseISO8601("2026-13-01") == nil)
    }
}
