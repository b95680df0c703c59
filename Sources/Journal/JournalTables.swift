import GRDB

/// Tables another module keeps in the journal file (the Merkle log's leaf index and tiles, the
/// ledger outbox), with their migrations. The journal runs one migrator: its own migrations
/// first, then every owner's, in the order the owners are given to `Journal.init`. A migration
/// identifier that shipped keeps its name forever, whichever module owns it now, so journals
/// written by earlier versions open unchanged.
public struct JournalTables: Sendable {
    /// Names the owner in errors ("the journal was opened without the tables of …").
    public let owner: String
    package let register: @Sendable (inout DatabaseMigrator) -> Void

    package init(owner: String, register: @escaping @Sendable (inout DatabaseMigrator) -> Void) {
        self.owner = owner
        self.register = register
    }
}

/// A transaction on the journal file, handed to the modules that own tables in it so their rows
/// commit or roll back with the journal's own (`Journal.commitProcessed`, `Journal.write`).
/// Outside the package it is opaque: nothing there sees SQL or GRDB.
public struct JournalTransaction {
    package let database: Database

    package init(_ database: Database) { self.database = database }
}
