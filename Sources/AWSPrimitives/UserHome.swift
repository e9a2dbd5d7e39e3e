import Foundation

/// The user's home folder (`~`), as the SDKs find it: `HOME` in the environment a component
/// was given, else the process's own `HOME`, else the account's entry in the user database.
/// A component handed an environment without `HOME` (a test's, a reload's) thus lands where
/// the process was told to, not in the account's real home behind its back.
public enum UserHome {
    public static func path(environment: [String: String]) -> String {
        for candidate in [environment["HOME"], ProcessInfo.processInfo.environment["HOME"]] {
            if let home = candidate, !home.isEmpty { return home }
        }
        return NSHomeDirectory()
    }
}
