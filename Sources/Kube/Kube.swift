// Kube: a Kubernetes API client over CurlHTTP (config, resources, verbs, watch, informers, events, leases).
