/**
 * The CronJob controller (pkg/controller/cronjob/cronjob_controllerv2.go, Kubernetes 1.32). A sync
 * tidies status.active against the Jobs that exist, deletes finished Jobs beyond the history limits,
 * then, unless suspended, finds the most recent due schedule time and — subject to
 * startingDeadlineSeconds and concurrencyPolicy — creates its Job `<cronjob>-<minutes since epoch>`.
 * It always asks to be woken at the next schedule time through the queue's addAfter, so time comes
 * from the injected clock and a ManualClock drives it in tests.
 */
import type { CronJob, CronJobStatus, Job } from "kubernetes-types/batch/v1.js";
import { ApiError } from "../../api/status.js";
import { Lister } from "../../client/lister.js";
import type { ResourceClient } from "../../client/rest_client.js";
import { metaNamespaceKey, objectOfDelete, splitMetaNamespaceKey } from "../../client/store.js";
import { QueueController, type ControllerContext } from "../controller.js";
import { rfc3339, type EventRecorder } from "../events/recorder.js";
import { getControllerOf } from "../util/controller_ref.js";
import { parseTimeMs } from "../util/pod_util.js";
import {
  formatRfc1123Z,
  jobFinishedType,
  jobFromTemplate,
  jobNameFor,
  jobReference,
  jobsBeyondHistoryLimits,
  mostRecentScheduleTime,
  nextScheduleDelayMs,
  MISSED_SCHEDULES_REPORT_MIN,
} from "./cronjob_core.js";
import { parseSchedule, UnknownTimeZoneError, type Schedule } from "./schedule.js";

export interface CronJobControllerOptions {
  readonly recorder: EventRecorder;
}

export class CronJobController extends QueueController {
  readonly #cronJobs: Lister<CronJob>;
  readonly #jobs: Lister<Job>;
  readonly #cronJobClient: ResourceClient<CronJob>;
  readonly #jobClient: ResourceClient<Job>;
  readonly #recorder: EventRecorder;

  constructor(ctx: ControllerContext, options: CronJobControllerOptions) {
    super(ctx, "cronjob");
    this.#cronJobs = new Lister<CronJob>(ctx.informers.cronJobs().indexer);
    this.#jobs = new Lister<Job>(ctx.informers.jobs().indexer);
    this.#cronJobClient = ctx.client.resource<CronJob>("batch", "v1", "cronjobs");
    this.#jobClient = ctx.client.resource<Job>("batch", "v1", "jobs");
    this.#recorder = options.recorder;
  }

  init(): void {
    this.ctx.informers.cronJobs().addEventHandler({
      onAdd: (cj) => this.queue.add(metaNamespaceKey(cj)),
      onUpdate: (_o, cj) => this.queue.add(metaNamespaceKey(cj)),
    });
    const onJob = (job: Job): void => {
      const ref = getControllerOf(job);
      if (ref === undefined || ref.kind !== "CronJob") return;
      this.queue.add(`${job.metadata?.namespace}/${ref.name}`);
    };
    this.ctx.informers.jobs().addEventHandler({
      onAdd: onJob,
      onUpdate: (_o, j) => onJob(j),
      onDelete: (j) => onJob(objectOfDelete(j)),
    });
  }

  protected async sync(key: string): Promise<void> {
    const [ns, name] = splitMetaNamespaceKey(key);
    const cached = this.#cronJobs.get(ns, name);
    if (cached === undefined) return;
    const cj = structuredClone(cached);
    const status: CronJobStatus = (cj.status ??= {});
    const before = JSON.stringify(status);
    const jobs = this.#jobs.namespace(ns).list().filter((j) => getControllerOf(j)?.uid === cj.metadata?.uid);
    await this.#reconcileActive(cj, jobs);
    await this.#cleanupFinishedJobs(cj, jobs);

    const requeueAfter = await this.#schedule(cj);
    if (JSON.stringify(status) !== before) {
      await this.#cronJobClient.namespace(ns).updateStatus(cj);
    }
    if (requeueAfter !== undefined) this.queue.addAfter(key, requeueAfter);
  }

  /** status.active against the Jobs that exist; lastSuccessfulTime from succeeded ones. */
  async #reconcileActive(cj: CronJob, jobs: readonly Job[]): Promise<void> {
    const status = cj.status!;
    const active = (status.active ??= []);
    const inActive = (uid: string | undefined): boolean => active.some((r) => r.uid === uid);
    const children = new Set<string>();
    let fresh: CronJob | undefined;
    for (const j of jobs) {
      const uid = j.metadata?.uid;
      children.add(uid ?? "");
      const finished = jobFinishedType(j);
      if (!inActive(uid) && finished === undefined) {
        // Our own status write may not have reached the cache yet: ask the API server before complaining.
        fresh ??= await this.#cronJobClient.namespace(cj.metadata!.namespace!).get(cj.metadata!.name!);
        if ((fresh.status?.active ?? []).some((r) => r.uid === uid)) continue;
        this.#recorder.event(cj, "Warning", "UnexpectedJob", `Saw a job that the controller did not create or forgot: ${j.metadata?.name}`);
      } else if (inActive(uid) && finished !== undefined) {
        active.splice(active.findIndex((r) => r.uid === uid), 1);
        this.#recorder.event(cj, "Normal", "SawCompletedJob", `Saw completed job: ${j.metadata?.name}, condition: ${finished}`);
      }
      if (finished === "Complete" && j.status?.completionTime != null) {
        const last = parseTimeMs(status.lastSuccessfulTime);
        const done = parseTimeMs(j.status.completionTime)!;
        if (last === undefined || done > last) status.lastSuccessfulTime = j.status.completionTime;
      }
    }
    for (const ref of [...active]) {
      if (children.has(ref.uid ?? "")) continue;
      // The cache may lag: ask the API server before forgetting the Job.
      try {
        await this.#jobClient.namespace(cj.metadata!.namespace!).get(ref.name ?? "");
      } catch (err) {
        if (!(err instanceof ApiError && err.reason === "NotFound")) throw err;
        this.#recorder.event(cj, "Normal", "MissingJob", `Active job went missing: ${ref.name}`);
        active.splice(active.indexOf(ref), 1);
      }
    }
    if (active.length === 0) delete status.active;
  }

  async #cleanupFinishedJobs(cj: CronJob, jobs: readonly Job[]): Promise<void> {
    for (const j of jobsBeyondHistoryLimits(cj, jobs)) await this.#deleteJob(cj, j);
  }

  async #deleteJob(cj: CronJob, job: Job): Promise<void> {
    try {
      await this.#jobClient.namespace(job.metadata!.namespace!).delete(job.metadata!.name!, { propagationPolicy: "Background" });
    } catch (err) {
      if (err instanceof ApiError && err.reason === "NotFound") return;
      this.#recorder.event(cj, "Warning", "FailedDelete", `Deleted job: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
    this.#recorder.event(cj, "Normal", "SuccessfulDelete", `Deleted job ${job.metadata?.name}`);
  }

  /** Creates the due Job if it should; returns when to look again. */
  async #schedule(cj: CronJob): Promise<number | undefined> {
    if (cj.metadata?.deletionTimestamp != null) return undefined;
    const status = cj.status!;
    const spec = cj.spec!;
    let schedule: Schedule;
    try {
      schedule = parseSchedule(spec.schedule, spec.timeZone);
    } catch (err) {
      if (err instanceof UnknownTimeZoneError) {
        this.#recorder.event(cj, "Warning", "UnknownTimeZone", `invalid timeZone: "${spec.timeZone}": ${err.message}`);
      } else {
        this.#recorder.event(cj, "Warning", "UnparseableSchedule", `unparseable schedule: "${spec.schedule}" : ${err instanceof Error ? err.message : String(err)}`);
      }
      return undefined;
    }
    if (spec.suspend === true) return undefined;
    const nowMs = this.ctx.env.clock.wallMs();
    const requeue = nextScheduleDelayMs(cj, nowMs, schedule);
    const due = mostRecentScheduleTime(cj, nowMs, schedule);
    if (due.missed > MISSED_SCHEDULES_REPORT_MIN) {
      this.#recorder.event(
        cj,
        "Warning",
        "TooManyMissedTimes",
        `too many missed start times: ${due.missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`,
      );
    }
    const scheduledMs = due.mostRecentMs;
    if (scheduledMs === undefined) return requeue;
    if (spec.startingDeadlineSeconds != null && scheduledMs + spec.startingDeadlineSeconds * 1000 < nowMs) {
      this.#recorder.event(cj, "Warning", "MissSchedule", `Missed scheduled time to start a job: ${formatRfc1123Z(scheduledMs)}`);
      return requeue;
    }
    const jobName = jobNameFor(cj, scheduledMs);
    const active = status.active ?? [];
    if (active.some((r) => r.name === jobName) || parseTimeMs(status.lastScheduleTime) === Math.floor(scheduledMs / 1000) * 1000) return requeue;
    if (spec.concurrencyPolicy === "Forbid" && active.length > 0) {
      this.#recorder.event(cj, "Normal", "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid");
      return requeue;
    }
    if (spec.concurrencyPolicy === "Replace") {
      for (const ref of [...active]) {
        const j = this.#jobs.get(cj.metadata!.namespace!, ref.name ?? "");
        if (j === undefined) continue;
        await this.#deleteJob(cj, j);
        active.splice(active.indexOf(ref), 1);
      }
    }
    const job = jobFromTemplate(cj, scheduledMs, schedule.timeZone);
    let created: Job;
    try {
      created = await this.#jobClient.namespace(cj.metadata!.namespace!).create(job);
    } catch (err) {
      if (err instanceof ApiError && err.reason === "AlreadyExists") {
        // Made by an earlier sync whose status write was lost: adopt it into status if it is ours.
        const existing = await this.#jobClient.namespace(cj.metadata!.namespace!).get(jobName);
        if (getControllerOf(existing)?.uid !== cj.metadata?.uid) return requeue;
        created = existing;
      } else {
        this.#recorder.event(cj, "Warning", "FailedCreate", `Error creating job: ${err instanceof Error ? err.message : String(err)}`);
        throw err;
      }
    }
    if (!active.some((r) => r.uid === created.metadata?.uid)) {
      this.#recorder.event(cj, "Normal", "SuccessfulCreate", `Created job ${created.metadata?.name}`);
      status.active = [...active, jobReference(created)];
    }
    status.lastScheduleTime = rfc3339(scheduledMs);
    return requeue;
  }
}
