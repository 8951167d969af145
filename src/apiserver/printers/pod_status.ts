/**
 * The pod row's READY, STATUS and RESTARTS cells: upstream `printPod`'s reason logic, which walks the
 * init containers (stopping at the first one not done), then the app containers last to first, and
 * finally lets deletion override everything (`Terminating`, or `Unknown` for a pod on a lost node).
 */
import type { Container, ContainerStatus, Pod } from "kubernetes-types/core/v1.js";
import { parseTime, translateTimestampSince } from "./duration.js";

/** The `status.reason` the node lifecycle controller sets on pods of an unreachable node. */
export const NODE_UNREACHABLE_POD_REASON = "NodeLost";

export interface PodStatusCells {
  /** `ready/total`, e.g. `1/2`. */
  readonly ready: string;
  /** `Running`, `ContainerCreating`, `Init:1/2`, `CrashLoopBackOff`, `Completed`, `Terminating`, … */
  readonly status: string;
  /** `0`, or `3 (5m ago)` when the last restart's finish time is known. */
  readonly restarts: string;
}

/** A sidecar: an init container with `restartPolicy: Always` keeps running beside the app containers. */
function isRestartableInitContainer(c: Container | undefined): boolean {
  return c?.restartPolicy === "Always";
}

function lastTerminationFinishedMs(status: ContainerStatus): number | null {
  const terminated = status.lastState?.terminated;
  if (terminated === undefined || terminated === null) return null;
  return parseTime(terminated.finishedAt);
}

function isPodInitializedConditionTrue(pod: Pod): boolean {
  const c = (pod.status?.conditions ?? []).find((cond) => cond.type === "Initialized");
  return c !== undefined && c.status === "True";
}

function hasPodReadyCondition(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

/** The READY, STATUS and RESTARTS cells of a pod at `nowMs`. */
export function podStatusCells(pod: Pod, nowMs: number): PodStatusCells {
  const spec = pod.spec;
  const status = pod.status ?? {};
  let restarts = 0;
  let restartableInitContainerRestarts = 0;
  let totalContainers = spec?.containers?.length ?? 0;
  let readyContainers = 0;
  let lastRestartMs: number | null = null;
  let lastRestartableInitContainerRestartMs: number | null = null;

  const phase = status.phase ?? "";
  let reason = status.reason ? status.reason : phase;

  // A pod held back by scheduling gates says so rather than "Pending".
  for (const condition of status.conditions ?? []) {
    if (condition.type === "PodScheduled" && condition.reason === "SchedulingGated") reason = "SchedulingGated";
  }

  const initContainers = new Map<string, Container>();
  for (const c of spec?.initContainers ?? []) {
    initContainers.set(c.name, c);
    if (isRestartableInitContainer(c)) totalContainers++;
  }
  const initContainerCount = spec?.initContainers?.length ?? 0;

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const container = initStatuses[i]!;
    const restartable = isRestartableInitContainer(initContainers.get(container.name));
    restarts += container.restartCount ?? 0;
    const finished = lastTerminationFinishedMs(container);
    if (finished !== null && (lastRestartMs === null || lastRestartMs < finished)) lastRestartMs = finished;
    if (restartable) {
      restartableInitContainerRestarts += container.restartCount ?? 0;
      if (finished !== null && (lastRestartableInitContainerRestartMs === null || lastRestartableInitContainerRestartMs < finished)) {
        lastRestartableInitContainerRestartMs = finished;
      }
    }
    const terminated = container.state?.terminated;
    const waiting = container.state?.waiting;
    if (terminated && (terminated.exitCode ?? 0) === 0) continue;
    if (restartable && container.started === true) {
      if (container.ready) readyContainers++;
      continue;
    }
    if (terminated) {
      // The init container failed.
      if (!terminated.reason) {
        reason = terminated.signal ? `Init:Signal:${terminated.signal}` : `Init:ExitCode:${terminated.exitCode ?? 0}`;
      } else {
        reason = `Init:${terminated.reason}`;
      }
    } else if (waiting && waiting.reason && waiting.reason !== "PodInitializing") {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${initContainerCount}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || isPodInitializedConditionTrue(pod)) {
    restarts = restartableInitContainerRestarts;
    lastRestartMs = lastRestartableInitContainerRestartMs;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const container = statuses[i]!;
      restarts += container.restartCount ?? 0;
      const finished = lastTerminationFinishedMs(container);
      if (finished !== null && (lastRestartMs === null || lastRestartMs < finished)) lastRestartMs = finished;
      const waiting = container.state?.waiting;
      const terminated = container.state?.terminated;
      if (waiting && waiting.reason) {
        reason = waiting.reason;
      } else if (terminated && terminated.reason) {
        reason = terminated.reason;
      } else if (terminated) {
        reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode ?? 0}`;
      } else if (container.ready && container.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // A container that completed while another still runs: the pod is still running.
    if (reason === "Completed" && hasRunning) reason = hasPodReadyCondition(pod) ? "Running" : "NotReady";
  }

  const deleting = pod.metadata?.deletionTimestamp !== undefined && pod.metadata?.deletionTimestamp !== null;
  if (deleting && status.reason === NODE_UNREACHABLE_POD_REASON) {
    reason = "Unknown";
  } else if (deleting && phase !== "Succeeded" && phase !== "Failed") {
    reason = "Terminating";
  }

  let restartsCell = String(restarts);
  if (restarts !== 0 && lastRestartMs !== null) {
    restartsCell = `${restarts} (${translateTimestampSince(new Date(lastRestartMs).toISOString(), nowMs)} ago)`;
  }
  return { ready: `${readyContainers}/${totalContainers}`, status: reason, restarts: restartsCell };
}
