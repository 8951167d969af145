/**
 * The TTL-after-finished controller (pkg/controller/ttlafterfinished, Kubernetes 1.32): a Job with
 * `spec.ttlSecondsAfterFinished` is deleted (propagationPolicy Background, so the garbage collector
 * removes its pods) once that many seconds have passed since it finished. Before deleting it re-reads
 * the Job from the API server, so a TTL that was just changed or a Job that was re-created under the
 * same name is not deleted on the cache's word; the delete carries the uid as a precondition.
 */
import type { Job } from "kubernetes-types/batch/v1.js";
import { ApiError } from "../../api/status.js";
import { Lister } from "../../client/lister.js";
import type { ResourceClient } from "../../client/rest_client.js";
import { metaNamespaceKey, splitMetaNamespaceKey } from "../../client/store.js";
import { QueueController, type ControllerContext } from "../controller.js";
import { isJobFinished, jobFinishTimeMs } from "./job_core.js";

/**
 * Milliseconds until the Job expires at wall time `nowMs`: undefined when it has no TTL or has not
 * finished, <= 0 when it has expired (timeLeft in upstream).
 */
export function ttlTimeLeftMs(job: Job, nowMs: number): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || ttl === null || job.metadata?.deletionTimestamp != null || !isJobFinished(job)) return undefined;
  const finishedMs = jobFinishTimeMs(job);
  if (finishedMs === undefined) return undefined;
  return finishedMs + ttl * 1000 - nowMs;
}

export class TtlAfterFinishedController extends QueueController {
  readonly #jobs: Lister<Job>;
  readonly #client: ResourceClient<Job>;

  constructor(ctx: ControllerContext) {
    super(ctx, "ttl-after-finished");
    this.#jobs = new Lister<Job>(ctx.informers.jobs().indexer);
    this.#client = ctx.client.resource<Job>("batch", "v1", "jobs");
  }

  init(): void {
    const enqueue = (job: Job): void => {
      if (ttlTimeLeftMs(job, this.ctx.env.clock.wallMs()) !== undefined) this.queue.add(metaNamespaceKey(job));
    };
    this.ctx.informers.jobs().addEventHandler({ onAdd: enqueue, onUpdate: (_o, j) => enqueue(j) });
  }

  protected async sync(key: string): Promise<void> {
    const [ns, name] = splitMetaNamespaceKey(key);
    const cached = this.#jobs.get(ns, name);
    if (cached === undefined) return;
    const left = ttlTimeLeftMs(cached, this.ctx.env.clock.wallMs());
    if (left === undefined) return;
    if (left > 0) {
      this.queue.addAfter(key, left);
      return;
    }
    // The cache said expired: confirm with the API server before deleting.
    const client = this.#client.namespace(ns);
    let fresh: Job;
    try {
      fresh = await client.get(name);
    } catch (err) {
      if (err instanceof ApiError && err.reason === "NotFound") return;
      throw err;
    }
    const freshLeft = ttlTimeLeftMs(fresh, this.ctx.env.clock.wallMs());
    if (freshLeft === undefined) return;
    if (freshLeft > 0) {
      this.queue.addAfter(key, freshLeft);
      return;
    }
    this.ctx.env.log.info("cleaning up job", { job: key });
    try {
      await client.delete(name, { propagationPolicy: "Background", preconditions: { uid: fresh.metadata?.uid ?? "" } });
    } catch (err) {
      if (err instanceof ApiError && (err.reason === "NotFound" || err.reason === "Conflict")) return;
      throw err;
    }
  }
}
