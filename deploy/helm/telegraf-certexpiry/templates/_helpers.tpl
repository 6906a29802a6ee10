{{/* Release-scoped name: the release name when it already holds the chart's name. */}}
{{- define "telegraf-certexpiry.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "telegraf-certexpiry.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: {{ .Values.scope }}
{{- end -}}

{{- define "telegraf-certexpiry.labels" -}}
{{ include "telegraf-certexpiry.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "telegraf-certexpiry.serviceAccountName" -}}
{{- default (include "telegraf-certexpiry.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "telegraf-certexpiry.outputSecret" -}}
{{- default (printf "%s-output" (include "telegraf-certexpiry.fullname" .)) .Values.output.secretName -}}
{{- end -}}

{{/* Checks that stop a render with a message naming the value. */}}
{{- define "telegraf-certexpiry.validate" -}}
{{- if not .Values.domains -}}
{{- fail "domains: set at least one name your pods serve, e.g. --set 'domains={example.com}'" -}}
{{- end -}}
{{- if not (has .Values.scope (list "cluster" "node")) -}}
{{- fail (printf "scope: %q is neither cluster (a Deployment) nor node (a DaemonSet)" .Values.scope) -}}
{{- end -}}
{{- if not (has .Values.output.type (list "influxdb" "influxdb_v2")) -}}
{{- fail (printf "output.type: %q is neither influxdb (1.x) nor influxdb_v2" .Values.output.type) -}}
{{- end -}}
{{- end -}}

{{/* The RBAC rules: pods always, Ingresses and cert-manager Certificates when enabled. */}}
{{- define "telegraf-certexpiry.rules" -}}
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "watch"]
{{- if .Values.ingress.enabled }}
- apiGroups: ["networking.k8s.io"]
  resources: ["ingresses"]
  verbs: ["list", "watch"]
{{- end }}
{{- if .Values.certManager.enabled }}
- apiGroups: ["cert-manager.io"]
  resources: ["certificates"]
  verbs: ["list", "watch"]
{{- end }}
{{- end -}}
