{{/*
The generic per-service template: Deployment, Service, ServiceAccount, PodDisruptionBudget,
HorizontalPodAutoscaler, NetworkPolicy and (optionally) ServiceMonitor of one service.
Call with (dict "root" $ "svc" "<name>").
*/}}
{{- define "isams-sync.service" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $svc := .svc -}}
{{- $s := index $v.services $svc -}}
{{- $name := include "isams-sync.svcName" . -}}
{{- $hasGrpc := ne $svc "gateway" -}}
{{- /* The gateway only speaks gRPC to the other services and keeps its own MongoDB database. */ -}}
{{- $usesKafka := ne $svc "gateway" -}}
{{- $ctx := . -}}
{{- /* The connector, roster and bookings get 2 s past SHUTDOWN_TIMEOUT_MS (their extraShutdownMs) before the process deadline. */ -}}
{{- $shutdownMs := include "isams-sync.shutdownTimeoutMs" $root | int64 -}}
{{- if ge (add $shutdownMs 2000) (mul (int64 $v.terminationGracePeriodSeconds) 1000) }}
{{- fail (printf "shutdownTimeout (%v) + 2s must stay below terminationGracePeriodSeconds (%v): the connector, roster and bookings may take 2 s past SHUTDOWN_TIMEOUT_MS, and the kubelet kills the pod at the grace period" $v.shutdownTimeout $v.terminationGracePeriodSeconds) }}
{{- end }}
{{- /* The connector's spool: quota = SYNC_CONCURRENCY × maxRunMiB; volume = quota + headroom. */ -}}
{{- $spoolQuotaMiB := 0 -}}
{{- $spoolVolumeMiB := 0 -}}
{{- if eq $svc "connector" }}
{{- range $k := list "SPOOL_DIR" "CONNECTOR_SPOOL_QUOTA_BYTES" }}
{{- if hasKey $s.config $k }}
{{- fail (printf "services.connector.config.%s is derived by the chart: set services.connector.spool.* instead" $k) }}
{{- end }}
{{- end }}
{{- $concurrency := int (default "4" (index $s.config "SYNC_CONCURRENCY")) -}}
{{- $spoolQuotaMiB = mul $concurrency (int $s.spool.maxRunMiB) -}}
{{- $spoolVolumeMiB = div (mul $spoolQuotaMiB (add 100 (int $s.spool.headroomPercent))) 100 -}}
{{- end }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $name }}
  labels:
    {{- include "isams-sync.labels" $ctx | nindent 4 }}
automountServiceAccountToken: false
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  labels:
    {{- include "isams-sync.labels" $ctx | nindent 4 }}
spec:
  type: {{ if eq $svc "gateway" }}{{ $s.service.type }}{{ else }}ClusterIP{{ end }}
  selector:
    {{- include "isams-sync.selectorLabels" $ctx | nindent 4 }}
  ports:
    {{- if $hasGrpc }}
    - name: grpc
      port: 50051
      targetPort: grpc
      protocol: TCP
      appProtocol: kubernetes.io/h2c
    {{- else }}
    - name: http
      port: {{ $s.service.port }}
      targetPort: http
      protocol: TCP
    {{- end }}
    - name: metrics
      port: 9464
      targetPort: metrics
      protocol: TCP
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "isams-sync.labels" $ctx | nindent 4 }}
spec:
  {{- if not $s.autoscaling.enabled }}
  replicas: {{ $s.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  selector:
    matchLabels:
      {{- include "isams-sync.selectorLabels" $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "isams-sync.labels" $ctx | nindent 8 }}
        {{- if and (eq $svc "connector") (eq $v.egress.mode "meshGateway") }}
        {{- with $v.egress.meshGateway.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- end }}
      annotations:
        {{- if $v.metrics.podAnnotations }}
        prometheus.io/scrape: "true"
        prometheus.io/port: "9464"
        prometheus.io/path: /metrics
        {{- end }}
        {{- if and (eq $svc "connector") (eq $v.egress.mode "meshGateway") }}
        {{- with $v.egress.meshGateway.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- end }}
        {{- with $s.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- if eq $svc "connector" }}
        # Read by tools/ci/check-charts.sh: volume ≥ quota ≥ SYNC_CONCURRENCY × this.
        isams-sync/spool-max-run-bytes: {{ mul (int $s.spool.maxRunMiB) 1048576 | quote }}
        {{- end }}
    spec:
      serviceAccountName: {{ $name }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      securityContext:
        {{- toYaml $v.podSecurityContext | nindent 8 }}
      {{- with $v.image.pullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "isams-sync.selectorLabels" $ctx | nindent 14 }}
      {{- with $s.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $s.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $s.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ $svc }}
          image: {{ include "isams-sync.image" $ctx | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          securityContext:
            {{- toYaml $v.securityContext | nindent 12 }}
          ports:
            {{- if $hasGrpc }}
            - name: grpc
              containerPort: 50051
              protocol: TCP
            {{- else }}
            - name: http
              containerPort: 8080
              protocol: TCP
            {{- end }}
            - name: metrics
              containerPort: 9464
              protocol: TCP
          env:
            - name: NODE_ENV
              value: {{ $v.nodeEnv | quote }}
            - name: LOG_LEVEL
              value: {{ $v.logLevel | quote }}
            - name: OPS_PORT
              value: "9464"
            - name: SHUTDOWN_TIMEOUT_MS
              value: {{ $v.shutdownTimeout | quote }}
            {{- if $v.tracing.enabled }}
            - name: OTEL_EXPORTER_OTLP_ENDPOINT
              value: {{ required "tracing.endpoint is required when tracing.enabled" $v.tracing.endpoint | quote }}
            - name: OTEL_SERVICE_NAME
              value: {{ $svc | quote }}
            - name: OTEL_TRACES_SAMPLER
              value: {{ $v.tracing.sampler | quote }}
            - name: OTEL_TRACES_SAMPLER_ARG
              value: {{ $v.tracing.samplerArg | toString | quote }}
            {{- with $v.tracing.resourceAttributes }}
            - name: OTEL_RESOURCE_ATTRIBUTES
              value: {{ . | quote }}
            {{- end }}
            {{- end }}
            - name: GRPC_IDENTITY_DIR
              value: /etc/isams-sync/service-identity
            {{- if $hasGrpc }}
            - name: GRPC_PORT
              value: "50051"
            - name: GRPC_REFLECTION
              value: {{ $v.grpc.reflection | toString | quote }}
            {{- else }}
            - name: HTTP_PORT
              value: "8080"
            {{- end }}
            {{- if $usesKafka }}
            {{- include "isams-sync.kafkaEnv" (dict "root" $root "clientId" $svc) | nindent 12 }}
            {{- end }}
            {{- if $v.devInfra.enabled }}
            - name: MONGO_URL
              value: {{ printf "mongodb://%s-dev-mongo:27017/" (include "isams-sync.fullname" $root) | quote }}
            {{- else }}
            - name: MONGO_URL
              valueFrom:
                secretKeyRef:
                  name: {{ $v.mongo.existingSecret }}
                  key: {{ $v.mongo.uriKey }}
            {{- end }}
            - name: MONGO_DB
              value: {{ $s.database | quote }}
            {{- if eq $svc "connector" }}
            - name: CONNECTOR_KEK
              valueFrom:
                secretKeyRef:
                  name: {{ $s.kek.existingSecret }}
                  key: {{ $s.kek.key }}
            - name: CONNECTOR_KEK_ID
              value: {{ $s.kek.id | quote }}
            - name: CONNECTOR_KEK_PREVIOUS
              valueFrom:
                secretKeyRef:
                  name: {{ $s.kek.existingSecret }}
                  key: {{ $s.kek.previousKey }}
                  optional: true
            {{- with $s.smtp }}
            {{- if .host }}
            - name: SMTP_HOST
              value: {{ .host | quote }}
            - name: SMTP_PORT
              value: {{ .port | quote }}
            - name: SMTP_TLS
              value: {{ .tls | quote }}
            {{- if .from }}
            - name: NOTIFY_FROM
              value: {{ .from | quote }}
            {{- end }}
            {{- if .dashboardUrl }}
            - name: DASHBOARD_URL
              value: {{ .dashboardUrl | quote }}
            {{- end }}
            - name: SMTP_USER
              valueFrom:
                secretKeyRef:
                  name: {{ .existingSecret }}
                  key: {{ .userKey }}
                  optional: true
            - name: SMTP_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: {{ .existingSecret }}
                  key: {{ .passwordKey }}
                  optional: true
            {{- end }}
            {{- end }}
            {{- include "isams-sync.egressEnv" $root | nindent 12 }}
            - name: SPOOL_DIR
              value: {{ $s.spool.mountPath | quote }}
            - name: CONNECTOR_SPOOL_QUOTA_BYTES
              value: {{ mul $spoolQuotaMiB 1048576 | quote }}
            {{- end }}
            {{- if eq $svc "bookings" }}
            - name: ROSTER_GRPC_ADDRESS
              value: {{ include "isams-sync.grpcAddress" (dict "root" $root "svc" "roster") | quote }}
            {{- end }}
            {{- if eq $svc "gateway" }}
            - name: CONNECTOR_GRPC_ADDRESS
              value: {{ include "isams-sync.grpcAddress" (dict "root" $root "svc" "connector") | quote }}
            - name: ROSTER_GRPC_ADDRESS
              value: {{ include "isams-sync.grpcAddress" (dict "root" $root "svc" "roster") | quote }}
            - name: BOOKINGS_GRPC_ADDRESS
              value: {{ include "isams-sync.grpcAddress" (dict "root" $root "svc" "bookings") | quote }}
            - name: GATEWAY_TOKEN_PEPPER
              valueFrom:
                secretKeyRef:
                  name: {{ $s.secrets.existingSecret }}
                  key: {{ $s.secrets.tokenPepperKey }}
            - name: GATEWAY_OPERATOR_TOKEN
              valueFrom:
                secretKeyRef:
                  name: {{ $s.secrets.existingSecret }}
                  key: {{ $s.secrets.operatorTokenKey }}
                  optional: true
            # The operator listener stays on loopback: no Service, container port or NetworkPolicy
            # rule names it (tools/ci/check-charts.sh checks); operators use kubectl port-forward.
            - name: GATEWAY_OPERATOR_HOST
              value: "127.0.0.1"
            - name: GATEWAY_OPERATOR_PORT
              value: {{ $s.operator.port | quote }}
            - name: GATEWAY_TRUST_PROXY
              value: {{ $s.trustProxy | toString | quote }}
            {{- end }}
            {{- range $key, $value := $s.config }}
            - name: {{ $key }}
              value: {{ $value | toString | quote }}
            {{- end }}
            {{- with $s.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          startupProbe:
            httpGet:
              path: /health
              port: metrics
            periodSeconds: 2
            failureThreshold: 60
          livenessProbe:
            {{- if $hasGrpc }}
            # The `liveness` health key is SERVING while the process serves; `''` and the service
            # names follow readiness (Kafka/MongoDB), which must never restart a pod.
            grpc:
              port: 50051
              service: liveness
            {{- else }}
            httpGet:
              path: /health
              port: metrics
            {{- end }}
            periodSeconds: 10
            timeoutSeconds: 3
            failureThreshold: 3
          readinessProbe:
            httpGet:
              path: /ready
              port: metrics
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 2
          {{- if eq $svc "connector" }}
          {{- /* Ephemeral storage: the spool volume, /tmp (64Mi) and 128Mi for the container's logs. */}}
          {{- $ephemeral := printf "%dMi" (add $spoolVolumeMiB 64 128) }}
          {{- $resources := deepCopy $s.resources }}
          {{- $_ := set $resources "requests" (set (default dict $resources.requests) "ephemeral-storage" $ephemeral) }}
          {{- $_ := set $resources "limits" (set (default dict $resources.limits) "ephemeral-storage" $ephemeral) }}
          resources:
            {{- toYaml $resources | nindent 12 }}
          {{- else }}
          resources:
            {{- toYaml $s.resources | nindent 12 }}
          {{- end }}
          volumeMounts:
            {{- include "isams-sync.volumeMounts" $root | nindent 12 }}
            {{- if eq $svc "connector" }}
            - name: spool
              mountPath: {{ $s.spool.mountPath }}
            {{- end }}
            - name: service-identity
              mountPath: /etc/isams-sync/service-identity
              readOnly: true
      volumes:
        {{- include "isams-sync.volumes" $root | nindent 8 }}
        {{- if eq $svc "connector" }}
        - name: spool
          emptyDir:
            sizeLimit: {{ printf "%dMi" $spoolVolumeMiB }}
        {{- end }}
        # Only the keys of the caller→callee pairs this service is part of.
        - name: service-identity
          secret:
            secretName: {{ $v.serviceIdentity.existingSecret }}
            defaultMode: 0440
            items:
              {{- range $file := splitList " " (include "isams-sync.identityKeyFiles" $ctx) }}
              - key: {{ $file }}
                path: {{ $file }}
              {{- end }}
{{- if $s.pdb }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $name }}
  labels:
    {{- include "isams-sync.labels" $ctx | nindent 4 }}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      {{- include "isams-sync.selectorLabels" $ctx | nindent 6 }}
{{- end }}
{{- if $s.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $name }}
  labels:
    {{- include "isams-sync.labels" $ctx | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $name }}
  minReplicas: {{ $s.autoscaling.minReplicas }}
  maxReplicas: {{ $s.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $s.autoscaling.targetCPUUtilizationPercentage }}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
{{- end }}
{{- if $v.networkPolicy.enabled }}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ $name }}
  labels:
    {{- include "isams-sync.labels" $ctx | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "isams-sync.selectorLabels" $ctx | nindent 6 }}
  policyTypes: [Ingress, Egress]
  ingress:
    {{- if $hasGrpc }}
    # gRPC only from the services that call this one (each call also needs their service token).
    - from:
        {{- range $caller := splitList " " (include "isams-sync.grpcCallers" $ctx) }}
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: {{ $caller }}
              app.kubernetes.io/instance: {{ $root.Release.Name }}
        {{- end }}
      ports:
        - port: grpc
          protocol: TCP
    {{- else }}
    # The gateway is the only service reachable from outside the namespace.
    - ports:
        - port: http
          protocol: TCP
      {{- with $v.networkPolicy.gatewayIngressPeers }}
      from:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- end }}
    {{- with $v.networkPolicy.metricsPeers }}
    - from:
        {{- toYaml . | nindent 8 }}
      ports:
        - port: metrics
          protocol: TCP
    {{- end }}
  egress:
    - ports:
        - port: 53
          protocol: UDP
        - port: 53
          protocol: TCP
      {{- with $v.networkPolicy.dnsPeers }}
      to:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- if $usesKafka }}
    - ports:
        {{- range $v.kafka.ports }}
        - port: {{ . }}
          protocol: TCP
        {{- end }}
      {{- with $v.kafka.networkPeers }}
      to:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- end }}
    - ports:
        {{- range $v.mongo.ports }}
        - port: {{ . }}
          protocol: TCP
        {{- end }}
      {{- with $v.mongo.networkPeers }}
      to:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- with include "isams-sync.grpcCallees" $ctx }}
    # gRPC only to the services this one calls.
    - to:
        {{- range $callee := splitList " " . }}
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: {{ $callee }}
              app.kubernetes.io/instance: {{ $root.Release.Name }}
        {{- end }}
      ports:
        - port: 50051
          protocol: TCP
    {{- end }}
    {{- if and (eq $svc "connector") $s.smtp $s.smtp.host }}
    # E-mail notifications: the SMTP server only, on its port.
    - ports:
        - port: {{ $s.smtp.port }}
          protocol: TCP
      {{- with $s.smtp.networkPeers }}
      to:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- end }}
    {{- if eq $svc "connector" }}
    {{- $e := $v.egress }}
    # The static-egress path: the only way out to the internet.
    {{- if eq $e.mode "proxy" }}
    - ports:
        {{- range $e.proxy.ports }}
        - port: {{ . }}
          protocol: TCP
        {{- end }}
      {{- with $e.proxy.networkPeers }}
      to:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- else if eq $e.mode "meshGateway" }}
    - ports:
        {{- range $e.meshGateway.ports }}
        - port: {{ . }}
          protocol: TCP
        {{- end }}
      {{- with $e.meshGateway.networkPeers }}
      to:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- else }}
    - ports:
        {{- range $e.nat.ports }}
        - port: {{ . }}
          protocol: TCP
        {{- end }}
      to:
        - ipBlock:
            cidr: 0.0.0.0/0
            {{- with $e.nat.except }}
            except:
              {{- toYaml . | nindent 14 }}
            {{- end }}
    {{- end }}
    {{- end }}
{{- end }}
{{- if $v.metrics.serviceMonitor.enabled }}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ $name }}
  labels:
    {{- include "isams-sync.labels" $ctx | nindent 4 }}
    {{- with $v.metrics.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "isams-sync.selectorLabels" $ctx | nindent 6 }}
  endpoints:
    - port: metrics
      path: /metrics
      interval: {{ $v.metrics.serviceMonitor.interval }}
{{- end }}
{{- end -}}
