import Testing
@testable import SessionBridge

@Suite struct ClockTests {
    @Test func roundTripsMilliseconds() {
        let t: Int64 = 1_795_000_000_123_000_000
        let s = Clock.iso8601(nanoseconds: t)
        #expect(s.hasSuffix(".123Z"))
        #expect(Clock.parseISO8601(s) == t)
    }

    @Test func formatsKnownDates() {
        #expect(Clock.iso8601(nanoseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(Clock.iso8601(nanoseconds: 951_782_400_000_000_000) == "2000-02-29T00:00:00.000Z")
        #expect(Clock.iso8601(nanoseconds: 4_102_444_799_999_000_000) == "2099-12-31T23:59:59.999Z")
        // Agrees with the parser across many instants.
        var t: Int64 = 0
        for _ in 0..<2000 {
            t += 1_234_567_891_234_567
            #expect(Clock.parseISO8601(Clock.iso8601(nanoseconds: t)) == t / 1_000_000 * 1_000_000)
        }
    }

    @Test func parsesWithoutFraction() {
        #expect(Clock.parseISO8601("1970-01-01T00:00:10Z") == 10_000_000_000)
        #expect(Clock.parseISO8601("garbage") == nil)
        #expect(Clock.parseISO8601("2026-13-01") == nil)
    }

    @Test func timesPastTheNanosecondRangeAreMalformedNotATrap() {
        #expect(Clock.parseISO8601("2999-01-01T00:00:00.000Z") == nil)
        #expect(Clock.parseISO8601("9999-12-31T23:59:59Z") == nil)
        #expect(Clock.parseISO8601("2200-01-01T00:00:00.000Z") != nil)
    }
}
