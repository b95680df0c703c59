import Foundation
import Gateway
import Journal

extension BenchSession {
    /// Every published reading against the journal (lost, duplicated, redelivered), through the
    /// journal's and the leaf index's public queries; the latencies of the measured window.
    func accountForEveryReading(into result: inout BenchResult, window: Window) throws -> JournalStatistics {
        let samples = poller.all
        let published = log.all
        var firstSeq: [PublishLog.Key: (seq: Int64, receivedMs: Int64)] = [:]
        var counts: [PublishLog.Key: Int] = [:]
        var lastLeaf: [PublishLog.Key: Int64] = [:]
        var redeliveries = 0
        try gateway.journal.forEachInboxRecord { record in
            guard let key = devices.readingKey(topic: record.topic, payload: record.payload) else { return }
            if firstSeq[key] == nil { firstSeq[key] = (seq: record.seq, receivedMs: record.receivedAtMs) } else { redeliveries += 1 }
        }
        result.redeliveries += redeliveries
        for (reading, count) in try gateway.journal.observationCountsByReading() {
            counts[PublishLog.Key(deviceId: reading.deviceId, deviceTimeMs: reading.effectiveAtMs)] = count
        }
        for (reading, leaf) in try gateway.log.leafIndex.lastLeafIndexByReading() {
            lastLeaf[PublishLog.Key(deviceId: reading.deviceId, deviceTimeMs: reading.effectiveAtMs)] = Int64(leaf)
        }
        let logged = try gateway.log.leafIndex.loggedObservationCount()
        let stats = try gateway.journal.statistics()
        result.inboxRecords = stats.inboxRecords
        result.observations = stats.observations
        result.signedObservations = stats.signed
        result.loggedObservations = logged
        let perReading = devices.observationsPerReading
        var durable: [Double] = [], received: [Double] = [], signed: [Double] = [], anchored: [Double] = []
        for round in published {
            for deviceId in log.deviceIds {
                let key = PublishLog.Key(deviceId: deviceId, deviceTimeMs: round.deviceTimeMs)
                let publishMs = round.publishMs
                let n = counts[key] ?? 0
                if n < perReading { result.lost += 1 }
                if n > perReading { result.duplicated += 1 }
                guard publishMs >= window.start, publishMs <= window.end, let first = firstSeq[key] else { continue }
                received.append(Double(first.receivedMs) - publishMs)
                if let t = CommitPoller.firstTime(first.seq, in: samples, key: \.inbox) { durable.append(t - publishMs) }
                if let t = CommitPoller.firstTime(first.seq, in: samples, key: \.processed) { signed.append(t - publishMs) }
                // Anchored once a receipt covers the reading's last leaf.
                if let leaf = lastLeaf[key], let t = CommitPoller.firstTime(leaf + 1, in: samples, key: \.anchored) { anchored.append(t - publishMs) }
            }
        }
        // Readings in the journal that nobody published (should not happen).
        let publishedTimes = Set(published.map(\.deviceTimeMs))
        let publishedDevices = Set(log.deviceIds)
        result.duplicated += counts.keys.filter { !publishedTimes.contains($0.deviceTimeMs) || !publishedDevices.contains($0.deviceId) }.count
        if stats.signed != stats.observations { result.notes.append("\(stats.observations - stats.signed) Observations are not signed") }
        if logged != stats.observations { result.notes.append("\(stats.observations - logged) Observations have no log leaf") }
        result.durable = .of(durable)
        result.received = .of(received)
        result.signed = .of(signed)
        result.anchored = .of(anchored)
        return stats
    }
}
