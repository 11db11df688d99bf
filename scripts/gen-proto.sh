#!/usr/bin/env bash
# Regenerates the protoc-c output committed in Sources/CCSIProto and the Swift CSI layer in Sources/CSI/Generated from proto/csi.proto and the well-known types
# it imports (grpc-c.md §5). Usage:
#   scripts/gen-proto.sh          rewrite Sources/CCSIProto
#   scripts/gen-proto.sh --check  exit 1 (and show a diff) when the committed output is not current
# Needs protoc, protoc-c, the well-known .proto files (libprotobuf-dev) and Python's protobuf package
# (from grpcio-tools in scripts/requirements-test.txt); see scripts/setup.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="$root/Sources/CCSIProto"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

(cd "$root/proto" && protoc-c --c_out="$out" -I. csi.proto)
protoc-c --c_out="$out" -I/usr/include google/protobuf/timestamp.proto google/protobuf/wrappers.proto

# Layout SwiftPM wants: sources in the target root, headers under include/ (the modulemap is hand-written).
stage="$out/stage"
mkdir -p "$stage/include/google/protobuf" "$stage/google/protobuf"
mv "$out/csi.pb-c.c" "$stage/"
mv "$out/csi.pb-c.h" "$stage/include/"
for wkt in timestamp wrappers; do
  mv "$out/google/protobuf/$wkt.pb-c.c" "$stage/google/protobuf/"
  mv "$out/google/protobuf/$wkt.pb-c.h" "$stage/include/google/protobuf/"
done

# The Swift CSI layer (value types, protobuf-c conversion, clients, service protocols) from the descriptor set.
protoc -I"$root/proto" --include_imports --descriptor_set_out="$out/csi.pb" "$root/proto/csi.proto"
python3 "$root/scripts/gen-swift-csi.py" "$out/csi.pb" "$stage/include/csi.pb-c.h" "$stage/swift"

generated=(csi.pb-c.c include/csi.pb-c.h
  google/protobuf/timestamp.pb-c.c include/google/protobuf/timestamp.pb-c.h
  google/protobuf/wrappers.pb-c.c include/google/protobuf/wrappers.pb-c.h)
swift_target="$root/Sources/CSI/Generated"

if [ "${1:-}" = "--check" ]; then
  status=0
  for f in "${generated[@]}"; do
    if ! diff -u "$target/$f" "$stage/$f" >/dev/null 2>&1; then
      echo "gen-proto: $f is not current; run scripts/gen-proto.sh" >&2
      diff -u "$target/$f" "$stage/$f" | head -20 >&2 || true
      status=1
    fi
  done
  if ! diff -ru "$swift_target" "$stage/swift" >/dev/null 2>&1; then
    echo "gen-proto: Sources/CSI/Generated is not current; run scripts/gen-proto.sh" >&2
    diff -ru "$swift_target" "$stage/swift" | head -20 >&2 || true
    status=1
  fi
  exit "$status"
fi

for f in "${generated[@]}"; do
  mkdir -p "$(dirname "$target/$f")"
  cp "$stage/$f" "$target/$f"
done
rm -rf "$swift_target"
cp -r "$stage/swift" "$swift_target"
echo "gen-proto: wrote ${#generated[@]} files to Sources/CCSIProto and $(ls "$swift_target" | wc -l) to Sources/CSI/Generated"
