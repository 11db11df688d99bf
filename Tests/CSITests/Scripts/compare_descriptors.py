#!/usr/bin/env python3
"""Compares two csi.proto files by their protoc descriptor sets.

Every message and field defined in OURS must exist in REFERENCE with the same full name, number, type, type
name, label and oneof membership (REFERENCE may define more). Prints one line per mismatch and a summary;
exits 1 on any mismatch. Usage: compare_descriptors.py OURS REFERENCE
"""
import os
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2


def load(proto_path, out_dir, tag):
    out = os.path.join(out_dir, tag + ".pb")
    subprocess.run(["protoc", "-I", os.path.dirname(os.path.abspath(proto_path)), "-I/usr/include",
                    "--descriptor_set_out=" + out, os.path.abspath(proto_path)], check=True)
    fds = descriptor_pb2.FileDescriptorSet()
    with open(out, "rb") as fh:
        fds.ParseFromString(fh.read())
    return fds.file[0]


def messages(file):
    result = {}

    def walk(m, prefix):
        full = prefix + m.name
        oneofs = [o.name for o in m.oneof_decl]
        result[full] = {f.name: (f.number, f.type, f.type_name, f.label,
                                 oneofs[f.oneof_index] if f.HasField("oneof_index") else None)
                        for f in m.field}
        for n in m.nested_type:
            walk(n, full + ".")

    for m in file.message_type:
        walk(m, file.package + ".")
    return result


def main():
    with tempfile.TemporaryDirectory() as tmp:
        ours, ref = load(sys.argv[1], tmp, "ours"), load(sys.argv[2], tmp, "ref")
    problems = []
    if ours.package != ref.package:
        problems.append(f"package {ours.package} != {ref.package}")
    om, rm = messages(ours), messages(ref)
    fields = 0
    for name, fs in sorted(om.items()):
        if name not in rm:
            problems.append(f"message {name} is not in the reference")
            continue
        for fname, spec in sorted(fs.items()):
            fields += 1
            if fname not in rm[name]:
                problems.append(f"field {name}.{fname} is not in the reference")
            elif rm[name][fname] != spec:
                problems.append(f"field {name}.{fname}: ours (number, type, type_name, label, oneof) = {spec}, "
                                f"reference = {rm[name][fname]}")
    services = {s.name: [(m.name, m.input_type, m.output_type) for m in s.method] for s in ours.service}
    ref_services = {s.name: {m.name: (m.name, m.input_type, m.output_type) for m in s.method} for s in ref.service}
    for sname, methods in services.items():
        for m in methods:
            if ref_services.get(sname, {}).get(m[0]) != m:
                problems.append(f"rpc {sname}.{m[0]} differs from the reference")
    for p in problems:
        print(p)
    print(f"compared {len(om)} messages, {fields} fields, {sum(map(len, services.values()))} rpcs: "
          f"{len(problems)} mismatches")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
