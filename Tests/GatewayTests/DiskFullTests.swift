import Foundation
import Gateway
import Simulation
import Testing
import WardgateTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A full disk (issue #18, operator experience): the operator is told "disk full" with the path
/// and the bytes free, the checkpoint alarm does not flood the log, and no internal message
/// ("re-open the tree") reaches it. The state directory is a small tmpfs, filled by real messages.
@Suite("Disk full on a tmpfs", .serialized)
struct DiskFullTests {
    @Test("/readyz says disk full with the state directory and the bytes free; the checkpoint alarm is logged at most once a minute",
          .enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
    func diskFullIsSaid() async throws {
        let ward = try LedgerWard("disk-full", devices: 1)
        defer { ward.remove() }
        let state = ward.directory + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let mount = try ProcessRunner.run("/bin/mount", ["-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", state])
        try #require(mount.status == 0, "\(mount.output)")
        defer { _ = try? ProcessRunner.run("/bin/umount", ["-l", state]) }
        let broker = try PrivateBroker.start(directory: ward.directory + "/broker")
        defer { broker.stop() }
        let httpPort = try FreePort.find()
        let configPath = try ward.writeConfigFile(brokerPort: broker.port, clientId: "wardgate-disk-full", httpPort: httpPort)
        let daemon = try GatewayProcess(configPath: configPath, logPath: ward.directory + "/gateway.log")
        #expect(await daemon.waitUntilSubscribed())

        // Signed readings from the enrolled device between 50 KB fillers: the disk fills with
        // leaves waiting for their checkpoint.
        var device = try #require(SimulatedWard.devices(count: 1, seed: ward.seed).first)
        let sender = try SimulatedWard(devices: [], brokerPort: broker.port, logger: TestSupport.quietLogger)
        defer { sender.stop() }
        #expect(await sender.waitUntilConnected(timeout: .seconds(60)))
        let filler = Array("{\"ts\": 1763719200000, \"hr\": 72, \"note\": \"\(String(repeating: "x", count: 50_000))\"}".utf8)
        for round in 0..<100 {
            try sender.publish(topic: "wards/w/devices/filler-\(round % 4)/vitals", payload: filler)
            try sender.publish(topic: device.topic, payload: device.nextPayload(at: Date().addingTimeInterval(Double(round))))
        }
        var body = ""
        let said = await TestSupport.eventuallyAsync(timeout: .seconds(60)) {
            body = (try? await PlainHTTP.get(port: httpPort, path: "/readyz"))?.body ?? ""
            return body.contains("disk full")
        }
        #expect(said, "\(body)\n\(daemon.log.suffix(3000))")
        #expect(body.contains("disk full: \(state) has ") && body.contains(" bytes free"), "\(body)")
        #expect(!body.contains("\"writable\""), "\(body)")
        // Every 50 ms batcher tick fails on the full disk; one alarm line a minute.
        try await Task.sleep(for: .seconds(2))
        let log = daemon.log
        #expect(log.components(separatedBy: "ALARM: no checkpoint signed").count - 1 <= 1, "\(log.suffix(3000))")
        #expect(!log.contains("re-open the tree"), "\(log.suffix(3000))")
        _ = daemon.terminate()
    }
}
