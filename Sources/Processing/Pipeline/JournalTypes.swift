import DeviceProfiles
import Journal

// The IEEE11073 module has types of the same names; this file sees only the pipeline's own.
typealias JournalDeadLetter = DeadLetter
typealias PayloadDecodeError = DecodeError
