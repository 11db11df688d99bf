// CurlHTTP: the one libcurl wrapper below both Kube (API server) and Kopia (S3).
// Neither of those modules talks to libcurl directly.
