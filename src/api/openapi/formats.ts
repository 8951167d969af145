/**
 * Number and byte formats TypeScript cannot express. kubernetes-types types every Go integer
 * and float as `number` and a `[]byte` as `string`; upstream's OpenAPI says `integer/int32`,
 * `integer/int64`, `number/double` or `string/byte`. Integers default to int32 (most API fields);
 * this table lists the exceptions, from the Go field types in k8s.io/api, k8s.io/apimachinery and
 * k8s.io/apiextensions-apiserver v0.30. `items:` and `values:` put the format on a list's items
 * or a map's values (`supplementalGroups []int64`, Secret `data map[string][]byte`).
 */

export type FieldFormat = "int64" | "double" | "float" | "byte";

/** Where a format applies: the field itself, its list items or its map values. */
export type FieldFormatSpec = FieldFormat | `items:${FieldFormat}` | `values:${FieldFormat}`;

/** Format overrides by definition name, then JSON field name. */
export const FIELD_FORMATS: Readonly<Record<string, Readonly<Record<string, FieldFormatSpec>>>> = {
  "io.k8s.api.apps.v1.ControllerRevision": { revision: "int64" },
  "io.k8s.api.apps.v1.DaemonSetStatus": { observedGeneration: "int64" },
  "io.k8s.api.apps.v1.DeploymentStatus": { observedGeneration: "int64" },
  "io.k8s.api.apps.v1.ReplicaSetStatus": { observedGeneration: "int64" },
  "io.k8s.api.apps.v1.StatefulSetStatus": { observedGeneration: "int64" },
  "io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerStatus": { observedGeneration: "int64" },
  "io.k8s.api.batch.v1.CronJobSpec": { startingDeadlineSeconds: "int64" },
  "io.k8s.api.batch.v1.JobSpec": { activeDeadlineSeconds: "int64" },
  "io.k8s.api.core.v1.ConfigMap": { binaryData: "values:byte" },
  "io.k8s.api.core.v1.ContainerImage": { sizeBytes: "int64" },
  "io.k8s.api.core.v1.PodLogOptions": { limitBytes: "int64", sinceSeconds: "int64", tailLines: "int64" },
  "io.k8s.api.core.v1.PodSecurityContext": { fsGroup: "int64", runAsGroup: "int64", runAsUser: "int64", supplementalGroups: "items:int64" },
  "io.k8s.api.core.v1.PodSpec": { activeDeadlineSeconds: "int64", terminationGracePeriodSeconds: "int64" },
  "io.k8s.api.core.v1.Probe": { terminationGracePeriodSeconds: "int64" },
  "io.k8s.api.core.v1.RangeAllocation": { data: "byte" },
  "io.k8s.api.core.v1.ReplicationControllerStatus": { observedGeneration: "int64" },
  "io.k8s.api.core.v1.Secret": { data: "values:byte" },
  "io.k8s.api.core.v1.SecurityContext": { runAsGroup: "int64", runAsUser: "int64" },
  "io.k8s.api.core.v1.ServiceAccountTokenProjection": { expirationSeconds: "int64" },
  "io.k8s.api.core.v1.SleepAction": { seconds: "int64" },
  "io.k8s.api.core.v1.Toleration": { tolerationSeconds: "int64" },
  "io.k8s.api.policy.v1.PodDisruptionBudgetStatus": { observedGeneration: "int64" },
  "io.k8s.api.storage.v1.TokenRequest": { expirationSeconds: "int64" },
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps": { maximum: "double", maxItems: "int64", maxLength: "int64", maxProperties: "int64", minimum: "double", minItems: "int64", minLength: "int64", minProperties: "int64", multipleOf: "double" },
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.WebhookClientConfig": { caBundle: "byte" },
  "io.k8s.apimachinery.pkg.apis.meta.v1.Condition": { observedGeneration: "int64" },
  "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions": { gracePeriodSeconds: "int64" },
  "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta": { remainingItemCount: "int64" },
  "io.k8s.apimachinery.pkg.apis.meta.v1.ListOptions": { limit: "int64", timeoutSeconds: "int64" },
  "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": { deletionGracePeriodSeconds: "int64", generation: "int64" },
  "io.k8s.apimachinery.pkg.apis.meta.v1.Timestamp": { seconds: "int64" },
};

/** The format override of a field, split into where it applies and the format; undefined when none. */
export function fieldFormat(definition: string, field: string): { at: "field" | "items" | "values"; format: FieldFormat } | undefined {
  const spec = FIELD_FORMATS[definition]?.[field];
  if (spec === undefined) return undefined;
  const colon = spec.indexOf(":");
  if (colon < 0) return { at: "field", format: spec as FieldFormat };
  return { at: spec.slice(0, colon) as "items" | "values", format: spec.slice(colon + 1) as FieldFormat };
}
