/// Parsers for the human-friendly scalars used in configuration files.
public enum ScalarFormats {
    public static func duration(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, seconds) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            // "ms" ends in "s" too: make sure "500ms" is not read as "500m" + "s".
            if suffix == "s" && number.hasSuffix("m") { continue }
            guard let value = Double(number), value.isFinite, value >= 0 else { return nil }
            return .milliseconds(Int64((value * seconds * 1000).rounded()))
        }
        return nil
    }

    public static func byteCount(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40), ("B", 1)]
        for (suffix, multiplier) in units where text.hasSuffix(suffix) {
            guard let value = Double(text.dropLast(suffix.count)), value.isFinite, value > 0 else { return nil }
            return Int64(value * Double(multiplier))
        }
        guard let plain = Int64(text), plain > 0 else { return nil }
        return plain
    }
}
