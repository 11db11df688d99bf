# Ferry's container image: `ferry controller` (the sidecar / standalone controller), `ferry populate` (the populator
# pods) and the operator commands, in one binary.
#
# Build stage: Swift 6.3 on Debian 12 with the C libraries' headers; the Swift standard library and Foundation are
# linked statically, so the runtime image needs only Debian's shared C libraries.
FROM swift:6.3-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      pkg-config libssl-dev zlib1g-dev libzstd-dev liblz4-dev libcurl4-openssl-dev \
      libgrpc-dev libprotobuf-c-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN swift build -c release --static-swift-stdlib --product ferry \
 && install -D -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/ferry" /out/ferry

# Runtime stage: slim Debian with only the runtime libraries the binary links (tested by
# Tests/ImageTests: every library `ldd` reports belongs to these packages or their dependencies, and the binary
# starts in a root filesystem that holds nothing else).
FROM debian:bookworm-slim
# RUNTIME-PACKAGES (read by the image test; keep on one line)
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libgrpc29 libprotobuf-c1 libssl3 libzstd1 liblz4-1 libcurl4 zlib1g ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ferry /usr/local/bin/ferry
# Non-root by default (the controller needs no privileges). Populator pods run as root with only the capabilities
# a restore needs (CHOWN, FOWNER, DAC_OVERRIDE, FSETID) — set by the controller on the pod, not here.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/ferry"]
CMD ["--help"]
