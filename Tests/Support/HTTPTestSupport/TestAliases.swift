// HTTPTestSupport: the names tests have always used for the loopback HTTPS server, which now lives in the product-level
// module LocalHTTPS (the local control plane stands on it).
@_exported public import LocalHTTPS

public typealias TestHTTPSServer = LocalHTTPSServer
public typealias TestHTTPRequest = LocalHTTPRequest
public typealias TestHTTPResponder = LocalHTTPResponder
public typealias TestCertificates = LocalCertificates
public typealias TestServerError = LocalServerError
