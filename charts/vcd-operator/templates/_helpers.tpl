{{/* Release-scoped name, at most 63 characters. */}}
{{- define "vcd-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "vcd-operator.serviceAccountName" -}}
{{- default (include "vcd-operator.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "vcd-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "vcd-operator.labels" -}}
{{ include "vcd-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "vcd-operator.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}
{{- end -}}

{{/*
The plural names of our kinds as a YAML list, read from the CRDs the chart ships (files/crds,
written by npm run gen:crds): a new kind gets its RBAC rules without editing a template.
Arguments: ctx (the root context), scope ("Namespaced", "Cluster" or "" for all), suffix ("/status").
*/}}
{{- define "vcd-operator.plurals" -}}
{{- $ctx := .ctx -}}
{{- range $path, $_ := $ctx.Files.Glob "files/crds/*.yaml" }}
{{- $crd := $ctx.Files.Get $path | fromYaml }}
{{- if or (not $.scope) (eq $.scope $crd.spec.scope) }}
- {{ $crd.spec.names.plural }}{{ $.suffix }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The group of our kinds, checked to be the same in every CRD. */}}
{{- define "vcd-operator.group" -}}
{{- $groups := list -}}
{{- range $path, $_ := .Files.Glob "files/crds/*.yaml" -}}
{{- $groups = append $groups ($.Files.Get $path | fromYaml).spec.group | uniq -}}
{{- end -}}
{{- if ne (len $groups) 1 -}}{{- fail (printf "files/crds must hold CRDs of exactly one group, found %v" $groups) -}}{{- end -}}
{{- first $groups -}}
{{- end -}}
