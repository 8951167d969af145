/**
 * The Job controller (pkg/controller/job/job_controller.go, Kubernetes 1.32). A sync reads the Job and
 * its pods from the caches, lets decideJob (job_core.ts) say what to do, deletes and creates pods, and
 * then tracks finished pods the way 1.32 does with the `batch.kubernetes.io/job-tracking` finalizer:
 *
 *   1. a finished pod's UID goes into status.uncountedTerminatedPods (written first, so a crash
 *      cannot lose it),
 *   2. its finalizer is removed (the pod may now go away),
 *   3. UIDs whose pods no longer carry the finalizer move from uncounted into succeeded/failed,
 *   4. Complete/Failed is added once nothing is uncounted and no pod is terminating.
 *
 * Finalizer removals sent but not yet seen in the cache are remembered per Job, so a stale cache
 * cannot count a pod twice (upstream's finalizerExpectations).
 */
import type { Pod } from "kubernetes-types/core/v1.js";
import type { Job, JobCondition, JobStatus } from "kubernetes-types/batch/v1.js";
import { ApiError } from "../../api/status.js";
import { Lister } from "../../client/lister.js";
import { selectorFromLabelSelector } from "../../client/label_selector.js";
import type { ResourceClient } from "../../client/rest_client.js";
import { metaNamespaceKey, objectOfDelete, splitMetaNamespaceKey, type DeletedFinalStateUnknown } from "../../client/store.js";
import { QueueController, type ControllerContext } from "../controller.js";
import { rfc3339, type EventRecorder } from "../events/recorder.js";
import { ControllerRefManager, getControllerOf, newControllerRef, recheckDeletionTimestamp, type GroupVersionKind } from "../util/controller_ref.js";
import { ControllerExpectations } from "../util/expectations.js";
import { PodControl } from "../util/pod_control.js";
import {
  decideJob,
  hasJobTrackingFinalizer,
  isIndexedJob,
  isJobFinished,
  isPodFailed,
  completionIndexOf,
  formatIndexes,
  parseIndexes,
  podTemplateForIndex,
  JOB_TRACKING_FINALIZER,
  MAX_UNCOUNTED_PODS,
  NO_BACKOFF,
  type BackoffRecord,
  type JobDecision,
} from "./job_core.js";

export const JOB_KIND: GroupVersionKind = { group: "batch", version: "v1", kind: "Job" };

/** How long a sync waits for the cache to show the Job's own latest status write before acting anyway. */
export const STALE_CACHE_WAIT_MS_MAX = 5_000;

/** As upstream's slow start: creations go out in batches of 1, 2, 4, … and stop at the first failure. */
const SLOW_START_INITIAL_BATCH_SIZE = 1;

export interface JobControllerOptions {
  readonly recorder: EventRecorder;
}

/** Sets (or flips) a condition of `type`; returns whether anything changed (ensureJobConditionStatus). */
export function ensureJobCondition(conditions: JobCondition[], c: { type: string; status: "True" | "False"; reason: string; message: string }, nowIso: string): boolean {
  const existing = conditions.find((x) => x.type === c.type);
  if (existing === undefined) {
    if (c.status === "False") return false; // from nothing to False means nothing
    conditions.push({ type: c.type, status: c.status, reason: c.reason, message: c.message, lastProbeTime: nowIso, lastTransitionTime: nowIso });
    return true;
  }
  if (existing.status === c.status && existing.reason === c.reason && existing.message === c.message) return false;
  if (existing.status !== c.status) existing.lastTransitionTime = nowIso;
  existing.status = c.status;
  existing.reason = c.reason;
  existing.message = c.message;
  existing.lastProbeTime = nowIso;
  return true;
}

/** Moves uncounted UIDs whose pods no longer carry the finalizer into the counters (cleanUncountedPodsWithoutFinalizers). */
function cleanUncounted(status: JobStatus, uidsWithFinalizer: ReadonlySet<string>): boolean {
  const u = (status.uncountedTerminatedPods ??= {});
  let changed = false;
  const succ = (u.succeeded ?? []).filter((x) => uidsWithFinalizer.has(x));
  if (succ.length !== (u.succeeded ?? []).length) {
    status.succeeded = (status.succeeded ?? 0) + (u.succeeded!.length - succ.length);
    u.succeeded = succ;
    changed = true;
  }
  const fail = (u.failed ?? []).filter((x) => uidsWithFinalizer.has(x));
  if (fail.length !== (u.failed ?? []).length) {
    status.failed = (status.failed ?? 0) + (u.failed!.length - fail.length);
    u.failed = fail;
    changed = true;
  }
  return changed;
}

export class JobController extends QueueController {
  readonly #jobs: Lister<Job>;
  readonly #pods: Lister<Pod>;
  readonly #jobClient: ResourceClient<Job>;
  readonly #podClient: ResourceClient<Pod>;
  readonly #recorder: EventRecorder;
  readonly #podControl: PodControl;
  readonly expectations: ControllerExpectations;
  /** Per Job key: pod UIDs whose finalizer removal was sent and not yet observed. */
  readonly #expectedRmFinalizers = new Map<string, Set<string>>();
  /**
   * Per Job key: resourceVersions our own status writes replaced. A cached Job still at one of them
   * predates our write; acting on it could recount pods whose finalizers we already removed (and
   * create pods for completions already counted), so the sync waits for the cache, whose update
   * event re-queues the key.
   */
  readonly #supersededVersions = new Map<string, { versions: Set<string>; sinceMs: number }>();
  /** Per Job key: the pod-failure backoff (in memory, as upstream's podBackoffStore). */
  readonly #backoff = new Map<string, BackoffRecord>();

  constructor(ctx: ControllerContext, options: JobControllerOptions) {
    super(ctx, "job");
    this.#jobs = new Lister<Job>(ctx.informers.jobs().indexer);
    this.#pods = new Lister<Pod>(ctx.informers.pods().indexer);
    this.#jobClient = ctx.client.resource<Job>("batch", "v1", "jobs");
    this.#podClient = ctx.client.resource<Pod>("", "v1", "pods");
    this.#recorder = options.recorder;
    this.#podControl = new PodControl(ctx.client, options.recorder);
    this.expectations = new ControllerExpectations(ctx.env.clock);
  }

  init(): void {
    this.ctx.informers.jobs().addEventHandler({
      onAdd: (j) => this.#enqueue(j),
      onUpdate: (_o, j) => this.#enqueue(j),
      onDelete: (j) => {
        const job = objectOfDelete(j);
        const key = metaNamespaceKey(job);
        this.expectations.deleteExpectations(key);
        this.#supersededVersions.delete(key);
        this.queue.add(key);
      },
    });
    this.ctx.informers.pods().addEventHandler({
      onAdd: (p) => {
        const key = this.#jobKeyOf(p);
        if (key === undefined) return;
        if (p.metadata?.deletionTimestamp != null) this.expectations.deletionObserved(key);
        else this.expectations.creationObserved(key);
        this.queue.add(key);
      },
      onUpdate: (oldPod, p) => {
        if (oldPod.metadata?.resourceVersion === p.metadata?.resourceVersion) return;
        const key = this.#jobKeyOf(p) ?? this.#jobKeyOf(oldPod);
        if (key === undefined) return;
        if (!hasJobTrackingFinalizer(p)) this.#finalizerRemovalObserved(key, p.metadata?.uid ?? "");
        if (p.metadata?.deletionTimestamp != null && oldPod.metadata?.deletionTimestamp == null) this.expectations.deletionObserved(key);
        this.queue.add(key);
      },
      onDelete: (d: Pod | DeletedFinalStateUnknown<Pod>) => {
        const p = objectOfDelete(d);
        const key = this.#jobKeyOf(p);
        if (key === undefined) return;
        this.#finalizerRemovalObserved(key, p.metadata?.uid ?? "");
        if (p.metadata?.deletionTimestamp == null) this.expectations.deletionObserved(key);
        this.queue.add(key);
      },
    });
  }

  #enqueue(job: Job): void {
    this.queue.add(metaNamespaceKey(job));
  }

  #jobKeyOf(pod: Pod): string | undefined {
    const ref = getControllerOf(pod);
    if (ref === undefined || ref.kind !== "Job" || ref.apiVersion?.startsWith("batch/") !== true) return undefined;
    return `${pod.metadata?.namespace}/${ref.name}`;
  }

  #finalizerRemovalObserved(key: string, uid: string): void {
    const set = this.#expectedRmFinalizers.get(key);
    if (set === undefined) return;
    set.delete(uid);
    if (set.size === 0) this.#expectedRmFinalizers.delete(key);
  }

  protected async sync(key: string): Promise<void> {
    const [ns, name] = splitMetaNamespaceKey(key);
    const cached = this.#jobs.get(ns, name);
    if (cached === undefined) {
      this.expectations.deleteExpectations(key);
      this.#backoff.delete(key);
      // Pods of a Job that is gone must not keep their finalizer forever.
      const orphans = this.#pods.namespace(ns).list().filter((p) => this.#jobKeyOf(p) === key && hasJobTrackingFinalizer(p));
      await this.#removeFinalizers(key, orphans);
      return;
    }
    const superseded = this.#supersededVersions.get(key);
    if (superseded !== undefined) {
      // Bounded: a cache that never catches up (a lost event) must not stall the Job for good.
      const waitedMs = this.ctx.env.clock.nowMs() - superseded.sinceMs;
      if (superseded.versions.has(cached.metadata?.resourceVersion ?? "") && waitedMs < STALE_CACHE_WAIT_MS_MAX) {
        this.queue.addAfter(key, STALE_CACHE_WAIT_MS_MAX - waitedMs);
        return;
      }
      this.#supersededVersions.delete(key);
    }
    const job = structuredClone(cached);
    const pods = await this.#podsOf(job);
    if (isJobFinished(job)) {
      // Counted already; the pods only need to be let go.
      await this.#removeFinalizers(key, pods.filter(hasJobTrackingFinalizer));
      return;
    }
    const nowMs = this.ctx.env.clock.wallMs();
    const nowIso = rfc3339(nowMs);
    const expectedRm = this.#expectedRmFinalizers.get(key) ?? new Set<string>();
    const d = decideJob({
      job,
      pods,
      nowMs,
      backoff: this.#backoff.get(key) ?? NO_BACKOFF,
      expectedRmFinalizers: expectedRm,
      satisfiedExpectations: this.expectations.satisfiedExpectations(key),
    });
    const status: JobStatus = (job.status ??= {});
    const before = JSON.stringify(status);
    if (status.startTime == null && job.spec?.suspend !== true) status.startTime = nowIso;
    if (d.suspended !== undefined) {
      const conditions = (status.conditions ??= []);
      if (ensureJobCondition(conditions, { type: "Suspended", ...d.suspended }, nowIso)) {
        if (d.suspended.status === "True") this.#recorder.event(job, "Normal", "Suspended", "Job suspended");
        else {
          this.#recorder.event(job, "Normal", "Resumed", "Job resumed");
          // activeDeadlineSeconds counts the time the Job is continuously active.
          status.startTime = nowIso;
        }
      }
    }
    if (d.requeueAfterMs !== undefined) this.queue.addAfter(key, d.requeueAfterMs);

    let manageErr: unknown;
    try {
      await this.#deletePods(key, job, d.podsToDelete);
      await this.#createPods(key, job, d);
    } catch (err) {
      manageErr = err;
    }
    status.active = d.active;
    status.ready = d.ready;
    status.terminating = d.terminating;
    await this.#trackStatus(key, job, pods, d, before, nowIso);
    this.#backoff.set(key, d.backoff);
    if (manageErr !== undefined) throw manageErr;
  }

  /** The Job's pods: owned ones that match, plus orphans adopted. */
  async #podsOf(job: Job): Promise<Pod[]> {
    const ns = job.metadata?.namespace ?? "default";
    const selector = selectorFromLabelSelector(job.spec?.selector);
    const candidates = this.#pods.namespace(ns).list().filter((p) => {
      const ref = getControllerOf(p);
      return ref === undefined ? selector.matches(p.metadata?.labels) : ref.uid === job.metadata?.uid;
    });
    const jobs = this.#jobClient.namespace(ns);
    const manager = new ControllerRefManager<Pod>({
      controller: job,
      controllerKind: JOB_KIND,
      selector,
      client: this.#podClient.namespace(ns),
      canAdopt: recheckDeletionTimestamp(job, JOB_KIND, () => jobs.get(job.metadata!.name!)),
    });
    return manager.claim(candidates);
  }

  async #deletePods(key: string, job: Job, pods: readonly Pod[]): Promise<void> {
    if (pods.length === 0) return;
    this.expectations.expectDeletions(key, pods.length);
    const errors: unknown[] = [];
    await Promise.all(
      pods.map(async (p) => {
        try {
          await this.#podControl.deletePod(p.metadata!.namespace!, p.metadata!.name!, job);
        } catch (err) {
          this.expectations.deletionObserved(key);
          if (!(err instanceof ApiError && err.reason === "NotFound")) errors.push(err);
        }
      }),
    );
    if (errors.length > 0) throw errors[0];
  }

  async #createPods(key: string, job: Job, d: JobDecision): Promise<void> {
    const want = d.indexesToCreate;
    if (want.length === 0) return;
    this.expectations.expectCreations(key, want.length);
    const template = structuredClone(job.spec!.template);
    const tm = (template.metadata ??= {});
    tm.finalizers = [...(tm.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER), JOB_TRACKING_FINALIZER];
    const ref = newControllerRef(job, JOB_KIND);
    const ns = job.metadata!.namespace!;
    let created = 0;
    let batch = SLOW_START_INITIAL_BATCH_SIZE;
    let firstErr: unknown;
    while (created < want.length && firstErr === undefined) {
      const part = want.slice(created, created + batch);
      const results = await Promise.allSettled(
        part.map((ix) => {
          const t = ix === undefined ? template : podTemplateForIndex(job, template, ix);
          const generateName = ix === undefined ? undefined : `${job.metadata!.name}-${ix}-`;
          return this.#podControl.createPods(ns, t, job, ref, generateName === undefined ? {} : { generateName });
        }),
      );
      for (const r of results) {
        if (r.status === "rejected") {
          this.expectations.creationObserved(key);
          firstErr ??= r.reason;
        }
      }
      created += part.length;
      batch = Math.min(2 * batch, want.length - created);
    }
    // Creations never attempted will never be observed.
    if (created < want.length) this.expectations.lowerExpectations(key, want.length - created, 0);
    if (firstErr !== undefined) throw firstErr;
  }

  /** Steps 1–4 of the header: uncounted, finalizers, counters, terminal condition. */
  async #trackStatus(key: string, job: Job, pods: readonly Pod[], d: JobDecision, before: string, nowIso: string): Promise<void> {
    const status = job.status!;
    const expectedRm = this.#expectedRmFinalizers.get(key) ?? new Set<string>();
    const uid = (p: Pod): string => p.metadata?.uid ?? "";
    const withFinalizer = pods.filter((p) => hasJobTrackingFinalizer(p) && !expectedRm.has(uid(p)));
    const uidsWithFinalizer = new Set(withFinalizer.map(uid));
    cleanUncounted(status, uidsWithFinalizer);
    const u = (status.uncountedTerminatedPods ??= {});
    const uncSucc = new Set(u.succeeded ?? []);
    const uncFail = new Set(u.failed ?? []);
    const indexed = isIndexedJob(job);
    const completions = job.spec?.completions ?? 0;
    const completed = indexed ? parseIndexes(status.completedIndexes, completions) : new Set<number>();
    const finished = d.finishedCondition;
    const failing = finished !== undefined && (finished.type === "FailureTarget" || finished.type === "Failed");
    const toRemove: Pod[] = [];
    for (const p of withFinalizer) {
      const failedPod = isPodFailed(p, job);
      if (!(p.status?.phase === "Succeeded" || failedPod || finished !== undefined || p.metadata?.deletionTimestamp != null)) continue;
      if (p.status?.phase === "Succeeded") {
        if (indexed) {
          const ix = completionIndexOf(p);
          if (ix >= 0 && ix < completions) completed.add(ix);
        } else if (!uncSucc.has(uid(p))) {
          uncSucc.add(uid(p));
        }
      } else if (failedPod || failing) {
        const ix = completionIndexOf(p);
        if (!uncFail.has(uid(p)) && (!indexed || (ix >= 0 && ix < completions))) uncFail.add(uid(p));
      }
      toRemove.push(p);
      if (uncSucc.size + uncFail.size + (indexed ? completed.size : 0) >= MAX_UNCOUNTED_PODS) break;
    }
    u.succeeded = [...uncSucc];
    u.failed = [...uncFail];
    if (indexed) {
      status.completedIndexes = formatIndexes(completed);
      status.succeeded = completed.size;
    }
    if (finished !== undefined && (finished.type === "SuccessCriteriaMet" || finished.type === "FailureTarget")) {
      ensureJobCondition((status.conditions ??= []), { type: finished.type, status: "True", reason: finished.reason, message: finished.message }, nowIso);
    }
    // 1. Persist what is about to be uncounted before any finalizer goes.
    let current = job;
    if (JSON.stringify(status) !== before) current = await this.#writeStatus(job);
    // 2. Let the pods go.
    const removed = await this.#removeFinalizers(key, toRemove);
    // 3. Count what no longer carries the finalizer.
    const stillWith = new Set([...uidsWithFinalizer].filter((x) => !removed.has(x)));
    const st = (current.status ??= {});
    const beforeCount = JSON.stringify(st);
    cleanUncounted(st, stillWith);
    // 4. Terminal condition.
    const unc = st.uncountedTerminatedPods ?? {};
    const uncounted = (unc.succeeded?.length ?? 0) + (unc.failed?.length ?? 0);
    if (finished !== undefined && (finished.type === "Complete" || finished.type === "Failed") && uncounted === 0 && d.terminating === 0) {
      ensureJobCondition((st.conditions ??= []), { type: finished.type, status: "True", reason: finished.reason, message: finished.message }, nowIso);
      if (finished.type === "Complete") {
        st.completionTime = nowIso;
        if (job.spec?.completions != null && (st.succeeded ?? 0) > job.spec.completions) {
          this.#recorder.event(job, "Warning", "TooManySucceededPods", "Too many succeeded pods running after completion count reached");
        }
        this.#recorder.event(job, "Normal", "Completed", "Job completed");
      } else {
        this.#recorder.event(job, "Warning", finished.reason, finished.message);
      }
    }
    if (JSON.stringify(st) !== beforeCount) await this.#writeStatus(current);
  }

  async #writeStatus(job: Job): Promise<Job> {
    const written = await this.#jobClient.namespace(job.metadata!.namespace!).updateStatus(job);
    const base = job.metadata?.resourceVersion ?? "";
    // A write the server skipped as a no-op leaves the version as it was: nothing to wait for.
    if (written.metadata?.resourceVersion !== base) {
      const key = metaNamespaceKey(job);
      let s = this.#supersededVersions.get(key);
      if (s === undefined) this.#supersededVersions.set(key, (s = { versions: new Set(), sinceMs: this.ctx.env.clock.nowMs() }));
      s.versions.add(base);
    }
    return written;
  }

  /** Removes the tracking finalizer; returns the UIDs done (a pod already gone counts as done). */
  async #removeFinalizers(key: string, pods: readonly Pod[]): Promise<Set<string>> {
    const done = new Set<string>();
    if (pods.length === 0) return done;
    let set = this.#expectedRmFinalizers.get(key);
    if (set === undefined) this.#expectedRmFinalizers.set(key, (set = new Set()));
    for (const p of pods) set.add(p.metadata?.uid ?? "");
    const errors: unknown[] = [];
    await Promise.all(
      pods.map(async (p) => {
        const uid = p.metadata?.uid ?? "";
        try {
          await this.#podControl.patchPod(p.metadata!.namespace!, p.metadata!.name!, {
            metadata: { "$deleteFromPrimitiveList/finalizers": [JOB_TRACKING_FINALIZER] },
          });
          done.add(uid);
        } catch (err) {
          this.#finalizerRemovalObserved(key, uid);
          if (err instanceof ApiError && err.reason === "NotFound") done.add(uid);
          else errors.push(err);
        }
      }),
    );
    if (errors.length > 0) throw errors[0];
    return done;
  }
}
