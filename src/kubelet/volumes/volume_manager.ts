/**
 * Sets up a pod's volumes as host directories (upstream's volume manager with the emptyDir, configMap,
 * secret, downwardAPI, projected and hostPath plugins), under `<root>/pods/<uid>/volumes/<plugin>/<name>`
 * as upstream lays them out. The process runtime gets each as a path (a mount's `hostPath`).
 *
 * - emptyDir: a directory, removed with the pod. `medium: Memory` is a directory in /dev/shm (tmpfs) when
 *   it is writable, else an ordinary directory (a warning is logged): sizeLimit is not enforced.
 * - configMap / secret / downwardAPI / projected: files written by the atomic writer; read again on each
 *   setUp, so updates reach running pods (with the pod worker's volume resync period).
 * - projected serviceAccountToken: a TokenRequest bound to the pod, renewed past 80% of its lifetime.
 * - hostPath: the host's own path, after upstream's type checks.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { ConfigMap, Pod, Secret, Volume } from "kubernetes-types/core/v1.js";
import type { Logger } from "../../env/env.js";
import { writeAtomically, type FileProjection } from "./atomic_writer.js";
import { configMapPayload, DEFAULT_MODE, downwardAPIPayload, PayloadError, secretPayload } from "./payloads.js";

/** What the volume plugins read from the API. */
export interface VolumeSources {
  getConfigMap(namespace: string, name: string): Promise<ConfigMap | null>;
  getSecret(namespace: string, name: string): Promise<Secret | null>;
  /** serviceaccounts/<sa>/token bound to the pod: the token and its expiry (wall ms). */
  requestToken(namespace: string, serviceAccount: string, o: { podName: string; podUid: string; audiences?: readonly string[]; expirationSeconds: number }): Promise<{ token: string; expiresAtMs: number }>;
}

/** A volume that could not be set up; the pod worker shows it as a FailedMount event and keeps the pod waiting. */
export class MountError extends Error {
  override readonly name = "MountError";
  constructor(readonly volume: string, message: string, options?: ErrorOptions) {
    super(`MountVolume.SetUp failed for volume "${volume}" : ${message}`, options);
  }
}

/** Tokens kept at once (one per pod and audience set); the kubelet has at most a few hundred pods. */
const TOKENS_MAX = 4096;
const SHM_DIR = "/dev/shm";

export interface VolumeManagerOptions {
  /** The kubelet's root directory. */
  readonly root: string;
  /**
   * Where the contents of secret, projected, configMap and downwardAPI volumes go (the same
   * pods/<uid>/volumes/… layout under it): a directory on tmpfs (memory_dir.ts). Default: `root`.
   */
  readonly memoryRoot?: string;
  readonly sources: VolumeSources;
  readonly log: Logger;
  readonly wallMs: () => number;
  /** What a resourceFieldRef without a limit reports (the node's allocatable). */
  readonly nodeAllocatable?: () => Readonly<Record<string, string>>;
}

function pluginDir(v: Volume): string | null {
  if (v.emptyDir != null) return "kubernetes.io~empty-dir";
  if (v.configMap != null) return "kubernetes.io~configmap";
  if (v.secret != null) return "kubernetes.io~secret";
  if (v.downwardAPI != null) return "kubernetes.io~downward-api";
  if (v.projected != null) return "kubernetes.io~projected";
  return null;
}

export class VolumeManager {
  readonly #o: VolumeManagerOptions;
  readonly #tokens = new Map<string, { token: string; issuedAtMs: number; expiresAtMs: number }>();

  constructor(options: VolumeManagerOptions) {
    this.#o = options;
  }

  podDir(uid: string): string {
    return path.join(this.#o.root, "pods", uid);
  }

  #memoryPodDir(uid: string): string {
    return path.join(this.#o.memoryRoot ?? this.#o.root, "pods", uid);
  }

  /** Sets up (or refreshes) every volume of the pod; returns volume name → host path. */
  async setUp(pod: Pod): Promise<Map<string, string>> {
    const uid = pod.metadata?.uid ?? "";
    const out = new Map<string, string>();
    for (const v of pod.spec?.volumes ?? []) {
      try {
        out.set(v.name, await this.#setUpOne(pod, uid, v));
      } catch (err) {
        if (err instanceof MountError) throw err;
        throw new MountError(v.name, (err as Error).message, { cause: err });
      }
    }
    return out;
  }

  async #setUpOne(pod: Pod, uid: string, v: Volume): Promise<string> {
    if (v.hostPath != null) return checkHostPath(v.hostPath.path, v.hostPath.type ?? "");
    const plugin = pluginDir(v);
    if (plugin === null) throw new MountError(v.name, `volume type of "${v.name}" is not supported by this kubelet`);
    const dir = path.join(this.podDir(uid), "volumes", plugin, v.name);
    const ns = pod.metadata?.namespace ?? "default";
    // Written files (not emptyDir, which is the pod's own scratch space on disk) go to the memory root.
    const writtenDir = path.join(this.#memoryPodDir(uid), "volumes", plugin, v.name);
    const now = this.#o.wallMs();
    if (v.emptyDir != null) {
      if (v.emptyDir.medium === "Memory") return this.#memoryDir(dir, uid, v.name);
      fs.mkdirSync(dir, { recursive: true });
      fs.chmodSync(dir, 0o777);
      return dir;
    }
    let payload: Map<string, FileProjection>;
    if (v.configMap != null) {
      const name = v.configMap.name ?? "";
      payload = configMapPayload(name, await this.#o.sources.getConfigMap(ns, name), v.configMap);
    } else if (v.secret != null) {
      const name = v.secret.secretName ?? "";
      payload = secretPayload(name, await this.#o.sources.getSecret(ns, name), v.secret);
    } else if (v.downwardAPI != null) {
      payload = downwardAPIPayload(pod, v.downwardAPI.items ?? [], v.downwardAPI.defaultMode ?? DEFAULT_MODE, this.#o.nodeAllocatable?.() ?? {});
    } else {
      payload = await this.#projected(pod, v);
    }
    writeAtomically(writtenDir, payload, now);
    return writtenDir;
  }

  async #projected(pod: Pod, v: Volume): Promise<Map<string, FileProjection>> {
    const p = v.projected!;
    const mode = p.defaultMode ?? DEFAULT_MODE;
    const ns = pod.metadata?.namespace ?? "default";
    const out = new Map<string, FileProjection>();
    const merge = (m: Map<string, FileProjection>) => {
      for (const [k, f] of m) out.set(k, f);
    };
    for (const s of p.sources ?? []) {
      if (s.configMap != null) {
        const name = s.configMap.name ?? "";
        merge(configMapPayload(name, await this.#o.sources.getConfigMap(ns, name), { ...s.configMap, defaultMode: mode }));
      } else if (s.secret != null) {
        const name = s.secret.name ?? "";
        merge(secretPayload(name, await this.#o.sources.getSecret(ns, name), { ...s.secret, defaultMode: mode }));
      } else if (s.downwardAPI != null) {
        merge(downwardAPIPayload(pod, s.downwardAPI.items ?? [], mode, this.#o.nodeAllocatable?.() ?? {}));
      } else if (s.serviceAccountToken != null) {
        const t = s.serviceAccountToken;
        const token = await this.#token(pod, t.audience === undefined || t.audience === "" ? undefined : [t.audience], t.expirationSeconds ?? 3607);
        // Upstream writes the token 0600 unless the pod set a mode (fsGroup aside).
        out.set(t.path, { data: Buffer.from(token, "utf8"), mode: p.defaultMode ?? 0o600 });
      }
    }
    return out;
  }

  async #token(pod: Pod, audiences: readonly string[] | undefined, expirationSeconds: number): Promise<string> {
    const uid = pod.metadata?.uid ?? "";
    const key = `${uid}|${(audiences ?? []).join(",")}|${expirationSeconds}`;
    const now = this.#o.wallMs();
    const cached = this.#tokens.get(key);
    // Renew past 80% of its lifetime, as the kubelet's token manager does.
    if (cached !== undefined && now < cached.issuedAtMs + 0.8 * (cached.expiresAtMs - cached.issuedAtMs)) return cached.token;
    const sa = pod.spec?.serviceAccountName ?? "default";
    const issued = await this.#o.sources.requestToken(pod.metadata?.namespace ?? "default", sa, {
      podName: pod.metadata?.name ?? "", podUid: uid, ...(audiences === undefined ? {} : { audiences }), expirationSeconds,
    });
    if (this.#tokens.size >= TOKENS_MAX) this.#tokens.delete(this.#tokens.keys().next().value as string);
    this.#tokens.set(key, { token: issued.token, issuedAtMs: now, expiresAtMs: issued.expiresAtMs });
    return issued.token;
  }

  #memoryDir(dir: string, uid: string, name: string): string {
    let shmOk = false;
    try {
      fs.accessSync(SHM_DIR, fs.constants.W_OK);
      shmOk = fs.statSync(SHM_DIR).isDirectory();
    } catch {
      shmOk = false;
    }
    if (!shmOk) {
      this.#o.log.warn("emptyDir medium Memory without a writable /dev/shm; using a disk directory", { volume: name, podUid: uid });
      fs.mkdirSync(dir, { recursive: true });
      fs.chmodSync(dir, 0o777);
      return dir;
    }
    const shm = path.join(SHM_DIR, `tk8s-${uid}-${name}`);
    fs.mkdirSync(shm, { recursive: true });
    fs.chmodSync(shm, 0o777);
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    // The usual place holds a link to the tmpfs directory, so cleanup finds it by the pod's directory.
    try {
      if (fs.readlinkSync(dir) !== shm) fs.rmSync(dir, { force: true, recursive: true });
    } catch {
      fs.rmSync(dir, { force: true, recursive: true });
    }
    if (!fs.existsSync(dir)) fs.symlinkSync(shm, dir);
    return shm;
  }

  /** Removes everything the pod's volumes left on this host (not hostPath content). */
  tearDown(uid: string): void {
    const emptyDirs = path.join(this.podDir(uid), "volumes", "kubernetes.io~empty-dir");
    for (const name of fs.existsSync(emptyDirs) ? fs.readdirSync(emptyDirs) : []) {
      const p = path.join(emptyDirs, name);
      try {
        const target = fs.readlinkSync(p);
        if (target.startsWith(`${SHM_DIR}/tk8s-${uid}-`)) fs.rmSync(target, { recursive: true, force: true });
      } catch {
        // not a link: an ordinary directory, removed with the pod's directory
      }
    }
    fs.rmSync(this.podDir(uid), { recursive: true, force: true });
    if (this.#o.memoryRoot !== undefined) fs.rmSync(this.#memoryPodDir(uid), { recursive: true, force: true });
    for (const k of [...this.#tokens.keys()]) if (k.startsWith(`${uid}|`)) this.#tokens.delete(k);
  }
}

/** upstream's hostPath type checks; returns the path. */
export function checkHostPath(p: string, type: string): string {
  let st: fs.Stats | null = null;
  try {
    st = fs.statSync(p);
  } catch {
    st = null;
  }
  const fail = (what: string) => {
    throw new PayloadError(`hostPath type check failed: ${p} is not ${what}`);
  };
  switch (type) {
    case "":
      return p;
    case "DirectoryOrCreate":
      if (st === null) {
        fs.mkdirSync(p, { recursive: true, mode: 0o755 });
        return p;
      }
      if (!st.isDirectory()) fail("a directory");
      return p;
    case "Directory":
      if (st === null || !st.isDirectory()) fail("a directory");
      return p;
    case "FileOrCreate":
      if (st === null) {
        fs.writeFileSync(p, "", { mode: 0o644, flag: "a" });
        return p;
      }
      if (!st.isFile()) fail("a file");
      return p;
    case "File":
      if (st === null || !st.isFile()) fail("a file");
      return p;
    case "Socket":
      if (st === null || !st.isSocket()) fail("a socket file");
      return p;
    case "CharDevice":
      if (st === null || !st.isCharacterDevice()) fail("a character device");
      return p;
    case "BlockDevice":
      if (st === null || !st.isBlockDevice()) fail("a block device");
      return p;
    default:
      throw new PayloadError(`hostPath type check failed: unknown type ${JSON.stringify(type)}`);
  }
}
