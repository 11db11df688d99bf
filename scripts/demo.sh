#!/usr/bin/env bash
# The README's main command on the embedded default (no cluster, no network): create a Kopia repository,
# take two snapshots with a change between them, list them, restore the older one by time, and verify it.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(swift build -c release --show-bin-path)"
ferry="$bin/ferry"
work="$(mktemp -d /tmp/ferry-demo.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export KOPIA_PASSWORD=demo-password KOPIA_REPOSITORY="filesystem://$work/repo"
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

say "1. A sample tree in $work/data"
mkdir -p "$work/data/docs/notes" "$work/data/bin" "$work/data/empty"
printf 'Hello from Ferry.\n' > "$work/data/README.txt"
python3 -c "import random; r=random.Random(7); open('$work/data/docs/blob.bin','wb').write(r.randbytes(9<<20))"
seq 1 200000 > "$work/data/docs/notes/numbers.txt"
printf '#!/bin/sh\necho tool\n' > "$work/data/bin/tool.sh"; chmod 0750 "$work/data/bin/tool.sh"
ln -s README.txt "$work/data/link-to-readme"
: > "$work/data/empty-file"
(cd "$work/data" && find . -printf '%y %m %s %p\n' | sort) | sed 's/^/   /'

say "2. A new Kopia repository (format v3, index v2, BLAKE2B-256-128, AES256-GCM-HMAC-SHA256, DYNAMIC-4M-BUZHASH)"
"$ferry" repo create

say "3. Snapshot #1"
"$ferry" snapshot create "$work/data" --identity demo@laptop:/data --description "before the change"
(cd "$work/data" && find . -type f -o -type l | sort | xargs -d '\n' sha256sum 2>/dev/null) > "$work/v1.sha256" || true
cp -a "$work/data" "$work/original-v1"
sleep 1.1
asof="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
sleep 1.1

say "4. Change the tree (append, chmod, delete, add) and take snapshot #2 (unchanged files are reused)"
printf 'More text.\n' >> "$work/data/README.txt"
chmod 0700 "$work/data/bin/tool.sh"
rm "$work/data/docs/notes/numbers.txt"
printf 'new\n' > "$work/data/docs/new.txt"
"$ferry" snapshot create "$work/data" --identity demo@laptop:/data --description "after the change"

say "5. The snapshots in the repository"
"$ferry" snapshot list

say "6. Restore the snapshot as of $asof (the older one) into $work/restored"
"$ferry" restore --identity demo@laptop:/data --as-of "$asof" --target "$work/restored"
say "7. Verify the restored tree against the original"
if diff -r --no-dereference "$work/original-v1" "$work/restored" >/dev/null \
   && [ "$(cd "$work/original-v1" && find . -printf '%y %m %s %p %l\n' | sort)" = "$(cd "$work/restored" && find . -printf '%y %m %s %p %l\n' | sort)" ] \
   && [ "$(cd "$work/original-v1" && find . ! -type l -printf '%p %T@\n' | sort)" = "$(cd "$work/restored" && find . ! -type l -printf '%p %T@\n' | sort)" ]; then
  echo "   identical: contents, modes, sizes, mtimes (ns), symlink targets and empty directories match"
else
  echo "   MISMATCH between the original and the restored tree"; exit 1
fi

say "8. Verify the newest snapshot: read and authenticate every content it references"
"$ferry" verify --identity demo@laptop:/data

say "Done."
