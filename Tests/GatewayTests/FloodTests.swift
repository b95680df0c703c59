import Crypto
import Foundation
import Gateway
import Journal
import MQTTIngest
import Processing
import Testing

/// Issue #18 items 5 and 6: one device's oversized payloads or hostile topic names must not
/// reach the journal whole, nor stop the other devices.
@Suite("One device does not stop a ward (real mosquitto)", .serialized)
struct FloodTests {
    static let good = Array("{\"ts\": 1763719200000, \"hr\": 71, \"spo2\": 98}".utf8)

    @Test("a payload over the profile's limit is dead-lettered as a prefix, its SHA-256 and length; never journaled whole")
    func oversizedPayloadIsNeverJournaledWhole() async throws {
        let ward = try await TestWard("oversized")
        let gateway = ward.gateway
        let sender = try await ward.sender("big-sender")
        defer { sender.stop() }
        // Four 1 MiB payloads (the profile's limit is 64 KiB), each different, between good readings.
        var big: [[UInt8]] = []
        for i in 0..<4 {
            let payload = Array("{\"ts\": 1763719200000, \"pad\": \"\(String(repeating: Character(UnicodeScalar(UInt8(97 + i))), count: 1 << 20))\"}".utf8)
            big.append(payload)
            try sender.publish(topic: "wards/w/devices/big-1/vitals", payload: payload)
            try sender.publish(topic: "wards/w/devices/good-\(i)/vitals", payload: Self.good)
        }
        #expect(await sender.waitForPublishes(timeout: .seconds(60)))
        let processed = try await TestSupport.eventually(timeout: .seconds(30)) {
            let stats = try gateway.journal.statistics()
            return stats.deadLetters == 4 && stats.observations == 4 * 2
        }
        #expect(processed)
        var largest = 0
        try gateway.journal.forEachInboxRecord { largest = max(largest, $0.payload.count) }
        #expect(largest <= 65_536, "an inbox record of \(largest) bytes was journaled")
        let letters = try gateway.journal.deadLetters()
        #expect(letters.count == 4)
        for letter in letters {
            #expect(letter.letter.kind == "oversized")
            #expect(letter.letter.deviceId == "big-1")
            let record = try #require(try gateway.journal.inboxRecord(seq: letter.letter.inboxSeq))
            let original = try #require(big.first { Array($0.prefix(record.payload.count)) == record.payload && !record.payload.isEmpty })
            // The evidence: a bounded prefix of the bytes, and the length and digest of all of them.
            #expect(record.payload.count <= 4096)
            #expect(record.cut?.payloadBytes == original.count)
            #expect(record.cut?.payloadSHA256 == SHA256.hash(data: original).map { String(format: "%02x", $0) }.joined())
            #expect(letter.letter.reason.contains("\(original.count) bytes"))
        }
        let snapshot = gateway.metrics.snapshot()
        #expect(snapshot["wardgate_dead_letters_total{kind=\"oversized\"}"] == 4)
        #expect(snapshot["wardgate_messages_cut_total{reason=\"oversized\"}"] == 4)
        await ward.finish()
    }

    @Test("2,000 distinct long topics: refused at the router, no oversized row, the log throttle's keys stay bounded")
    func floodOfDistinctLongTopics() async throws {
        let ward = try await TestWard("topics")
        let gateway = ward.gateway
        let sender = try await ward.sender("topic-flooder")
        defer { sender.stop() }
        let flood = 2_000
        for i in 0..<flood {
            // A distinct 8 KiB device segment per topic; every 100th message a good device.
            let segment = "d\(i)-" + String(repeating: "x", count: 8 << 10)
            try sender.publish(topic: "wards/w/devices/\(segment)/vitals", payload: Self.good)
            if i % 100 == 0 { try sender.publish(topic: "wards/w/devices/good-\(i)/vitals", payload: Self.good) }
            if i % 200 == 199 { _ = await sender.waitForPublishes(timeout: .seconds(60)) }
        }
        #expect(await sender.waitForPublishes(timeout: .seconds(30)))
        let goodDevices = flood / 100
        let processed = try await TestSupport.eventually(timeout: .seconds(60)) {
            let stats = try gateway.journal.statistics()
            return stats.deadLetters == flood && stats.observations == goodDevices * 2
        }
        #expect(processed)
        var longestTopic = 0
        try gateway.journal.forEachInboxRecord { longestTopic = max(longestTopic, $0.topic.utf8.count) }
        #expect(longestTopic <= 512, "an inbox topic of \(longestTopic) bytes was journaled")
        var longestLetterTopic = 0, longestDevice = 0
        for letter in try gateway.journal.deadLetters(limit: flood) {
            longestLetterTopic = max(longestLetterTopic, letter.letter.topic.utf8.count)
            longestDevice = max(longestDevice, letter.letter.deviceId?.utf8.count ?? 0)
            #expect(letter.letter.kind == "topic_too_long" || letter.letter.kind == "device_id_too_long")
        }
        #expect(longestLetterTopic <= 512)
        #expect(longestDevice <= 128)
        #expect(gateway.logThrottleKeys <= LogThrottle.defaultCapacity)
        let snapshot = gateway.metrics.snapshot()
        #expect(snapshot.total("wardgate_messages_cut_total") == Double(flood))
        await ward.finish()
    }
}
