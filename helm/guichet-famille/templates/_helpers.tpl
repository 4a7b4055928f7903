{{/* Names and labels shared by every object of the chart. */}}
{{- define "guichet.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "guichet.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "guichet.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "guichet.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: guichet-famille
{{- end -}}

{{/* Selector labels of one component: include "guichet.selector" (list . "web") */}}
{{- define "guichet.selector" -}}
{{- $ctx := index . 0 -}}
app.kubernetes.io/name: {{ include "guichet.name" $ctx }}
app.kubernetes.io/instance: {{ $ctx.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "guichet.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "guichet.secretName" -}}
{{- .Values.existingSecret | default (printf "%s-secrets" (include "guichet.fullname" .)) -}}
{{- end -}}

{{- define "guichet.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "guichet.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "guichet.primaryHost" -}}
{{- required "hosts: at least one host name is required" (first .Values.hosts) -}}
{{- end -}}

{{/* Non-secret environment, as ConfigMap data. */}}
{{- define "guichet.configData" -}}
DJANGO_SETTINGS_MODULE: portal.settings.prod
ALLOWED_HOSTS: {{ join "," .Values.hosts | quote }}
CSRF_TRUSTED_ORIGINS: {{ include "guichet.origins" . | quote }}
SITE_URL: {{ printf "https://%s" (include "guichet.primaryHost" .) | quote }}
LOG_LEVEL: {{ .Values.config.logLevel | quote }}
SENTRY_ENVIRONMENT: {{ .Values.config.sentryEnvironment | quote }}
SENTRY_TRACES_SAMPLE_RATE: {{ .Values.config.sentryTracesSampleRate | quote }}
EMAIL_HOST: {{ .Values.config.emailHost | quote }}
EMAIL_PORT: {{ .Values.config.emailPort | quote }}
DEFAULT_FROM_EMAIL: {{ .Values.config.defaultFromEmail | quote }}
TOWN_LOOKUP_TTL: {{ .Values.config.townLookupTtl | quote }}
VAULT_MASTER_KEY_ID: {{ .Values.config.vaultMasterKeyId | quote }}
MEDIA_ROOT: /var/lib/guichet/media
PROMETHEUS_MULTIPROC_DIR: /tmp/prometheus
FORWARDED_ALLOW_IPS: "*"
{{- range $key, $value := .Values.extraEnv }}
{{ $key }}: {{ $value | quote }}
{{- end }}
{{- end -}}

{{- define "guichet.origins" -}}
{{- $origins := list -}}
{{- range .Values.hosts -}}{{- $origins = append $origins (printf "https://%s" .) -}}{{- end -}}
{{- join "," $origins -}}
{{- end -}}

{{/* Secret environment, as Secret stringData (only when no existingSecret). */}}
{{- define "guichet.secretData" -}}
SECRET_KEY: {{ required "secrets.secretKey (or existingSecret) is required" .Values.secrets.secretKey | quote }}
DATABASE_URL: {{ required "secrets.databaseUrl (or existingSecret) is required" .Values.secrets.databaseUrl | quote }}
REDIS_URL: {{ required "secrets.redisUrl (or existingSecret) is required" .Values.secrets.redisUrl | quote }}
VAULT_MASTER_KEY: {{ required "secrets.vaultMasterKey (or existingSecret) is required" .Values.secrets.vaultMasterKey | quote }}
VAULT_RETIRED_MASTER_KEYS: {{ .Values.secrets.vaultRetiredMasterKeys | quote }}
METRICS_TOKEN: {{ .Values.secrets.metricsToken | quote }}
SENTRY_DSN: {{ .Values.secrets.sentryDsn | quote }}
EMAIL_HOST_PASSWORD: {{ .Values.secrets.emailHostPassword | quote }}
{{- end -}}

{{/* Pod-level settings shared by web, worker, beat and the migration job. */}}
{{- define "guichet.podCommon" -}}
serviceAccountName: {{ include "guichet.serviceAccountName" . }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* envFrom of every container: ConfigMap + Secret (names given as a list). */}}
{{- define "guichet.envFrom" -}}
{{- $ctx := index . 0 -}}
envFrom:
  - configMapRef:
      name: {{ index . 1 }}
  - secretRef:
      name: {{ index . 2 }}
{{- end -}}

{{/* Writable paths on a read-only root filesystem, plus the media volume. */}}
{{- define "guichet.volumeMounts" -}}
volumeMounts:
  - name: tmp
    mountPath: /tmp
  - name: media
    mountPath: /var/lib/guichet/media
{{- end -}}

{{- define "guichet.volumes" -}}
volumes:
  - name: tmp
    emptyDir:
      medium: Memory
      sizeLimit: 256Mi
  - name: media
    {{- if .Values.media.persistence.enabled }}
    persistentVolumeClaim:
      claimName: {{ .Values.media.persistence.existingClaim | default (printf "%s-media" (include "guichet.fullname" .)) }}
    {{- else }}
    emptyDir: {}
    {{- end }}
{{- end -}}

{{- define "guichet.podAnnotations" -}}
checksum/config: {{ include "guichet.configData" . | sha256sum }}
{{- if not .Values.existingSecret }}
checksum/secret: {{ include "guichet.secretData" . | sha256sum }}
{{- end }}
{{- end -}}


{{/* Init container of web, worker and beat: refuses to serve with unsafe
settings or missing secrets (`manage.py check --deploy --fail-level WARNING`). */}}
{{- define "guichet.deployCheck" -}}
{{- $ctx := index . 0 -}}
initContainers:
  - name: deploy-check
    image: {{ include "guichet.image" $ctx }}
    imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
    args: ["check"]
    {{- include "guichet.envFrom" (list $ctx (index . 1) (index . 2)) | nindent 4 }}
    resources:
      requests: {cpu: 50m, memory: 192Mi}
      limits: {memory: 384Mi}
    securityContext:
      {{- toYaml $ctx.Values.securityContext | nindent 6 }}
    volumeMounts:
      - name: tmp
        mountPath: /tmp
{{- end -}}
