// GRPCTransport: unary gRPC over the gRPC core C API. Knows nothing of CSI.
