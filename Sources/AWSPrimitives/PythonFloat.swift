/// Python's `repr(float)`: shortest round-trip digits, exponent form when the decimal
/// exponent is below -4 or at least 16, and always a `.0` on whole numbers.
public func pythonFloatRepr(_ d: Double) -> String {
    if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
    // Swift's description gives the shortest round-trip digits; re-lay them out
    // with Python's thresholds.
    let swift = d.description
    var mantissaDigits = ""
    var exponent = 0
    var negative = false
    var text = Substring(swift)
    if text.hasPrefix("-") {
        negative = true
        text = text.dropFirst()
    }
    var exponentPart: Substring = ""
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        exponentPart = text[text.index(after: e)...]
        text = text[..<e]
    }
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    let intPart = String(parts[0])
    let fracPart = parts.count > 1 ? String(parts[1]) : ""
    mantissaDigits = intPart + fracPart
    // value = 0.mantissaDigits * 10^(intPart.count + exp)
    exponent = intPart.count + (Int(exponentPart) ?? 0)
    // Strip leading zeros (adjusting the exponent) and trailing zeros.
    while mantissaDigits.hasPrefix("0") {
        mantissaDigits.removeFirst()
        exponent -= 1
    }
    while mantissaDigits.hasSuffix("0") { mantissaDigits.removeLast() }
    if mantissaDigits.isEmpty { return negative ? "-0.0" : "0.0" }
    let decimalExponent = exponent - 1  // scientific exponent: d.ddd × 10^decimalExponent
    var result = negative ? "-" : ""
    if decimalExponent < -4 || decimalExponent >= 16 {
        result += String(mantissaDigits.first!)
        let rest = mantissaDigits.dropFirst()
        if !rest.isEmpty { result += "." + rest }
        result += "e" + (decimalExponent < 0 ? "-" : "+")
        let magnitude = abs(decimalExponent)
        result += magnitude < 10 ? "0\(magnitude)" : "\(magnitude)"
    } else if exponent <= 0 {
        result += "0." + String(repeating: "0", count: -exponent) + mantissaDigits
    } else if exponent >= mantissaDigits.count {
        result += mantissaDigits + String(repeating: "0", count: exponent - mantissaDigits.count) + ".0"
    } else {
        let split = mantissaDigits.index(mantissaDigits.startIndex, offsetBy: exponent)
        result += mantissaDigits[..<split] + "." + mantissaDigits[split...]
    }
    return result
}
