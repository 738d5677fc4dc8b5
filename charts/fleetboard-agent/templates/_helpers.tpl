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

{{- /* NODE_NAME, POD_NAME and POD_NAMESPACE from the downward API, which every FleetBoard container reads. */}}
{{- define "fleetboard-agent.podIdentityEnv" -}}
- name: NODE_NAME
  valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
- name: POD_NAME
  valueFrom: {fieldRef: {fieldPath: metadata.name}}
- name: POD_NAMESPACE
  valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
{{- end }}
