// CSI: CSI v1 messages as Swift values, protobuf-c conversion, typed clients and a typed server.
