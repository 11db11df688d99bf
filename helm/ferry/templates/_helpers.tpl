{{/*
Named templates. Every template takes the root context `.`; it may be this chart's own context or, for the
`ferry.sidecar.*` and `ferry.provisioner.*` templates, the context of a CSI driver chart that depends on this one
(then Ferry's values are read from `.Values.ferry`, which Helm has already merged with this chart's defaults).
*/}}

{{/* Ferry's values, from this chart or from a parent chart's `ferry:` block. */}}
{{- define "ferry.values" -}}
{{- if and (hasKey .Values "ferry") (kindIs "map" .Values.ferry) -}}
{{- toYaml .Values.ferry -}}
{{- else -}}
{{- toYaml .Values -}}
{{- end -}}
{{- end -}}

{{- define "ferry.name" -}}ferry{{- end -}}

{{- define "ferry.fullname" -}}
{{- if contains "ferry" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-ferry" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ferry.selectorLabels" -}}
app.kubernetes.io/name: ferry
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ferry.labels" -}}
{{ include "ferry.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ferry
helm.sh/chart: ferry-0.1.0
{{- end -}}

{{- define "ferry.serviceAccountName" -}}
{{- $v := include "ferry.values" . | fromYaml -}}
{{- default (include "ferry.fullname" .) $v.serviceAccount.name -}}
{{- end -}}

{{/* Where populator pods and their short-lived Secrets run: Ferry's own namespace (`--namespace`). */}}
{{- define "ferry.workNamespace" -}}
{{- .Release.Namespace -}}
{{- end -}}

{{- define "ferry.image" -}}
{{- $v := include "ferry.values" . | fromYaml -}}
{{- printf "%s:%s" $v.image.repository (default "0.1.0" $v.image.tag) -}}
{{- end -}}

{{/* The gate flag, shared by Ferry and the driver's csi-provisioner (repeated --feature-gates flags merge). */}}
{{- define "ferry.featureGateFlag" -}}
--feature-gates=CrossNamespaceVolumeDataSource=true
{{- end -}}

{{/*
For a CSI driver chart's csi-provisioner container: the args to add (a YAML list item, or nothing).
  args:
    - --csi-address=$(ADDRESS)
    {{- include "ferry.provisioner.featureGateArgs" . | nindent 4 }}
*/}}
{{- define "ferry.provisioner.featureGateArgs" -}}
{{- $v := include "ferry.values" . | fromYaml -}}
{{- if $v.enableSnapshotCrossNamespace }}
- {{ include "ferry.featureGateFlag" . }}
{{- end -}}
{{- end -}}

{{/* Arguments of `ferry controller`; `csi` = true in sidecar mode (the shared socket). */}}
{{- define "ferry.controllerArgs" -}}
{{- $root := index . 0 -}}
{{- $csi := index . 1 -}}
{{- $v := include "ferry.values" $root | fromYaml -}}
- controller
{{- if $csi }}
- --csi-address={{ $v.sidecar.csiAddress }}
{{- else }}
- --standalone
{{- end }}
- --namespace={{ $root.Release.Namespace }}
- --populator-image={{ default (include "ferry.image" $root) $v.populatorImage }}
- --populator-pull-policy={{ $v.image.pullPolicy }}
{{- with $v.populator.resources }}
- {{ printf "--populator-resources=%s" (toJson .) | quote }}
{{- end }}
- --kopia-repository-cache-size={{ int64 $v.kopia.repositoryCacheSize }}
- --kopia-repository-cache-max-index-entries={{ int64 $v.kopia.repositoryCacheMaxIndexEntries }}
- --kopia-repository-idle-timeout={{ $v.kopia.repositoryIdleTimeout }}
- --kopia-index-refresh-interval={{ $v.kopia.indexRefreshInterval }}
- --kopia-wrong-password-retry-interval={{ $v.kopia.wrongPasswordRetryInterval }}
- --feature-gates=CrossNamespaceVolumeDataSource={{ $v.enableSnapshotCrossNamespace }}
{{- if $v.leaderElection.enabled }}
- --leader-election
- --leader-election-namespace={{ default $root.Release.Namespace $v.leaderElection.namespace }}
{{- end }}
- --worker-threads={{ $v.controller.workerThreads }}
- --timeout={{ $v.controller.timeout }}
- --retry-interval-start={{ $v.controller.retryIntervalStart }}
- --retry-interval-max={{ $v.controller.retryIntervalMax }}
- --kube-api-qps={{ $v.controller.kubeApiQPS }}
- --kube-api-burst={{ $v.controller.kubeApiBurst }}
{{- if $v.metrics.enabled }}
- --http-endpoint=:{{ $v.metrics.port }}
{{- end }}
{{- range $v.controller.extraArgs }}
- {{ . }}
{{- end }}
{{- end -}}

{{/* The ferry container; `csi` = true adds the socket mount (sidecar mode). */}}
{{- define "ferry.container" -}}
{{- $root := index . 0 -}}
{{- $csi := index . 1 -}}
{{- $v := include "ferry.values" $root | fromYaml -}}
name: ferry
image: {{ include "ferry.image" $root | quote }}
imagePullPolicy: {{ $v.image.pullPolicy }}
args:
  {{- include "ferry.controllerArgs" (list $root $csi) | nindent 2 }}
env:
  - name: FERRY_LOG_LEVEL
    value: {{ $v.controller.logLevel | quote }}
  - name: POD_NAME
    valueFrom: {fieldRef: {fieldPath: metadata.name}}
  - name: POD_NAMESPACE
    valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
{{- if $v.metrics.enabled }}
ports:
  - name: http-metrics
    containerPort: {{ $v.metrics.port }}
    protocol: TCP
livenessProbe:
  httpGet: {path: /healthz, port: http-metrics}
  initialDelaySeconds: 10
  periodSeconds: 20
  timeoutSeconds: 5
  failureThreshold: 5
readinessProbe:
  httpGet: {path: /readyz, port: http-metrics}
  periodSeconds: 10
  timeoutSeconds: 5
{{- end }}
securityContext:
  {{- toYaml $v.securityContext | nindent 2 }}
{{- if $csi }}
volumeMounts:
  - name: {{ $v.sidecar.socketVolume }}
    mountPath: {{ $v.sidecar.socketMountPath }}
{{- end }}
{{- end -}}

{{/*
For a CSI driver chart's controller pod: Ferry as a sidecar on the driver's socket.
  containers:
    {{- include "ferry.sidecar.container" . | nindent 4 }}
*/}}
{{- define "ferry.sidecar.container" -}}
- {{ include "ferry.container" (list . true) | nindent 2 | trim }}
{{- end -}}
