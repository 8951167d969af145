/**
 * Defaults of a pod spec wherever it appears: in a Pod, and in the pod template of every workload
 * (PodTemplate, ReplicationController, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob).
 *
 * Templates get only these. The Pod-only defaults (enableServiceLinks, requests copied from limits,
 * host ports under hostNetwork) live in SetDefaults_Pod, so they never show in a template: upstream
 * keeps new defaults out of SetDefaults_PodSpec because each one changes every workload's template,
 * which rolls every Deployment on upgrade (kubernetes#69445).
 */

import { defaultContainer } from "./container.js";
import { defaultVolume } from "./volume.js";
import { defaultNil, defaultZero, items, struct, type JsonObject } from "./fields.js";

/** As v1.DefaultTerminationGracePeriodSeconds. */
export const TERMINATION_GRACE_PERIOD_SECONDS_DEFAULT = 30;
/** As v1.DefaultSchedulerName. */
export const SCHEDULER_NAME_DEFAULT = "default-scheduler";

/** SetDefaults_PodSpec, then the defaults of its volumes and of every container kind. */
export function defaultPodSpec(spec: JsonObject): void {
  defaultZero(spec, "dnsPolicy", "ClusterFirst");
  defaultZero(spec, "restartPolicy", "Always");
  defaultNil(spec, "securityContext", {});
  defaultNil(spec, "terminationGracePeriodSeconds", TERMINATION_GRACE_PERIOD_SECONDS_DEFAULT);
  defaultZero(spec, "schedulerName", SCHEDULER_NAME_DEFAULT);
  for (const volume of items(spec, "volumes")) defaultVolume(volume);
  for (const key of ["initContainers", "containers", "ephemeralContainers"]) {
    for (const container of items(spec, key)) defaultContainer(container);
  }
}

/** A PodTemplateSpec (held by value in every workload spec): defaults its pod spec. */
export function defaultPodTemplateSpec(template: JsonObject): void {
  const spec = struct(template, "spec");
  if (spec !== undefined) defaultPodSpec(spec);
}
