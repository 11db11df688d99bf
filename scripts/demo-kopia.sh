#!/usr/bin/env bash
# The Kopia part of `make demo` (issue 13 item 7), run by scripts/demo.sh against a running local control plane and
# `ferry controller` (with --work-namespace and --populator-image; the cluster maps that image to the ferry binary).
# Inputs (environment): FERRY (the ferry binary), KUBECONFIG, CLUSTER_DIR (ferry-localcluster's --dir, where volumes
# live), WORK (a scratch directory), STORAGE_CLASS (default: local).
# Backs up a tree with `ferry snapshot create` under VolSync's identity webapp-backup-production@production:/data,
# describes it with a KopiaSnapshot in production, grants staging, and restores it into a PVC in staging.
set -euo pipefail
: "${FERRY:?}" "${KUBECONFIG:?}" "${CLUSTER_DIR:?}" "${WORK:?}"
sc="${STORAGE_CLASS:-local}"
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

say "Kopia 1. A tree backed up into a local Kopia repository as VolSync's mover names it"
mkdir -p "$WORK/webapp/config" "$WORK/webapp/uploads"
printf '{"mode": "production"}\n' > "$WORK/webapp/config/app.json"
python3 -c "import random; r=random.Random(13); open('$WORK/webapp/uploads/avatar.png','wb').write(r.randbytes(3<<20))"
printf 'hello from production\n' > "$WORK/webapp/README.txt"
ln -sf config/app.json "$WORK/webapp/current-config"
export KOPIA_PASSWORD=demo-password KOPIA_REPOSITORY="filesystem://$WORK/kopia-repo"
"$FERRY" repo create >/dev/null
"$FERRY" snapshot create "$WORK/webapp" --identity webapp-backup-production@production:/data --description "demo backup"
"$FERRY" snapshot list
unset KOPIA_PASSWORD KOPIA_REPOSITORY

say "Kopia 2. In production: the repository Secret, a KopiaSnapshot and a grant for staging (credentials stay here)"
kubectl create namespace production --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl create namespace staging --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl apply -f - <<YAML
apiVersion: v1
kind: Secret
metadata: {name: kopia-config, namespace: production}
stringData: {KOPIA_REPOSITORY: "filesystem://$WORK/kopia-repo", KOPIA_PASSWORD: demo-password}
---
apiVersion: ferry.io/v1alpha1
kind: KopiaSnapshot
metadata: {name: webapp, namespace: production}
spec:
  repository: kopia-config
  sourceIdentity: {sourceName: webapp-backup, sourceNamespace: production}
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: staging-may-restore, namespace: production}
spec:
  from: [{group: "", kind: PersistentVolumeClaim, namespace: staging}]
  to: [{group: ferry.io, kind: KopiaSnapshot}]
YAML

say "Kopia 3. In staging: an ordinary PVC naming the KopiaSnapshot"
kubectl apply -f - <<YAML
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: webapp-data, namespace: staging}
spec:
  storageClassName: $sc
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
  dataSourceRef: {apiGroup: ferry.io, kind: KopiaSnapshot, name: webapp, namespace: production}
YAML
kubectl wait -n staging pvc/webapp-data --for=jsonpath='{.status.phase}'=Bound --timeout=180s
kubectl get kopiasnapshot -n production -o wide
say "Kopia 4. What the PVC's owner saw"
kubectl get events -n staging --field-selector involvedObject.name=webapp-data \
  -o custom-columns=TYPE:.type,REASON:.reason,MESSAGE:.message
say "Kopia 5. The data on the volume, against the backed-up tree"
pv="$(kubectl get pvc -n staging webapp-data -o jsonpath='{.spec.volumeName}')"
handle="$(kubectl get pv "$pv" -o jsonpath='{.spec.csi.volumeHandle}')"
kubectl get pv "$pv" -o jsonpath='{.metadata.annotations}' | python3 -c 'import json,sys; [print(f"   {k}: {v}") for k,v in sorted(json.load(sys.stdin).items()) if k.startswith("ferry.io/")]'
if diff -r --no-dereference "$WORK/webapp" "$CLUSTER_DIR/volumes/$handle" >/dev/null; then
  echo "   identical: contents, symlinks and directories match"
else
  echo "   DIFFERENT"; exit 1
fi
echo "   Secrets holding KOPIA_PASSWORD, by namespace: $(kubectl get secrets -A -o json | python3 -c 'import json,sys; print(sorted({i["metadata"]["namespace"] for i in json.load(sys.stdin)["items"] if "KOPIA_PASSWORD" in (i.get("data") or {})}))')"
