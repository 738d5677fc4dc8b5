{{- define "fleetboard-agent.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "fleetboard-agent.labels" -}}
app.kubernetes.io/name: fleetboard
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{- /* The zones crossdns answers: clusterset.local and cluster.zone. */}}
{{- define "fleetboard-agent.zones" -}}
{{ list "clusterset.local" .Values.cluster.zone | uniq | join "," }}
{{- end }}
