import AWSJSON
import AWSProtocols
import AWSSigning
import Foundation

/// botocore's `inject_presigned_url_ec2` and `inject_presigned_url_rds` (for the services whose
/// customization names the operation): a copy from
/// another region carries a URL, presigned for the source region, that lets the service
/// read the source on the caller's behalf. The URL is the request itself as a GET with
/// `DestinationRegion` added, its host the request's with the destination region replaced
/// by the source region, valid for an hour.
public enum CrossRegionCopy {
    public enum Style: Sendable {
        /// EC2 `CopySnapshot`: `SourceRegion` is modeled and stays; `PresignedUrl` and
        /// `DestinationRegion` are added unless the caller gave `PresignedUrl`.
        case ec2
        /// RDS, Neptune and DocumentDB: `SourceRegion` is the SDKs' own member, always
        /// removed; `PreSignedUrl` is added unless the caller gave one.
        case rds
    }

    /// The request body with the handler's changes. `presign` turns the source-region URL
    /// and its query fields into a presigned URL; nil (no credentials, a dry run) leaves
    /// the URL out.
    static func apply(
        _ style: Style, body: [UInt8], requestURL: String, destinationRegion: String,
        presign: (_ url: String, _ query: [(key: String, value: String)], _ sourceRegion: String) -> String?
    ) -> [UInt8] {
        guard var form = FormBody(decoding: body) else { return body }
        switch style {
        case .ec2:
            guard form["PresignedUrl"] == nil, let source = form["SourceRegion"] else { return body }
            if let url = presigned(form, requestURL, source, destinationRegion, presign) { form.set("PresignedUrl", url) }
            form.set("DestinationRegion", destinationRegion)
        case .rds:
            guard let source = form["SourceRegion"] else { return body }
            form.remove("SourceRegion")
            if form["PreSignedUrl"] == nil, let url = presigned(form, requestURL, source, destinationRegion, presign) {
                form.set("PreSignedUrl", url)
            }
        }
        return form.encoded()
    }

    private static func presigned(
        _ form: FormBody, _ requestURL: String, _ source: String, _ destination: String,
        _ presign: (String, [(key: String, value: String)], String) -> String?
    ) -> String? {
        var query = form
        query.set("DestinationRegion", destination)
        // botocore replaces every occurrence, as Python's str.replace does.
        let url = destination.isEmpty ? requestURL : requestURL.replacingOccurrences(of: destination, with: source)
        return presign(url, query.fields, source)
    }
}
