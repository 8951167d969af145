/**
 * The allowed values of enum-typed string fields (upstream's `// +enum` Go types), which upstream
 * publishes as `enum` and `kubectl explain` prints as `ENUM:`. kubernetes-types types them as plain
 * `string`, so the values come from here: every constant of the Go type, sorted, as in
 * k8s.io/api, k8s.io/apimachinery and k8s.io/apiextensions-apiserver v0.30. An `items` entry
 * constrains the items of a list field (PersistentVolumeClaimSpec.accessModes).
 */

export type FieldEnum = readonly string[] | { readonly items: readonly string[] };

/** Enum values by definition name, then JSON field name. */
export const FIELD_ENUMS: Readonly<Record<string, Readonly<Record<string, FieldEnum>>>> = {
  "io.k8s.api.apps.v1.DaemonSetUpdateStrategy": {
    type: ["OnDelete","RollingUpdate"],
  },
  "io.k8s.api.apps.v1.DeploymentStrategy": {
    type: ["Recreate","RollingUpdate"],
  },
  "io.k8s.api.apps.v1.StatefulSetSpec": {
    podManagementPolicy: ["OrderedReady","Parallel"],
  },
  "io.k8s.api.apps.v1.StatefulSetUpdateStrategy": {
    type: ["OnDelete","RollingUpdate"],
  },
  "io.k8s.api.batch.v1.CronJobSpec": {
    concurrencyPolicy: ["Allow","Forbid","Replace"],
  },
  "io.k8s.api.batch.v1.JobSpec": {
    completionMode: ["Indexed","NonIndexed"],
    podReplacementPolicy: ["Failed","TerminatingOrFailed"],
  },
  "io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement": {
    operator: ["In","NotIn"],
  },
  "io.k8s.api.batch.v1.PodFailurePolicyRule": {
    action: ["Count","FailIndex","FailJob","Ignore"],
  },
  "io.k8s.api.core.v1.AppArmorProfile": {
    type: ["Localhost","RuntimeDefault","Unconfined"],
  },
  "io.k8s.api.core.v1.AzureDiskVolumeSource": {
    cachingMode: ["None","ReadOnly","ReadWrite"],
    kind: ["Dedicated","Managed","Shared"],
  },
  "io.k8s.api.core.v1.Container": {
    imagePullPolicy: ["Always","IfNotPresent","Never"],
    terminationMessagePolicy: ["FallbackToLogsOnError","File"],
  },
  "io.k8s.api.core.v1.ContainerPort": {
    protocol: ["SCTP","TCP","UDP"],
  },
  "io.k8s.api.core.v1.EndpointPort": {
    protocol: ["SCTP","TCP","UDP"],
  },
  "io.k8s.api.core.v1.HTTPGetAction": {
    scheme: ["HTTP","HTTPS"],
  },
  "io.k8s.api.core.v1.HostPathVolumeSource": {
    type: ["","BlockDevice","CharDevice","Directory","DirectoryOrCreate","File","FileOrCreate","Socket"],
  },
  "io.k8s.api.core.v1.ModifyVolumeStatus": {
    status: ["InProgress","Infeasible","Pending"],
  },
  "io.k8s.api.core.v1.NamespaceStatus": {
    phase: ["Active","Terminating"],
  },
  "io.k8s.api.core.v1.NodeSelectorRequirement": {
    operator: ["DoesNotExist","Exists","Gt","In","Lt","NotIn"],
  },
  "io.k8s.api.core.v1.NodeStatus": {
    phase: ["Pending","Running","Terminated"],
  },
  "io.k8s.api.core.v1.PersistentVolumeClaimSpec": {
    accessModes: { items: ["ReadOnlyMany","ReadWriteMany","ReadWriteOnce","ReadWriteOncePod"] },
    volumeMode: ["Block","Filesystem"],
  },
  "io.k8s.api.core.v1.PersistentVolumeClaimStatus": {
    accessModes: { items: ["ReadOnlyMany","ReadWriteMany","ReadWriteOnce","ReadWriteOncePod"] },
    phase: ["Bound","Lost","Pending"],
  },
  "io.k8s.api.core.v1.PersistentVolumeSpec": {
    accessModes: { items: ["ReadOnlyMany","ReadWriteMany","ReadWriteOnce","ReadWriteOncePod"] },
    persistentVolumeReclaimPolicy: ["Delete","Recycle","Retain"],
    volumeMode: ["Block","Filesystem"],
  },
  "io.k8s.api.core.v1.PersistentVolumeStatus": {
    phase: ["Available","Bound","Failed","Pending","Released"],
  },
  "io.k8s.api.core.v1.PodSecurityContext": {
    fsGroupChangePolicy: ["Always","OnRootMismatch"],
  },
  "io.k8s.api.core.v1.PodSpec": {
    dnsPolicy: ["ClusterFirst","ClusterFirstWithHostNet","Default","None"],
    preemptionPolicy: ["Never","PreemptLowerPriority"],
    restartPolicy: ["Always","Never","OnFailure"],
  },
  "io.k8s.api.core.v1.PodStatus": {
    phase: ["Failed","Pending","Running","Succeeded","Unknown"],
    qosClass: ["BestEffort","Burstable","Guaranteed"],
  },
  "io.k8s.api.core.v1.PortStatus": {
    protocol: ["SCTP","TCP","UDP"],
  },
  "io.k8s.api.core.v1.ResourceQuotaSpec": {
    scopes: { items: ["BestEffort","CrossNamespacePodAffinity","NotBestEffort","NotTerminating","PriorityClass","Terminating"] },
  },
  "io.k8s.api.core.v1.ScopedResourceSelectorRequirement": {
    operator: ["DoesNotExist","Exists","In","NotIn"],
    scopeName: ["BestEffort","CrossNamespacePodAffinity","NotBestEffort","NotTerminating","PriorityClass","Terminating"],
  },
  "io.k8s.api.core.v1.SeccompProfile": {
    type: ["Localhost","RuntimeDefault","Unconfined"],
  },
  "io.k8s.api.core.v1.SecurityContext": {
    procMount: ["Default","Unmasked"],
  },
  "io.k8s.api.core.v1.ServicePort": {
    protocol: ["SCTP","TCP","UDP"],
  },
  "io.k8s.api.core.v1.ServiceSpec": {
    externalTrafficPolicy: ["Cluster","Local"],
    internalTrafficPolicy: ["Cluster","Local"],
    ipFamilies: { items: ["","IPv4","IPv6"] },
    ipFamilyPolicy: ["PreferDualStack","RequireDualStack","SingleStack"],
    sessionAffinity: ["ClientIP","None"],
    type: ["ClusterIP","ExternalName","LoadBalancer","NodePort"],
  },
  "io.k8s.api.core.v1.Taint": {
    effect: ["NoExecute","NoSchedule","PreferNoSchedule"],
  },
  "io.k8s.api.core.v1.Toleration": {
    effect: ["NoExecute","NoSchedule","PreferNoSchedule"],
    operator: ["Equal","Exists"],
  },
  "io.k8s.api.core.v1.TopologySpreadConstraint": {
    nodeAffinityPolicy: ["Honor","Ignore"],
    nodeTaintsPolicy: ["Honor","Ignore"],
    whenUnsatisfiable: ["DoNotSchedule","ScheduleAnyway"],
  },
  "io.k8s.api.core.v1.VolumeMount": {
    mountPropagation: ["Bidirectional","HostToContainer","None"],
  },
  "io.k8s.api.policy.v1.PodDisruptionBudgetSpec": {
    unhealthyPodEvictionPolicy: ["AlwaysAllow","IfHealthyBudget"],
  },
  "io.k8s.api.storage.v1.StorageClass": {
    volumeBindingMode: ["Immediate","WaitForFirstConsumer"],
  },
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.ValidationRule": {
    reason: ["FieldValueDuplicate","FieldValueForbidden","FieldValueInvalid","FieldValueRequired"],
  },
};

/** The enum of a field: where it applies and its values; undefined when the field is not an enum. */
export function fieldEnum(definition: string, field: string): { at: "field" | "items"; values: readonly string[] } | undefined {
  const e = FIELD_ENUMS[definition]?.[field];
  if (e === undefined) return undefined;
  return "items" in e ? { at: "items", values: e.items } : { at: "field", values: e as readonly string[] };
}
