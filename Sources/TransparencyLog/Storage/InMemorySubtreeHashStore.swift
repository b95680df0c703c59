import Synchronization

/// Keeps tiles in memory; for tests, tools and short-lived trees.
public final class InMemorySubtreeHashStore: SubtreeHashStore {
    private struct Contents: Sendable {
        var size: UInt64 = 0
        var tiles: [TileID: [MerkleHash]] = [:]
    }

    private let contents = Mutex(Contents())
    /// Serializes write transactions, as a database writer would.
    private let writeLock = Mutex(())

    public init() {}

    public func read<Result>(_ body: (any TreeStorageReader) throws -> Result) throws -> Result {
        try body(Reader(store: self))
    }

    public func write<Result: Sendable>(_ body: (any TreeStorageTransaction) throws -> Result) throws -> Result {
        let (result, transaction) = try writeLock.withLock { _ in
            let transaction = Transaction(store: self)
            do {
                let result = try body(transaction)
                transaction.commit()
                return (result, transaction)
            } catch {
                transaction.finish(committed: false, storedSize: nil)
                throw error
            }
        }
        transaction.finish(committed: true, storedSize: contents.withLock { $0.size })
        return result
    }

    private struct Reader: TreeStorageReader {
        let store: InMemorySubtreeHashStore
        func persistedSize() -> UInt64 { store.contents.withLock { $0.size } }
        func tile(_ id: TileID) -> [MerkleHash]? { store.contents.withLock { $0.tiles[id] } }
    }

    /// Stages writes and applies them all at commit.
    private final class Transaction: TreeStorageTransaction, Sendable {
        let store: InMemorySubtreeHashStore
        private let staged = Mutex<(updates: [TreeUpdate], handlers: [@Sendable (Bool, UInt64?) -> Void])>(([], []))

        init(store: InMemorySubtreeHashStore) {
            self.store = store
        }

        func persistedSize() -> UInt64 {
            staged.withLock { $0.updates.last?.newSize } ?? store.contents.withLock { $0.size }
        }

        func tile(_ id: TileID) -> [MerkleHash]? {
            let stagedTile = staged.withLock { staged in
                staged.updates.reversed().lazy.compactMap { $0.tiles.first { $0.id == id }?.hashes }.first
            }
            return stagedTile ?? store.contents.withLock { $0.tiles[id] }
        }

        func persist(_ update: TreeUpdate) throws {
            let current = persistedSize()
            guard current == update.previousSize else {
                throw TransparencyLogError.storeOutOfSync(expectedSize: update.previousSize, storedSize: current)
            }
            staged.withLock { $0.updates.append(update) }
        }

        func onCompletion(_ handler: @escaping @Sendable (Bool, UInt64?) -> Void) {
            staged.withLock { $0.handlers.append(handler) }
        }

        func commit() {
            let updates = staged.withLock { $0.updates }
            store.contents.withLock { contents in
                for update in updates {
                    for tile in update.tiles {
                        contents.tiles[tile.id] = tile.hashes
                    }
                    contents.size = update.newSize
                }
            }
        }

        func finish(committed: Bool, storedSize: UInt64?) {
            let handlers = staged.withLock { staged in
                defer { staged.handlers = [] }
                return staged.handlers
            }
            for handler in handlers {
                handler(committed, storedSize)
            }
        }
    }
}
