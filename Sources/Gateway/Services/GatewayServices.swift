import FabricLedger
import Logging
import ServiceLifecycle

extension Gateway {
    /// The gateway's long-running parts as services, in start order. A service group shuts them
    /// down in reverse: ingest stops first (its commit in flight completes), the loops stop,
    /// the processor drains what was journaled, the batcher cuts a last partial batch, the
    /// forwarder finishes the batch in flight (what is not sent waits in the outbox for the next
    /// start), the Fabric connections close, and the journal closes last.
    ///
    /// Every one ends on graceful shutdown; one that ends before (the Fabric connections when
    /// the peer goes away) leaves the others running.
    public func services() -> [ServiceGroupConfiguration.ServiceConfiguration] {
        var stages = [journalStage()]
        if let fabric { stages.append(fabricStage(fabric)) }
        if let forwarder {
            stages.append(StageService("ledger forwarder", logger: logger) { await forwarder.run() })
        }
        stages.append(StageService("ledger batcher", logger: logger, finish: { [batcher] in try batcher.cutDueBatches(force: true) }) { [batcher] in
            await batcher.run()
        })
        stages.append(processorStage())
        if let retention = [config.retention, config.deadLetterRetention].compactMap({ $0 }).min() {
            stages.append(StageService("retention", logger: logger) { [self] in await pruneLoop(retention: retention) })
        }
        stages.append(StageService("integrity check", logger: logger) { [self, interval = config.integrityCheckInterval] in
            await integrityLoop(interval: interval)
        })
        stages.append(StageService("memory trimmer", logger: logger) { await MemoryTrimmer.run() })
        stages.append(ingestStage())
        return stages.map { .init(service: $0, successTerminationBehavior: .ignore) }
    }

    /// Waits for the shutdown, then closes the journal (checkpointing its WAL).
    private func journalStage() -> StageService {
        StageService("journal", logger: logger, ending: .byItself, finish: { [self] in
            do {
                try journal.close()
            } catch {
                StageService.logStopFailure(error, logger: logger)
            }
            stopped.store(true, ordering: .releasing)
            logger.info("wardgate stopped")
        }) {
            try? await gracefulShutdown()
        }
    }

    /// The gRPC connections, running since the start-up head check if it ran (`checkLedgerAtStart`).
    private func fabricStage(_ fabric: FabricLedger) -> StageService {
        StageService("Fabric connections", logger: logger, ending: .byItself, onShutdown: { fabric.shutdown() }) { [self] in
            startLedgerConnections()
            guard let connections = fabricConnections.withLock({ $0 }) else { return }
            await withTaskCancellationHandler { await connections.value } onCancel: { connections.cancel() }
        }
    }

    /// Processes what an earlier run left in the inbox and what ingest journals; drains it all at the end.
    private func processorStage() -> StageService {
        StageService("processor", logger: logger, finish: { [processor] in try processor.drain() }) { [processor, wake] in
            // Woken once cancelled, so it sees the cancellation at once rather than after its
            // next 200 ms wait (a timer that never fires under a faked clock).
            await withTaskCancellationHandler { await processor.run() } onCancel: { wake.signal() }
        }
    }

    /// Connects to the broker and journals what it delivers; on shutdown it stops taking
    /// messages, and the commit in flight completes first.
    private func ingestStage() -> StageService {
        StageService("MQTT ingest", logger: logger, ending: .byItself, finish: { [client] in client.stop() }) { [self] in
            client.start()
            logger.info("wardgate started", metadata: [
                "gateway": "\(config.gatewayId)", "profiles": "\(runtime.profiles.profiles.map(\.id))",
                "journal": "\(journal.path)", "durability": "\(config.durability.rawValue)",
            ])
            try? await gracefulShutdown()
        }
    }
}
