/// The version, and the botocore release whose models and behaviour awsgw follows
/// (scripts/setup.sh pins the same one; a test checks that they agree).
public enum AWSGWVersion {
    public static let awsgw = "0.2.0"
    public static let botocore = "1.44.5"
    /// What awsgw's requests to AWS say they come from.
    public static let userAgent = "awsgw/\(awsgw)"
}
