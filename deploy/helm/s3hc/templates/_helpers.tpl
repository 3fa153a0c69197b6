{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "s3hc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name: the prefix of every resource's name. */}}
{{- define "s3hc.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "s3hc.controlName" -}}
{{- printf "%s-control" (include "s3hc.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "s3hc.serviceName" -}}
{{- default (include "s3hc.fullname" .) .Values.service.name -}}
{{- end -}}

{{- define "s3hc.cacheClaimName" -}}
{{- default (printf "%s-cache" (include "s3hc.fullname" .)) .Values.cache.existingClaim -}}
{{- end -}}

{{- define "s3hc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "s3hc.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "s3hc.tokenSecretName" -}}
{{- default (printf "%s-token" (include "s3hc.controlName" .)) .Values.controlPlane.token.existingSecret -}}
{{- end -}}

{{/* Labels of every resource. */}}
{{- define "s3hc.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "s3hc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of the proxies (component proxy) and of the control plane (control). */}}
{{- define "s3hc.proxySelector" -}}
app.kubernetes.io/name: {{ include "s3hc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: proxy
{{- end -}}

{{- define "s3hc.controlSelector" -}}
app.kubernetes.io/name: {{ include "s3hc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: control
{{- end -}}

{{- define "s3hc.image" -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}

{{/* True ("true") when the proxy binds a port below 1024. */}}
{{- define "s3hc.lowPort" -}}
{{- $p := .Values.proxy.ports -}}
{{- if or (lt (int $p.http) 1024) (lt (int $p.admin) 1024) (and (gt (int $p.https) 0) (lt (int $p.https) 1024)) -}}
true
{{- end -}}
{{- end -}}

{{/*
The proxies' s3hc.yaml: proxy.config with the keys the chart owns set from the other values.
Every key here is one of docs/CONFIGURATION.md's (tests/deploy/test_helm_chart.py checks).
*/}}
{{- define "s3hc.proxyConfig" -}}
{{- $v := .Values -}}
{{- $cfg := deepCopy (default dict $v.proxy.config) -}}
{{- $addr := $v.proxy.bindAddress -}}
{{- $_ := set $cfg "listen" (printf "%s:%d" $addr (int $v.proxy.ports.http)) -}}
{{- $_ := set $cfg "admin_listen" (printf "%s:%d" $addr (int $v.proxy.ports.admin)) -}}
{{- if gt (int $v.proxy.ports.https) 0 -}}
{{- $pt := default dict (get $cfg "passthrough") -}}
{{- $_ := set $pt "listen" (printf "%s:%d" $addr (int $v.proxy.ports.https)) -}}
{{- $_ := set $cfg "passthrough" $pt -}}
{{- end -}}
{{- $cache := default dict (get $cfg "cache") -}}
{{- if ne $v.cache.type "none" -}}
{{- $_ := set $cache "dir" $v.cache.mountPath -}}
{{- end -}}
{{- if $v.localState.mirror -}}
{{- $_ := set $cache "mirror_dir" (printf "%s/mirror" $v.localState.mountPath) -}}
{{- end -}}
{{- if $v.policy.enabled -}}
{{- $_ := set $cache "policy_file" "/etc/s3hc/policy/policy.yaml" -}}
{{- end -}}
{{- if $cache -}}
{{- $_ := set $cfg "cache" $cache -}}
{{- end -}}
{{- if $v.controlPlane.enabled -}}
{{- $control := default dict (get $cfg "control") -}}
{{- $_ := set $control "endpoint" (printf "%s.%s.svc:%d" (include "s3hc.controlName" .) .Release.Namespace (int $v.controlPlane.port)) -}}
{{- $_ := set $control "policy_file" (printf "%s/pushed-policy.json" $v.localState.mountPath) -}}
{{- if $v.controlPlane.tls.secretName -}}
{{- $_ := set $control "ca_file" "/etc/s3hc/control-ca/ca.crt" -}}
{{- end -}}
{{- $_ := set $cfg "control" $control -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}
