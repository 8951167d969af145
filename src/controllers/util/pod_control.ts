/**
 * PodControl (pkg/controller/controller_utils.go RealPodControl): how controllers create pods from a
 * template and delete them, with the events upstream records on the owner:
 *   Normal  SuccessfulCreate  Created pod: web-7d4b9-x2x7q
 *   Warning FailedCreate      Error creating: <the API error>
 *   Normal  SuccessfulDelete  Deleted pod: web-7d4b9-x2x7q
 *   Warning FailedDelete      Error deleting: <the API error>
 */
import type { Pod, PodTemplateSpec } from "kubernetes-types/core/v1.js";
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import { ApiError } from "../../api/status.js";
import type { KubeObject, ResourceClient, RestClient } from "../../client/rest_client.js";
import type { EventRecorder } from "../events/recorder.js";

export const SUCCESSFUL_CREATE_POD_REASON = "SuccessfulCreate";
export const FAILED_CREATE_POD_REASON = "FailedCreate";
export const SUCCESSFUL_DELETE_POD_REASON = "SuccessfulDelete";
export const FAILED_DELETE_POD_REASON = "FailedDelete";

/** The cause a create gets while its namespace is being deleted (no event for it, as upstream). */
export const NAMESPACE_TERMINATING_CAUSE = "NamespaceTerminating";

/** DNS-1123 subdomain limits the API server applies to pod names. */
const POD_NAME_LENGTH_MAX = 253;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** `<owner>-`, or the bare name when that is not a valid name prefix (getPodsPrefix). */
export function podsPrefix(controllerName: string): string {
  const prefix = `${controllerName}-`;
  // ValidatePodName(prefix, true) strips the trailing dash before checking the subdomain rules.
  const trimmed = prefix.slice(0, -1);
  return trimmed.length <= POD_NAME_LENGTH_MAX && DNS1123_SUBDOMAIN.test(trimmed) ? prefix : controllerName;
}

/** The pod a template makes for `owner` (GetPodFromTemplate): labels, annotations, finalizers, spec copied. */
export function podFromTemplate(template: PodTemplateSpec, owner: KubeObject, controllerRef: OwnerReference | undefined, generateName?: string): Pod {
  const tm = template.metadata ?? {};
  const pod: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: generateName ?? podsPrefix(owner.metadata?.name ?? ""),
      ...(tm.labels === undefined ? {} : { labels: { ...tm.labels } }),
      ...(tm.annotations === undefined ? {} : { annotations: { ...tm.annotations } }),
      ...(tm.finalizers === undefined ? {} : { finalizers: [...tm.finalizers] }),
      ...(controllerRef === undefined ? {} : { ownerReferences: [{ ...controllerRef }] }),
    },
    spec: structuredClone(template.spec ?? { containers: [] }),
  };
  return pod;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export interface CreatePodsOptions {
  /** Overrides `<owner>-` (Jobs use `<job>-` too; DaemonSets pin nodeName in the template). */
  readonly generateName?: string;
}

/** Creates and deletes pods for controllers, recording upstream's events on the owner. */
export class PodControl {
  readonly #pods: ResourceClient<Pod>;
  readonly #recorder: EventRecorder;

  constructor(client: RestClient, recorder: EventRecorder) {
    this.#pods = client.resource<Pod>("", "v1", "pods");
    this.#recorder = recorder;
  }

  /** Creates one pod of `template` in `namespace` owned by `owner`; resolves with the created pod. */
  async createPods(namespace: string, template: PodTemplateSpec, owner: KubeObject, controllerRef: OwnerReference | undefined, options: CreatePodsOptions = {}): Promise<Pod> {
    const pod = podFromTemplate(template, owner, controllerRef, options.generateName);
    if (Object.keys(pod.metadata?.labels ?? {}).length === 0) throw new Error("unable to create pods, no labels");
    let created: Pod;
    try {
      created = await this.#pods.namespace(namespace).create(pod);
    } catch (err) {
      const terminating = err instanceof ApiError && (err.details?.causes ?? []).some((c) => c.reason === NAMESPACE_TERMINATING_CAUSE);
      if (!terminating) this.#recorder.event(owner, "Warning", FAILED_CREATE_POD_REASON, `Error creating: ${errorText(err)}`);
      throw err;
    }
    this.#recorder.event(owner, "Normal", SUCCESSFUL_CREATE_POD_REASON, `Created pod: ${created.metadata?.name}`);
    return created;
  }

  /** Deletes pod `podName`; a pod already gone rejects with the NotFound ApiError and records nothing. */
  async deletePod(namespace: string, podName: string, owner: KubeObject): Promise<void> {
    try {
      await this.#pods.namespace(namespace).delete(podName);
    } catch (err) {
      if (err instanceof ApiError && err.reason === "NotFound") throw err;
      this.#recorder.event(owner, "Warning", FAILED_DELETE_POD_REASON, `Error deleting: ${errorText(err)}`);
      throw new Error(`unable to delete pods: ${errorText(err)}`, { cause: err });
    }
    this.#recorder.event(owner, "Normal", SUCCESSFUL_DELETE_POD_REASON, `Deleted pod: ${podName}`);
  }

  /** Patches a pod (adoption/release use ControllerRefManager; this is for the rest). */
  async patchPod(namespace: string, name: string, patch: unknown): Promise<Pod> {
    return this.#pods.namespace(namespace).patch(name, "strategic", patch);
  }
}
