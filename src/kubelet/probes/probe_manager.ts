/**
 * Keeps a probe worker for every probe of every running container of the kubelet's pods (upstream's
 * prober manager), and holds their results: readiness and startup per container ID, and the liveness
 * or startup failures the pod worker must act on by restarting the container.
 */
import type { Container, Pod } from "kubernetes-types/core/v1.js";
import type { Clock } from "../../env/env.js";
import type { RuntimeService } from "../cri/cri.js";
import type { RuntimePod } from "../runtime_pod.js";
import { runProbe, type ProbeResult } from "./prober.js";
import { ProbeWorker, type ProbeType } from "./probe_worker.js";

export interface ProbeManagerOptions {
  readonly clock: Clock;
  readonly runtime: RuntimeService;
  /** A result changed for a pod: sync it (status, or a restart). */
  readonly onChange: (podUid: string) => void;
  /** Records an event on the pod for a container (Unhealthy). */
  readonly event: (pod: Pod, container: Container, type: "Normal" | "Warning", reason: string, message: string) => void;
  /** Runs a probe; the real prober by default. */
  readonly run?: (container: Container, type: ProbeType, target: { containerId: string; podIP: string }) => Promise<ProbeResult>;
}

const TYPE_TITLE: Record<ProbeType, string> = { liveness: "Liveness", readiness: "Readiness", startup: "Startup" };

export class ProbeManager {
  readonly #o: ProbeManagerOptions;
  /** `${uid}/${container}/${type}` → the worker and the container instance it probes. */
  readonly #workers = new Map<string, { worker: ProbeWorker; containerId: string }>();
  readonly #failures = new Map<string, string>();

  constructor(options: ProbeManagerOptions) {
    this.#o = options;
  }

  /** Starts workers for containers that (re)started, stops those whose container is gone or stopped. */
  update(pod: Pod, rp: RuntimePod): void {
    const uid = pod.metadata?.uid ?? "";
    const wanted = new Set<string>();
    const podIP = rp.sandboxes[0]?.ip ?? "127.0.0.1";
    for (const c of pod.spec?.containers ?? []) {
      const running = rp.containers.find((x) => x.name === c.name && x.state === "CONTAINER_RUNNING");
      if (running === undefined) continue;
      const probes: [ProbeType, Container["livenessProbe"]][] = [["startup", c.startupProbe], ["liveness", c.livenessProbe], ["readiness", c.readinessProbe]];
      for (const [type, probe] of probes) {
        if (probe == null) continue;
        const key = `${uid}/${c.name}/${type}`;
        wanted.add(key);
        const existing = this.#workers.get(key);
        if (existing !== undefined && existing.containerId === running.id) continue;
        if (existing !== undefined) {
          existing.worker.stop();
          this.#failures.delete(existing.containerId);
        }
        const containerId = running.id;
        const worker = new ProbeWorker({
          clock: this.#o.clock,
          type,
          probe,
          startedAtMs: Number(running.startedAtNs / 1_000_000n),
          run: () => (this.#o.run ?? ((ct, _t, tg) => runProbe(probe, { runtime: this.#o.runtime, containerId: tg.containerId, container: ct, podIP: tg.podIP })))(c, type, { containerId, podIP }),
          started: () => c.startupProbe == null || this.startupResult(containerId) === true,
          onFailedAttempt: (output) => this.#o.event(pod, c, "Warning", "Unhealthy", `${TYPE_TITLE[type]} probe failed: ${output}`),
          onResult: (success) => {
            if (!success && type !== "readiness") this.#failures.set(containerId, `Container ${c.name} failed ${type} probe, will be restarted`);
            this.#o.onChange(uid);
          },
        });
        this.#workers.set(key, { worker, containerId });
        worker.start();
      }
    }
    for (const [key, w] of [...this.#workers]) {
      if (key.startsWith(`${uid}/`) && !wanted.has(key)) {
        w.worker.stop();
        this.#workers.delete(key);
        this.#failures.delete(w.containerId);
      }
    }
  }

  #result(containerId: string, type: ProbeType): boolean | undefined {
    for (const [key, w] of this.#workers) if (w.containerId === containerId && key.endsWith(`/${type}`)) return w.worker.result;
    return undefined;
  }

  readinessResult(containerId: string): boolean | undefined {
    return this.#result(containerId, "readiness");
  }

  startupResult(containerId: string): boolean | undefined {
    return this.#result(containerId, "startup");
  }

  /** Container IDs whose liveness or startup probe failed, with the `Killing` message. */
  failures(): ReadonlyMap<string, string> {
    return this.#failures;
  }

  removePod(uid: string): void {
    for (const [key, w] of [...this.#workers]) {
      if (!key.startsWith(`${uid}/`)) continue;
      w.worker.stop();
      this.#workers.delete(key);
      this.#failures.delete(w.containerId);
    }
  }

  stop(): void {
    for (const w of this.#workers.values()) w.worker.stop();
    this.#workers.clear();
  }
}
