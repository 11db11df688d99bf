#!/usr/bin/env bash
# Ferry's main job, on the local control plane, driven with kubectl: a claim in "staging" is filled from a
# VolumeSnapshot in "production" — and only once the owner of "production" allows it with a ReferenceGrant.
# Ferry is installed with its Helm chart (as the sidecar of the local driver) and runs as the chart's ServiceAccount;
# the steps and names are those of docs/cross-namespace-snapshot.md.
#
#   make demo                                  # release build (make runs `make release` first)
#   FERRY_BIN_DIR=.build/debug bash scripts/demo.sh   # any build directory holding ferry + ferry-localcluster
#   FERRY_DEMO_KOPIA=0 …                       # leave out the Kopia part at the end (scripts/demo-kopia.sh)
#
# Exits non-zero when an expected state is not reached (every wait is bounded and says what it waited for);
# stops every process it started and removes its temporary directory on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${FERRY_BIN_DIR:-}"
if [ -z "$bin" ]; then bin="$(swift build -c release --show-bin-path)"; fi
bin="$(cd "$bin" && pwd)"
for exe in ferry ferry-localcluster; do
  [ -x "$bin/$exe" ] || { echo "demo: $bin/$exe is missing (run \`make release\` or set FERRY_BIN_DIR)" >&2; exit 1; }
done
command -v kubectl >/dev/null || { echo "demo: kubectl is missing (bash scripts/setup.sh installs it)" >&2; exit 1; }

work="$(mktemp -d /tmp/ferry-demo.XXXXXX)"
cluster="$work/cluster"
pids=()
cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ -n "${KUBECONFIG:-}" ]; then  # while the cluster still serves: what its objects say
    echo "--- events and pods at the failure" >&2
    timeout 10 kubectl get events -A -o custom-columns='NS:.metadata.namespace,OBJECT:.involvedObject.name,REASON:.reason,MESSAGE:.message' >&2 || true
    timeout 10 kubectl get pods -A -o custom-columns='NS:.metadata.namespace,NAME:.metadata.name,PHASE:.status.phase,NODE:.spec.nodeName' >&2 || true
  fi
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [ "$rc" -ne 0 ]; then
    echo "demo FAILED (exit $rc); last lines of the logs:" >&2
    for log in "$work/cluster.log" "$work/ferry.log"; do
      [ -f "$log" ] && { echo "--- $log" >&2; tail -n 25 "$log" >&2; }
    done
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

source scripts/lib/demo-lib.sh

say "1. Start the local control plane and Ferry"
"$bin/ferry-localcluster" up --dir "$cluster" --image "ghcr.io/ferry-csi/ferry=$bin/ferry" > "$work/cluster.log" 2>&1 &
pids+=($!)
wait_for 60 "the local control plane printing 'ready' (log: $work/cluster.log)" grep -q '^ready' "$work/cluster.log"
echo "   ferry-localcluster up --dir $cluster: API server, CSI driver local.csi.ferry.io, PV binder,"
echo "   external-provisioner, snapshot controller, scheduler, kubelet (pods run as local processes)"
export KUBECONFIG="$cluster/kubeconfig"
export KUBECACHEDIR="$work/kubecache"
# Ferry is installed with its chart: helm/examples/example-csi-driver is a driver chart for local.csi.ferry.io that
# includes Ferry as a sidecar (CRDs, RBAC bound to the driver's ServiceAccount, the gate flags). Helm runs through
# helm-python-sdk (scripts/helm.py takes the helm CLI's arguments); `helm dependency build` writes into the chart,
# so it works on a copy.
h() { printf '\033[2m$ helm %s\033[0m\n' "$*" >&2; python3 scripts/helm.py "$@"; }
cp -r helm "$work/helm"
h dependency build "$work/helm/examples/example-csi-driver"
h install example "$work/helm/examples/example-csi-driver" --namespace ferry-system --create-namespace > "$work/helm-install.txt"
head -n 3 "$work/helm-install.txt"   # (not `| head`: an early-closed pipe would fail the install under pipefail)
k get crd datasourcelinks.ferry.io kopiasnapshots.ferry.io
# helm test: a pod running `ferry kube check` as the chart's ServiceAccount (the kubelet mounts its token).
h test example --namespace ferry-system | tail -n 1
# The local control plane runs no Deployments: Ferry runs as a local process with the arguments the chart gave its
# container, as the chart's ServiceAccount (a token from `kubectl create token`; the API server enforces RBAC).
kubectl config view --raw --minify > "$work/ferry.kubeconfig"
kubectl config set-credentials ferry --kubeconfig="$work/ferry.kubeconfig" \
  --token="$(k create token example-csi-controller --namespace ferry-system)" > /dev/null
kubectl config set-context --current --user=ferry --kubeconfig="$work/ferry.kubeconfig" > /dev/null
echo "   $work/ferry.kubeconfig: the token of ServiceAccount ferry-system/example-csi-controller"
args="$(jp deployment example-controller -n ferry-system \
  -o go-template='{{range .spec.template.spec.containers}}{{if eq .name "ferry"}}{{range .args}}{{.}} {{end}}{{end}}{{end}}')"
[ -n "$args" ] || fail "the chart's Deployment has no ferry container"
"$bin/ferry" kube check --kubeconfig "$work/ferry.kubeconfig" --namespace ferry-system > "$work/kube-check.txt" \
  || { cat "$work/kube-check.txt" >&2; fail "ferry kube check as the chart's ServiceAccount"; }
echo "   ferry kube check (as the ServiceAccount): $(tail -n 1 "$work/kube-check.txt")"
# shellcheck disable=SC2086  # the chart's arguments, one word each
"$bin/ferry" $args --csi-address "unix://$cluster/csi.sock" --http-endpoint 127.0.0.1:0 \
  --kubeconfig "$work/ferry.kubeconfig" > "$work/ferry.log" 2>&1 &
ferry_pid=$!
pids+=($ferry_pid)
echo "   ferry $args"
echo "     --csi-address unix://$cluster/csi.sock --http-endpoint 127.0.0.1:0 --kubeconfig …/ferry.kubeconfig (pid $ferry_pid)"
sleep 0.5
kill -0 "$ferry_pid" 2>/dev/null || fail "ferry controller exited at startup (log: $work/ferry.log)"
wait_for 30 "ferry controller ready (log: $work/ferry.log)" grep -q 'caches synced' "$work/ferry.log"

say "2. production: a claim, a pod that fills it with data, and a VolumeSnapshot of it"
k apply -f - <<'YAML'
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: local}
provisioner: local.csi.ferry.io
volumeBindingMode: Immediate
---
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshotClass
metadata: {name: local, annotations: {snapshot.storage.kubernetes.io/is-default-class: "true"}}
driver: local.csi.ferry.io
deletionPolicy: Delete
---
apiVersion: v1
kind: Namespace
metadata: {name: production}
---
apiVersion: v1
kind: Namespace
metadata: {name: staging}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: webapp-data, namespace: production}
spec:
  storageClassName: local
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: fill-webapp-data, namespace: production}
spec:
  restartPolicy: Never
  containers:
  - name: fill
    image: busybox
    command: [sh, -c]
    args:
    - |
      set -e
      mkdir -p /data/db /data/uploads
      printf 'orders: 1042\ncustomers: 311\n' > /data/db/stats.txt
      i=0; while [ $i -lt 2000 ]; do echo "order $i shipped"; i=$((i+1)); done > /data/db/orders.log
      head -c 1048576 /dev/urandom > /data/uploads/photo.bin
      echo "filled /data"
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: webapp-data}
YAML
wait_field 30 production pvc/webapp-data .status.phase Bound
wait_field 60 production pod/fill-webapp-data .status.phase Succeeded
k get pvc -n production -o custom-columns="$pvc_cols"
k get pod -n production -o custom-columns=NAME:.metadata.name,NODE:.spec.nodeName,PHASE:.status.phase
claim_volume production webapp-data
src_handle="$claim_handle"
tree_sums "$cluster/volumes/$src_handle" > "$work/source.sha256"
[ -s "$work/source.sha256" ] || fail "the pod wrote nothing into volume $src_handle"
echo "   volume $src_handle now holds:"; sed 's/^/     /' "$work/source.sha256"

k apply -f - <<'YAML'
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata: {name: webapp-nightly, namespace: production}
spec: {volumeSnapshotClassName: local, source: {persistentVolumeClaimName: webapp-data}}
YAML
wait_field 30 production volumesnapshot/webapp-nightly .status.readyToUse true
k get volumesnapshot -n production -o custom-columns=NAME:.metadata.name,READY:.status.readyToUse,SOURCE:.spec.source.persistentVolumeClaimName,CONTENT:.status.boundVolumeSnapshotContentName

say "3. staging: a DataSourceLink to production's snapshot, and an ordinary claim that names the link"
k apply -f - <<'YAML'
apiVersion: ferry.io/v1alpha1
kind: DataSourceLink
metadata: {name: webapp-nightly, namespace: staging}
spec:
  sourceRef: {apiGroup: snapshot.storage.k8s.io, kind: VolumeSnapshot, namespace: production, name: webapp-nightly}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: webapp-data, namespace: staging}
spec:
  storageClassName: local
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
  dataSourceRef: {apiGroup: ferry.io, kind: DataSourceLink, name: webapp-nightly}
YAML
wait_warning 30 staging webapp-data ReferenceGrant
expect_pending staging webapp-data
k get pvc -n staging webapp-data -o custom-columns="$pvc_cols"
say "   Pending — and Ferry says why:"
k describe pvc -n staging webapp-data
k get datasourcelink -n staging -o wide

say "4. The owner of production allows it (a ReferenceGrant in production)"
# A watch started before the grant exists reports the moment the claim binds.
bound_watch staging webapp-data 30 "$work/wait.out"
sleep 1
before=$(now)
k apply -f - <<'YAML'
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: staging-may-restore, namespace: production}
spec:
  from: [{group: "", kind: PersistentVolumeClaim, namespace: staging}]
  to: [{group: snapshot.storage.k8s.io, kind: VolumeSnapshot}]
YAML
stored=$(now)
wait "$bound_watch_pid" || { cat "$work/wait.out" >&2; fail "staging/webapp-data not Bound within 30 s of the grant"; }
end=$(now)
printf '\033[2m$ kubectl wait -n staging pvc/webapp-data --for=jsonpath={.status.phase}=Bound --timeout=30s  (started before the apply)\033[0m\n' >&2
sed 's/^/   /' "$work/wait.out"
bound_after=$(seconds_between "$stored" "$end")
with_apply=$(seconds_between "$before" "$end")
[ "$(jp pvc -n staging webapp-data -o jsonpath='{.status.phase}')" = Bound ] || fail "staging/webapp-data is not Bound"
echo "   staging/webapp-data Bound ${bound_after} s after the grant was stored (${with_apply} s counting kubectl apply's own start-up)"
k get pvc -n staging webapp-data -o custom-columns="$pvc_cols"
claim_volume staging webapp-data
annotations "$claim_pv" ferry.io/ pv.kubernetes.io/provisioned-by
k get datasourcelink -n staging -o wide
claim_events staging webapp-data

say "5. The data, in staging's new volume"
handle="$claim_handle"
[ "$handle" != "$src_handle" ] || fail "staging's PV has no volume of its own (handle '$handle')"
tree_sums "$cluster/volumes/$handle" > "$work/restored.sha256"
echo "   volume $handle holds:"; sed 's/^/     /' "$work/restored.sha256"
if cmp -s "$work/source.sha256" "$work/restored.sha256"; then
  echo "   identical to production's volume (sha256 of every file)"
else
  diff "$work/source.sha256" "$work/restored.sha256" >&2 || true
  fail "staging's volume differs from production's"
fi
echo "RESULT grant_to_bound_seconds=$bound_after grant_apply_to_bound_seconds=$with_apply"

if [ "${FERRY_DEMO_KOPIA:-${FERRY_DEMO_KOPIA_CLI:-1}}" = 1 ]; then
  # The Kopia part: production's volume backed up with `ferry snapshot create`, restored into staging through a
  # KopiaSnapshot and a grant (issue 13 item 7).
  source scripts/demo-kopia.sh
fi

! grep -qi forbidden "$work/ferry.log" || { grep -i forbidden "$work/ferry.log" >&2; fail "Ferry was refused something the chart should grant"; }
say "Done: claims in staging were filled from production's VolumeSnapshot and Kopia backup only after production granted it."
