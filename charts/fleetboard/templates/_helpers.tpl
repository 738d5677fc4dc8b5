{{- define "fleetboard.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "fleetboard.labels" -}}
app.kubernetes.io/name: fleetboard
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{- define "fleetboard.apiServerURL" -}}
{{ .Values.apiServerURL | default (printf "https://%s:6443" .Values.tunnel.endpoint) }}
{{- end }}
