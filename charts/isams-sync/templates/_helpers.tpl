{{/* Resource-name prefix. */}}
{{- define "isams-sync.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of one service's resources: (dict "root" $ "svc" "roster"). */}}
{{- define "isams-sync.svcName" -}}
{{- printf "%s-%s" (include "isams-sync.fullname" .root) .svc -}}
{{- end -}}

{{- define "isams-sync.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: isams-sync
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* Selector labels of one service: (dict "root" $ "svc" "roster"). */}}
{{- define "isams-sync.selectorLabels" -}}
app.kubernetes.io/name: {{ .svc }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "isams-sync.labels" -}}
{{ include "isams-sync.commonLabels" .root }}
{{ include "isams-sync.selectorLabels" . }}
app.kubernetes.io/component: {{ .svc }}
{{- end -}}

{{/* Image reference of one service: (dict "root" $ "svc" "roster"). */}}
{{- define "isams-sync.image" -}}
{{- $s := index .root.Values.services .svc -}}
{{- $repo := $s.image.repository | default (printf "%s%s" .root.Values.image.repositoryPrefix .svc) -}}
{{- $tag := $s.image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}

{{/* gRPC address (host:port) of a service inside the namespace. */}}
{{- define "isams-sync.grpcAddress" -}}
{{- printf "%s:50051" (include "isams-sync.svcName" .) -}}
{{- end -}}

{{/*
Who calls whom over gRPC, as "caller:callee" words: the pairs of service-identity keys (one key each)
and of the NetworkPolicy rules. The same list as SERVICE_CALLS in libs/grpc (a chart test checks).
*/}}
{{- define "isams-sync.serviceCalls" -}}
gateway:connector gateway:roster gateway:bookings bookings:roster operator:connector
{{- end -}}

{{/* The service-identity key files a service holds (the pairs it is part of): (dict "root" $ "svc" "roster"). */}}
{{- define "isams-sync.identityKeyFiles" -}}
{{- $files := list -}}
{{- range $pair := splitList " " (include "isams-sync.serviceCalls" .root) -}}
{{- $p := splitList ":" $pair -}}
{{- if or (eq (index $p 0) $.svc) (eq (index $p 1) $.svc) -}}
{{- $files = append $files (printf "%s-to-%s.key" (index $p 0) (index $p 1)) -}}
{{- end -}}
{{- end -}}
{{- join " " $files -}}
{{- end -}}

{{/* The services that call a service over gRPC (the operator reaches it by port-forward): (dict "root" $ "svc" "roster"). */}}
{{- define "isams-sync.grpcCallers" -}}
{{- $callers := list -}}
{{- range $pair := splitList " " (include "isams-sync.serviceCalls" .root) -}}
{{- $p := splitList ":" $pair -}}
{{- if and (eq (index $p 1) $.svc) (ne (index $p 0) "operator") -}}
{{- $callers = append $callers (index $p 0) -}}
{{- end -}}
{{- end -}}
{{- join " " $callers -}}
{{- end -}}

{{/* The services a service calls over gRPC: (dict "root" $ "svc" "gateway"). */}}
{{- define "isams-sync.grpcCallees" -}}
{{- $callees := list -}}
{{- range $pair := splitList " " (include "isams-sync.serviceCalls" .root) -}}
{{- $p := splitList ":" $pair -}}
{{- if eq (index $p 0) $.svc -}}
{{- $callees = append $callees (index $p 1) -}}
{{- end -}}
{{- end -}}
{{- join " " $callees -}}
{{- end -}}

{{- define "isams-sync.kafkaBrokers" -}}
{{- if .Values.devInfra.enabled -}}
{{- printf "%s-dev-kafka:9092" (include "isams-sync.fullname" .) -}}
{{- else -}}
{{- if not .Values.kafka.brokers -}}
{{- fail "kafka.brokers is required (the external Kafka bootstrap brokers), or set devInfra.enabled=true for a dev cluster" -}}
{{- end -}}
{{- join "," .Values.kafka.brokers -}}
{{- end -}}
{{- end -}}

{{/* Kafka environment (brokers, TLS, SASL, replication factor) of a service or the topic Job: (dict "root" $ "clientId" "roster"). */}}
{{- define "isams-sync.kafkaEnv" -}}
{{- $v := .root.Values -}}
- name: KAFKA_BROKERS
  value: {{ include "isams-sync.kafkaBrokers" .root | quote }}
- name: KAFKA_CLIENT_ID
  value: {{ .clientId | quote }}
- name: KAFKA_TOPIC_REPLICATION_FACTOR
  value: {{ ternary 1 $v.kafka.replicationFactor $v.devInfra.enabled | quote }}
{{- if and $v.kafka.tls.enabled (not $v.devInfra.enabled) }}
- name: KAFKA_SSL
  value: "true"
{{- if $v.kafka.tls.caSecret }}
- name: KAFKA_SSL_CA_FILE
  value: /etc/isams-sync/kafka-ca/{{ $v.kafka.tls.caKey }}
{{- end }}
{{- end }}
{{- if and $v.kafka.sasl.mechanism (not $v.devInfra.enabled) }}
{{- if not (has $v.kafka.sasl.mechanism (list "plain" "scram-sha-256" "scram-sha-512")) }}
{{- fail "kafka.sasl.mechanism must be plain, scram-sha-256 or scram-sha-512" }}
{{- end }}
- name: KAFKA_SASL_MECHANISM
  value: {{ $v.kafka.sasl.mechanism | quote }}
- name: KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $v.kafka.sasl.existingSecret }}
      key: {{ $v.kafka.sasl.usernameKey }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $v.kafka.sasl.existingSecret }}
      key: {{ $v.kafka.sasl.passwordKey }}
{{- end }}
{{- end -}}

{{/* Volumes shared by every pod: /tmp and, with a CA bundle, the Kafka CA. */}}
{{- define "isams-sync.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.caSecret (not .Values.devInfra.enabled) }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.tls.caSecret }}
{{- end }}
{{- end -}}

{{- define "isams-sync.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.caSecret (not .Values.devInfra.enabled) }}
- name: kafka-ca
  mountPath: /etc/isams-sync/kafka-ca
  readOnly: true
{{- end }}
{{- end -}}

{{/* The connector's egress environment. */}}
{{- define "isams-sync.egressEnv" -}}
{{- $e := .Values.egress -}}
{{- if not (has $e.mode (list "proxy" "meshGateway" "nat")) }}
{{- fail "egress.mode must be proxy, meshGateway or nat" }}
{{- end }}
{{- if eq $e.mode "proxy" }}
{{- if not $e.proxy.url }}
{{- fail "egress.proxy.url is required when egress.mode=proxy" }}
{{- end }}
- name: EGRESS_PROXY_URL
  value: {{ $e.proxy.url | quote }}
{{- end }}
{{- if $e.ips }}
- name: EGRESS_IPS
  value: {{ join "," $e.ips | quote }}
{{- end }}
{{- end -}}

{{/*
`shutdownTimeout` in milliseconds, read as the services read SHUTDOWN_TIMEOUT_MS (500ms, 30s, 5m, 1h
or an integer of milliseconds); fails on anything else.
*/}}
{{- define "isams-sync.shutdownTimeoutMs" -}}
{{- $raw := toString .Values.shutdownTimeout | trim | lower -}}
{{- $pattern := "^([0-9]+(\\.[0-9]+)?)\\s*(ms|s|m|h)?$" -}}
{{- if not (regexMatch $pattern $raw) -}}
{{- fail (printf "shutdownTimeout must be a duration like 500ms, 30s, 5m or an integer of milliseconds, got %q" $raw) -}}
{{- end -}}
{{- $number := regexReplaceAll $pattern $raw "${1}" -}}
{{- $unit := regexReplaceAll $pattern $raw "${3}" -}}
{{- $factor := get (dict "" 1 "ms" 1 "s" 1000 "m" 60000 "h" 3600000) $unit -}}
{{- mulf (float64 $number) $factor | int64 -}}
{{- end -}}
