#!/usr/bin/env bash
# `ferry restore` of the generated mixed tree from a loopback S3 server (moto) beside the same restore from a
# filesystem repository, in one run (issue 6). Both repositories are written by `ferry snapshot create`.
# BENCH_SIZE_MB (default 1024) sets the tree size, BENCH_DIR (default a temp dir) the work directory
# (kept with BENCH_KEEP=1), FERRY the binary (default: the release build). moto is a single Python process that
# closes the connection after every response, so the S3 figure measures Ferry against a slow server, not Ferry's S3
# client at its best.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
source "$here/lib/restore-bench.sh"
bench_setup s3 1024
command -v moto_server >/dev/null || { echo "bench: moto_server missing (scripts/setup.sh installs it)"; exit 1; }

port="$(free_port)"
moto_server -H 127.0.0.1 -p "$port" > "$work/moto.log" 2>&1 &
moto=$!
trap 'kill -9 $moto 2>/dev/null; wait $moto 2>/dev/null || true; [ -z "${BENCH_KEEP:-}" ] && rm -rf "$work"' EXIT
wait_port "$port" moto
export KOPIA_PASSWORD=bench-password AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret
export AWS_S3_ENDPOINT="http://127.0.0.1:$port" AWS_REGION=us-east-1
python3 -c "import boto3, os; boto3.client('s3', endpoint_url=os.environ['AWS_S3_ENDPOINT'], region_name='us-east-1').create_bucket(Bucket='bench')"

bench_tree
bench_restore restore-s3 "S3 = moto on loopback" filesystem="filesystem://$work/fs-repo" s3=s3://bench/ferry/
