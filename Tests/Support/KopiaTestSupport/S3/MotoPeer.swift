import Foundation
public import Kopia

/// boto3 as an independent S3 peer for test setup and read-back checks (boto3 ships with moto).
///
/// Commands are JSON objects with `op`:
/// - `setup-users`: create IAM users `ferry-admin` (s3:*) and `ferry-reader` (s3:GetObject, s3:ListBucket) and
///   return their keys (runs unauthenticated: moto's first requests are free, see `MotoServer`).
/// - `create-bucket` {bucket, region}
/// - `upload-repo` {bucket, prefix, dir}: a sharded filesystem repository → key = prefix + blob ID; returns count.
/// - `dump` {bucket, prefix}: [{key, size, contentType, sha256}] for every object under prefix.
/// - `put-many` {bucket, prefix, count}: count small objects named prefix + `p%032x-s0`.
public enum MotoPeer {
    /// Runs the commands in one `python3` process and returns one result per command.
    ///
    /// Blocks the calling thread while python runs (tests call it from `MotoServer`, which hops to a dedicated
    /// thread first). Input and output go through temporary files, not pipes, so a chatty peer cannot fill a pipe
    /// and deadlock.
    public static func run(endpoint: String, credentials: S3Credentials?, commands: [[String: Any]]) throws -> [Any] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-boto3-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let inURL = dir.appendingPathComponent("in.json"), outURL = dir.appendingPathComponent("out.json")
        let errURL = dir.appendingPathComponent("err.txt")
        try JSONSerialization.data(withJSONObject: commands).write(to: inURL)
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, endpoint]
        var env = ProcessInfo.processInfo.environment
        env["AWS_ACCESS_KEY_ID"] = credentials?.accessKeyID ?? "setup"
        env["AWS_SECRET_ACCESS_KEY"] = credentials?.secretAccessKey ?? "setup"
        env.removeValue(forKey: "AWS_SESSION_TOKEN")
        env["AWS_DEFAULT_REGION"] = "us-east-1"
        env["PYTHONWARNINGS"] = "ignore"
        process.environment = env
        process.standardInput = try FileHandle(forReadingFrom: inURL)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            throw TestServerError("boto3 peer failed (\(process.terminationStatus)): \(err.suffix(3000))")
        }
        guard let result = try JSONSerialization.jsonObject(with: Data(contentsOf: outURL)) as? [Any] else {
            throw TestServerError("boto3 peer printed no JSON list")
        }
        return result
    }

    /// `run` on a dedicated thread, so a waiting test never blocks Swift's cooperative pool.
    public static func runDetached(endpoint: String, credentials: S3Credentials?,
                                   commands: [[String: any Sendable]]) async throws -> [any Sendable] {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<[any Sendable], any Error>) in
            let thread = Thread {
                do {
                    let r = try run(endpoint: endpoint, credentials: credentials, commands: commands)
                    c.resume(returning: r.map { Box($0) })
                } catch {
                    c.resume(throwing: error)
                }
            }
            thread.start()
        }
    }

    /// Carries a JSON value (immutable once parsed) across the thread hop.
    public struct Box: @unchecked Sendable {  // JSONSerialization values are never mutated after parsing.
        public let value: Any
        init(_ value: Any) { self.value = value }
    }

    static let script = #"""
import hashlib, json, os, sys
from concurrent.futures import ThreadPoolExecutor
import boto3
from botocore.config import Config

endpoint = sys.argv[1]
cfg = Config(retries={"max_attempts": 2}, s3={"addressing_style": "path"}, max_pool_connections=16)
def client(service, region="us-east-1"):
    return boto3.client(service, endpoint_url=endpoint, region_name=region, verify=False, config=cfg)

def setup_users():
    iam = client("iam")
    out = {}
    for role, actions in (("admin", ["s3:*"]), ("reader", ["s3:GetObject", "s3:ListBucket"])):
        name = "ferry-" + role
        iam.create_user(UserName=name)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
        iam.put_user_policy(UserName=name, PolicyName="s3", PolicyDocument=json.dumps(doc))
        out[role] = {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}
    return out

def upload_repo(bucket, prefix, root):
    s3 = client("s3")
    jobs = []
    for d, _, files in os.walk(root):
        for f in files:
            if not f.endswith(".f"):
                continue
            rel = os.path.relpath(os.path.join(d, f), root)
            blob_id = rel[:-2].replace(os.sep, "")
            jobs.append((os.path.join(d, f), prefix + blob_id))
    def put(job):
        with open(job[0], "rb") as fh:
            s3.put_object(Bucket=bucket, Key=job[1], Body=fh.read(), ContentType="application/x-kopia")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, jobs))
    return len(jobs)

def dump(bucket, prefix):
    s3 = client("s3")
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            r = s3.get_object(Bucket=bucket, Key=o["Key"])
            body = r["Body"].read()
            out.append({"key": o["Key"], "size": len(body), "contentType": r.get("ContentType", ""),
                        "sha256": hashlib.sha256(body).hexdigest()})
    return out

def put_many(bucket, prefix, count):
    s3 = client("s3")
    def put(i):
        s3.put_object(Bucket=bucket, Key="%sp%032x-s0" % (prefix, i), Body=b"blob %d" % i)
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, range(count)))
    return count

def list_signing_check(bucket, prefix):
    # One ListObjectsV2 signed per AWS (`%2F` in the canonical query), one signed over a bare `/`: the server must
    # accept the first and reject the second, as AWS does (checks MotoServer.launcher's correction of moto).
    import botocore.auth as auth
    from botocore.exceptions import ClientError
    def attempt():
        try:
            client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)
            return "ok"
        except ClientError as e:
            return e.response["Error"]["Code"]
    out = {"spec": attempt()}
    original = auth.SigV4Auth._canonical_query_string_url
    auth.SigV4Auth._canonical_query_string_url = lambda self, parts: original(self, parts).replace("%2F", "/")
    try:
        out["bareSlash"] = attempt()
    finally:
        auth.SigV4Auth._canonical_query_string_url = original
    return out

results = []
for c in json.load(sys.stdin):
    op = c["op"]
    if op == "setup-users":
        results.append(setup_users())
    elif op == "create-bucket":
        s3 = client("s3", c.get("region", "us-east-1"))
        if c.get("region", "us-east-1") == "us-east-1":
            s3.create_bucket(Bucket=c["bucket"])
        else:
            s3.create_bucket(Bucket=c["bucket"], CreateBucketConfiguration={"LocationConstraint": c["region"]})
        results.append(True)
    elif op == "upload-repo":
        results.append(upload_repo(c["bucket"], c["prefix"], c["dir"]))
    elif op == "dump":
        results.append(dump(c["bucket"], c["prefix"]))
    elif op == "put-many":
        results.append(put_many(c["bucket"], c["prefix"], c["count"]))
    elif op == "list-signing-check":
        results.append(list_signing_check(c["bucket"], c["prefix"]))
    else:
        raise SystemExit("unknown op " + op)
json.dump(results, sys.stdout)
"""#
}
