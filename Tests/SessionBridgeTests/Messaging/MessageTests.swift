import Foundation
import Testing
@testable import SessionBridge

@Suite struct MessageTests {
    @Test func jsonShapeIsStable() throws {
        let m = Message(from: "aaaaaaaa", fromName: "lib", to: "bbbbbbbb", toName: "app", type: .query, content: "hi")
        let object = try #require(JSONSerialization.jsonObject(with: Data(JSONCoding.encode(m))) as? [String: Any])
        for key in ["id", "from", "fromName", "to", "toName", "type", "inReplyTo", "createdAt", "content", "sha256", "schema"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["inReplyTo"] is NSNull)
        #expect(object["type"] as? String == "query")
        #expect(m.isIntact)
    }

    @Test func tamperedContentFailsChecksum() throws {
        var m = Message(from: "aaaaaaaa", fromName: "lib", to: "bbbbbbbb", toName: "app", type: .query, content: "hi")
        m.content = "changed"
        #expect(!m.isIntact)
    }

    @Test func contentValidation() throws {
        #expect(try MessageContent.validate(Array("héllo".utf8), limit: 100) == "héllo")
        #expect(throws: BridgeError.emptyMessage) { try MessageContent.validate([], limit: 100) }
        #expect(throws: BridgeError.emptyMessage) { try MessageContent.validate(Array(" \n\t".utf8), limit: 100) }
        #expect(throws: BridgeError.messageTooLarge(size: 11, limit: 10)) { try MessageContent.validate(Array("01234567890".utf8), limit: 10) }
        #expect(throws: BridgeError.binaryContent(.notUTF8)) { try MessageContent.validate([0x66, 0xff, 0xfe], limit: 100) }
        #expect(throws: BridgeError.binaryContent(.nulBytes)) { try MessageContent.validate([0x66, 0, 0x67], limit: 100) }
    }

    @Test func errorsHaveDistinctDocumentedExitCodes() {
        #expect(BridgeError.noIdentity.exitCode == 3)
        #expect(BridgeError.unknownPeer("x").exitCode == 4)
        #expect(BridgeError.peerEnded("x").exitCode == 5)
        #expect(BridgeError.emptyMessage.exitCode == 6)
        #expect(BridgeError.badFilter(.jq("x")).exitCode == 7)
        #expect(BridgeError.insecureStore(.notAFolder(root: "x")).exitCode == 8)
        #expect(BridgeError.storage(.file(FileFailure(.write, path: "x", errno: ENOSPC))).exitCode == 9)
        #expect(BridgeError.conflict(.alreadyAnswered(id: "x")).exitCode == 12)
        #expect(!BridgeError.noIdentity.message.contains("\n"))
    }
}
