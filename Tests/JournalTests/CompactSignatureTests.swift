import Foundation
import GRDB
import HexEncoding
import Journal
import Testing

/// The journal keeps each JWS as a header reference, its iat and the raw r‖s (issue #16), and
/// gives back the very text that was signed; what would not rebuild exactly stays text.
@Suite("Journal: compact signatures and keys")
struct CompactSignatureTests {
    static func jws(header: String, signature: [UInt8]) -> String {
        Base64URL.encode(Array(header.utf8)) + ".." + Base64URL.encode(signature)
    }

    static let raw = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
    static let thumbprint = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6"

    static func header(iat: String) -> String { #"{"alg":"ES256","iat":"# + iat + #","kid":"bed-01","x5t#S256":"\#(thumbprint)"}"# }

    /// Journals one Observation per JWS (ids as given) and returns the journal.
    static func journal(_ entries: [(id: String, jws: String?)]) throws -> (Journal, String) {
        try journal(signed: entries.map { entry in
            (entry.id, entry.jws.map { ObservationSignature(jws: $0, signedAtMs: 1_764_770_400_123, certificateThumbprint: thumbprint) })
        })
    }

    static func journal(signed entries: [(id: String, signature: ObservationSignature?)]) throws -> (Journal, String) {
        let directory = NSTemporaryDirectory() + "wardgate-compact-\(UUID().uuidString.prefix(8))"
        let journal = try Journal(directory: directory)
        let seq = try journal.appendInbox(topic: "wards/7b/devices/bed-01/vitals", payload: Array("{}".utf8), qos: 1, receivedAt: Date())
        let observations = entries.enumerated().map { offset, entry in
            ObservationEntry(
                id: entry.id, inboxSeq: seq, deviceId: "bed-01", metricCode: 149546, effectiveAtMs: Int64(offset), issuedAtMs: 1, implausible: false,
                resource: Array(#"{"resourceType":"Observation"}"#.utf8),
                signature: entry.signature, quarantineReason: entry.signature == nil ? "unknown_device" : nil)
        }
        _ = try journal.commitProcessed(upTo: seq, observations: observations, deadLetters: [])
        return (journal, directory)
    }

    @Test("signatures with an iat share one header row, keep 64 raw bytes and no text, and read back byte for byte")
    func compactRoundTrip() throws {
        let ids = ["00112233445566778899aabbccddeeff", "ffeeddccbbaa99887766554433221100", "0123456789abcdef0123456789abcdef"]
        let texts = [Self.jws(header: Self.header(iat: "1764770400"), signature: Self.raw),
                     Self.jws(header: Self.header(iat: "1764770401"), signature: Self.raw.reversed()),
                     Self.jws(header: #"{"alg":"ES256","kid":"bed-01"}"#, signature: Self.raw)]
        let (journal, directory) = try Self.journal(Array(zip(ids, texts.map(Optional.some))))
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (id, text) in zip(ids, texts) {
            let stored = try #require(try journal.observation(id: id))
            #expect(stored.id == id)
            #expect(stored.signature?.jws == text)
            #expect(stored.signature?.certificateThumbprint == Self.thumbprint)
            #expect(stored.signature?.signedAtMs == 1_764_770_400_123)
        }
        let row = try #require(try journal.read { transaction in
            try Row.fetchOne(transaction.database, sql: """
                SELECT COUNT(jws) AS texts, SUM(length(signature)) AS raw, SUM(typeof(id) = 'blob') AS keys,
                  (SELECT COUNT(*) FROM jws_header) AS headers, group_concat(iat) AS iats FROM observation
                """)
        })
        let kept: Int = row["texts"], raw: Int = row["raw"], keys: Int = row["keys"], headers: Int = row["headers"], iats: String = row["iats"]
        #expect(kept == 0 && raw == 3 * 64 && keys == 3)
        // Both iat headers of bed-01 are one row; the header without iat is another.
        #expect(headers == 2)
        #expect(iats == "1764770400,1764770401")
        #expect(try journal.statistics().signed == 3)
    }

    @Test("a JWS that would not rebuild exactly (not base64url, another signature length, an iat with a leading zero) is kept and read back as it was")
    func irregularTextsStay() throws {
        let texts = ["jws", Self.jws(header: Self.header(iat: "1"), signature: Array(Self.raw.prefix(63))),
                     Self.jws(header: Self.header(iat: "0123"), signature: Self.raw), "e30..not*base64"]
        let ids = ["obs-1", "ABCDEF0123456789ABCDEF0123456789", "0123456789abcdef0123456789abcdef", "x"]
        let (journal, directory) = try Self.journal(Array(zip(ids, texts.map(Optional.some))) + [("quarantined-1", nil)])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (id, text) in zip(ids, texts) {
            #expect(try journal.observation(id: id)?.signature?.jws == text, "\(id)")
        }
        #expect(try journal.observation(id: "quarantined-1")?.signature == nil)
        #expect(try journal.observation(id: "abcdef0123456789abcdef0123456789") == nil, "an id in capitals is its own text, not the bytes")
        let keptTexts = try journal.read { try Int.fetchOne($0.database, sql: "SELECT COUNT(jws) FROM observation") }
        // The leading-zero iat is cut nowhere: the header JSON stays whole in its row, r‖s raw.
        #expect(keptTexts == 3)
        #expect(try journal.statistics().signed == 4)
        #expect(try journal.statistics().quarantined == 1)
    }

    @Test("a signature made in parts, as the signer gives it, is the JWS given as text: the same text, columns and read-back")
    func partsAreTheText() throws {
        let prefix = Array(#"{"alg":"ES256","iat":"#.utf8)
        let suffix = Array(#","kid":"bed-01","x5t#S256":"\#(Self.thumbprint)"}"#.utf8)
        let parts = ObservationSignature(
            headerPrefix: prefix, iat: 1_764_770_400, headerSuffix: suffix, signature: Self.raw, signedAtMs: 1_764_770_400_123,
            certificateThumbprint: Self.thumbprint)
        let text = Self.jws(header: Self.header(iat: "1764770400"), signature: Self.raw)
        #expect(parts.jws == text)
        // Equal includes the stored parts: the commit writes what it wrote when it split the text.
        #expect(parts == ObservationSignature(jws: text, signedAtMs: 1_764_770_400_123, certificateThumbprint: Self.thumbprint))
        let noIat = ObservationSignature(
            headerPrefix: Array(#"{"alg":"ES256","kid":"bed-01"}"#.utf8), iat: nil, headerSuffix: [], signature: Self.raw, signedAtMs: 1,
            certificateThumbprint: Self.thumbprint)
        #expect(noIat.jws == Self.jws(header: #"{"alg":"ES256","kid":"bed-01"}"#, signature: Self.raw))
        let ids = ["00112233445566778899aabbccddeeff", "ffeeddccbbaa99887766554433221100"]
        let (journal, directory) = try Self.journal(signed: [(ids[0], parts), (ids[1], noIat)])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try journal.observation(id: ids[0])?.signature == parts)
        #expect(try journal.observation(id: ids[1])?.signature == noIat)
        #expect(try journal.read { try Int.fetchOne($0.database, sql: "SELECT COUNT(jws) FROM observation") } == 0)
    }
}
