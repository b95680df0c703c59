import Foundation
import Journal
import Simulation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `wardgate run` as a child process, so the test can kill it with SIGKILL.
final class GatewayProcess {
    let process = Process()
    let logPath: String

    init(configPath: String, logPath: String) throws {
        self.logPath = logPath
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        process.executableURL = URL(fileURLWithPath: TestSupport.wardgateBinary)
        process.arguments = ["run", "--config", configPath]
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardError = log
        process.standardOutput = log
        try process.run()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func waitUntilSubscribed(connectNumber: Int = 1) async -> Bool {
        await TestSupport.eventually(timeout: .seconds(60)) {
            log.components(separatedBy: "MQTT connected").count - 1 >= connectNumber
        }
    }

    func kill() {
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func terminate() -> Int32 {
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

@Suite("Crash recovery with the real daemon", .serialized)
struct CrashRecoveryTests {
    @Test("SIGKILL while 10,000 messages flow, then restart: every delivered message lands exactly once")
    func killNineWhileMessagesFlow() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: TestSupport.wardgateBinary), "build the wardgate executable first")
        let directory = TestSupport.temporaryDirectory("kill9")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let broker = try PrivateBroker.start(directory: directory + "/broker", maxQueuedMessages: 100_000)
        defer { broker.stop() }
        let configPath = try TestSupport.writeConfigFile(directory: directory, brokerPort: broker.port, clientId: "wardgate-kill9")
        let logPath = directory + "/gateway.log"

        let first = try GatewayProcess(configPath: configPath, logPath: logPath)
        #expect(await first.waitUntilSubscribed())

        let devices = 10, rounds = 1000
        let recorder = PublishRecorder()
        // SIGKILL from the publisher's own progress: a third of the way in, so the kill lands
        // while messages flow however busy the machine is.
        let killed = Atomic<Bool>(false)
        let firstPid = first.process.processIdentifier
        let publishing = Task {
            try await recorder.publish(port: broker.port, devices: devices, rounds: rounds, roundsPerSecond: 400) { round in
                if round == rounds / 3, !killed.exchange(true, ordering: .relaxed) { Glibc.kill(firstPid, SIGKILL) }
            }
        }
        let journal = try TestSupport.openJournal(directory + "/state")
        #expect(await TestSupport.eventually(timeout: .seconds(60)) { killed.load(ordering: .relaxed) })
        first.process.waitUntilExit()
        #expect(first.process.terminationReason == .uncaughtSignal)
        let journaledAtKill = try journal.statistics().inboxRecords
        #expect(journaledAtKill < devices * rounds, "the kill must land while messages still flow")

        let second = try GatewayProcess(configPath: configPath, logPath: logPath)
        #expect(await second.waitUntilSubscribed(connectNumber: 2))
        try await publishing.value
        #expect(recorder.published.count == devices * rounds)

        let complete = try await TestSupport.eventually(timeout: .seconds(120)) {
            let stats = try journal.statistics()
            return stats.observations >= devices * rounds * 5 && stats.pendingRecords == 0
        }
        #expect(complete)
        #expect(second.terminate() == 0)

        let stats = try journal.statistics()
        #expect(stats.observations == devices * rounds * 5)
        #expect(stats.deadLetters == 0)
        // Redeliveries after the crash may add raw inbox records, never Observations.
        #expect(stats.inboxRecords >= devices * rounds)
        let counts = try journal.observationCountsByDeviceAndTime()
        #expect(Set(counts.keys) == recorder.published)
        #expect(counts.values.allSatisfy { $0 == 5 })
    }

    @Test("SIGTERM under load: the daemon stops cleanly, restarts, and every message lands exactly once")
    func sigtermUnderLoad() async throws {
        let directory = TestSupport.temporaryDirectory("sigterm-load")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let broker = try PrivateBroker.start(directory: directory + "/broker", maxQueuedMessages: 100_000)
        defer { broker.stop() }
        let configPath = try TestSupport.writeConfigFile(directory: directory, brokerPort: broker.port, clientId: "wardgate-sigterm-load")
        let logPath = directory + "/gateway.log"
        let first = try GatewayProcess(configPath: configPath, logPath: logPath)
        #expect(await first.waitUntilSubscribed())

        let devices = 8, rounds = 400
        let recorder = PublishRecorder()
        let stopped = Atomic<Bool>(false)
        let pid = first.process.processIdentifier
        let publishing = Task {
            try await recorder.publish(port: broker.port, devices: devices, rounds: rounds, roundsPerSecond: 200) { round in
                if round == rounds / 3, !stopped.exchange(true, ordering: .relaxed) { Glibc.kill(pid, SIGTERM) }
            }
        }
        first.process.waitUntilExit()
        #expect(first.process.terminationStatus == 0)
        #expect(first.log.contains("wardgate stopped"))

        let second = try GatewayProcess(configPath: configPath, logPath: logPath)
        #expect(await second.waitUntilSubscribed(connectNumber: 2))
        try await publishing.value
        let journal = try TestSupport.openJournal(directory + "/state")
        let complete = try await TestSupport.eventually(timeout: .seconds(90)) {
            let stats = try journal.statistics()
            return stats.observations >= devices * rounds * 5 && stats.pendingRecords == 0
        }
        #expect(complete)
        #expect(second.terminate() == 0)
        let counts = try journal.observationCountsByDeviceAndTime()
        #expect(Set(counts.keys) == recorder.published)
        #expect(counts.values.allSatisfy { $0 == 5 })
    }

    @Test("SIGTERM stops the daemon cleanly with exit status 0")
    func sigtermStopsCleanly() async throws {
        let directory = TestSupport.temporaryDirectory("sigterm")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let broker = try PrivateBroker.start(directory: directory + "/broker")
        defer { broker.stop() }
        let configPath = try TestSupport.writeConfigFile(directory: directory, brokerPort: broker.port, clientId: "wardgate-term")
        let gateway = try GatewayProcess(configPath: configPath, logPath: directory + "/gateway.log")
        #expect(await gateway.waitUntilSubscribed())
        #expect(gateway.terminate() == 0)
        #expect(gateway.log.contains("wardgate stopped"))
    }

    @Test("an invalid profile stops the daemon at startup with the file and field named")
    func invalidProfileRefusesToStart() throws {
        let directory = TestSupport.temporaryDirectory("badprofile")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/profiles", withIntermediateDirectories: true)
        try "id: broken\ndescription: x\ntopic: a/{device}\nformat: json\nmetrics:\n  - {pointer: /hr, mdc: MDC_NOPE, unit: /min}\n"
            .write(toFile: directory + "/profiles/broken.yml", atomically: true, encoding: .utf8)
        try "gateway: {id: t, stateDirectory: ./state}\nprofiles: {directory: ./profiles}\n"
            .write(toFile: directory + "/wardgate.yml", atomically: true, encoding: .utf8)
        let gateway = try GatewayProcess(configPath: directory + "/wardgate.yml", logPath: directory + "/gateway.log")
        gateway.process.waitUntilExit()
        #expect(gateway.process.terminationStatus == 1)
        #expect(gateway.log.contains("broken.yml: metrics[0].mdc: unknown metric \"MDC_NOPE\""))
    }
}
