# The Kopia part of `make demo` (issue 13 item 7). Sourced by scripts/demo.sh once its VolumeSnapshot part is done,
# with the local control plane and `ferry controller` still running (the cluster maps the chart's image
# ghcr.io/ferry-csi/ferry to the ferry binary; the controller runs populator pods with it in ferry-system).
# Uses the helpers of scripts/lib/demo-lib.sh (sourced by demo.sh) and demo.sh's variables: bin, cluster, work, src_handle
# (production's volume, the tree that is backed up), pvc_cols, event_cols.
#
# Backs up production's volume with `ferry snapshot create` under VolSync's identity
# webapp-backup-production@production:/data into a filesystem repository on a PVC in production (as on CephFS;
# docs/kopia-shared-repository.md — the populator pod then runs in production, the only namespace that may mount
# it), describes it with a KopiaSnapshot in production (the repository Secret stays there), lets staging ask for it with an ordinary PVC through a DataSourceLink (the demo's API server runs
# without the CrossNamespaceVolumeDataSource gate; with it, the PVC may name the KopiaSnapshot directly) — Pending, with a Warning, until production grants it —
# then shows the claim bound, its events, the data and where the repository password lives.

say "K1. production: a volume for the Kopia repository (a CephFS-like RWX PVC) and a backup into it"
k apply -f - <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: kopia-repository, namespace: production}
spec:
  storageClassName: local
  accessModes: [ReadWriteMany]
  resources: {requests: {storage: 1Gi}}
YAML
wait_field 30 production pvc/kopia-repository .status.phase Bound
claim_volume production kopia-repository
repo="$cluster/volumes/$claim_handle"
backup_source="$cluster/volumes/$src_handle"
# What VolSync's Kopia mover does in production, here with Ferry's own CLI: production's volume backed up into the
# repository under the identity the mover uses (<sourceName>-backup-<namespace>@<namespace>:/data).
printf '\033[2m$ ferry repo create; ferry snapshot create <production/webapp-data> --identity webapp-backup-production@production:/data\033[0m\n' >&2
export KOPIA_PASSWORD=demo-password KOPIA_REPOSITORY="filesystem://$repo"
"$bin/ferry" repo create >/dev/null
"$bin/ferry" snapshot create "$backup_source" --identity webapp-backup-production@production:/data
"$bin/ferry" snapshot list
unset KOPIA_PASSWORD KOPIA_REPOSITORY

say "K2. production: the repository's password (VolSync's kopia-config Secret) and a KopiaSnapshot describing the backups"
k apply -f - <<'YAML'
apiVersion: v1
kind: Secret
metadata: {name: kopia-config, namespace: production}
stringData: {KOPIA_REPOSITORY: "filesystem:///repository", KOPIA_PASSWORD: demo-password}
---
apiVersion: ferry.io/v1alpha1
kind: KopiaSnapshot
metadata: {name: webapp-backup, namespace: production}
spec:
  repository: kopia-config
  repositoryPVC: kopia-repository
  sourceIdentity: {sourceName: webapp-backup, sourceNamespace: production}
YAML

say "K3. staging: a DataSourceLink to production's KopiaSnapshot and an ordinary PVC naming it — no grant yet"
k apply -f - <<'YAML'
apiVersion: ferry.io/v1alpha1
kind: DataSourceLink
metadata: {name: webapp-backup, namespace: staging}
spec:
  sourceRef: {apiGroup: ferry.io, kind: KopiaSnapshot, namespace: production, name: webapp-backup}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: webapp-restored, namespace: staging}
spec:
  storageClassName: local
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
  dataSourceRef: {apiGroup: ferry.io, kind: DataSourceLink, name: webapp-backup}
YAML
wait_warning 30 staging webapp-restored ReferenceGrant
expect_pending staging webapp-restored
k get pvc -n staging webapp-restored -o custom-columns="$pvc_cols"
k get events -n staging --field-selector involvedObject.name=webapp-restored,type=Warning -o custom-columns="$event_cols" | cut -c1-260
[ -z "$(jp pods,pvc,secrets -A -l ferry.io/populate-for -o name)" ] || fail "a populator object exists although nothing was granted"
echo "   no populator pod, no prime PVC, no credentials anywhere but production"

say "K4. production grants staging's PVCs its KopiaSnapshots"
bound_watch staging webapp-restored 60 "$work/kopia-wait.out"
sleep 1
k apply -f - <<'YAML'
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: staging-may-restore-backups, namespace: production}
spec:
  from: [{group: "", kind: PersistentVolumeClaim, namespace: staging}]
  to: [{group: ferry.io, kind: KopiaSnapshot}]
YAML
granted=$(now)
if ! wait "$bound_watch_pid"; then
  cat "$work/kopia-wait.out" >&2
  kubectl get events -n staging --field-selector involvedObject.name=webapp-restored -o custom-columns="$event_cols" >&2 || true
  kubectl get pods,pvc,events -n production >&2 || true
  kubectl get kopiasnapshot,datasourcelink -A -o wide >&2 || true
  fail "staging/webapp-restored not Bound within 60 s of the grant"
fi
kopia_bound=$(now)
sed 's/^/   /' "$work/kopia-wait.out"
kopia_after=$(seconds_between "$granted" "$kopia_bound")
echo "   staging/webapp-restored Bound ${kopia_after} s after the grant was stored"
k get pvc -n staging webapp-restored -o custom-columns="$pvc_cols"
claim_events staging webapp-restored
claim_volume staging webapp-restored
annotations "$claim_pv" ferry.io/

say "K5. The data in staging's volume, against production's backed-up volume"
khandle="$claim_handle"
tree_sums "$cluster/volumes/$khandle" > "$work/kopia-restored.sha256"
echo "   volume $khandle holds:"; sed 's/^/     /' "$work/kopia-restored.sha256"
if cmp -s "$work/source.sha256" "$work/kopia-restored.sha256" \
   && diff -r --no-dereference "$backup_source" "$cluster/volumes/$khandle" >/dev/null; then
  echo "   identical to production's volume (sha256 of every file; diff -r)"
else
  diff "$work/source.sha256" "$work/kopia-restored.sha256" >&2 || true
  fail "staging's restored volume differs from production's"
fi
wait_for 30 "the populator's pod, prime PVC and credentials Secret gone" \
  sh -c "[ -z \"\$(kubectl get pods,secrets,pvc -A -l ferry.io/populate-for -o name)\" ]"
holders="$(kubectl get secrets -A -o json | python3 -c '
import json, sys
print(" ".join(sorted({i["metadata"]["namespace"] for i in json.load(sys.stdin)["items"]
                       if "KOPIA_PASSWORD" in (i.get("data") or {}) or "KOPIA_PASSWORD" in (i.get("stringData") or {})})))')"
echo "   namespaces holding a Secret with KOPIA_PASSWORD: $holders"
[ "$holders" = production ] || fail "the repository password is in: $holders (expected production only)"
echo "RESULT kopia_grant_to_bound_seconds=$kopia_after"
