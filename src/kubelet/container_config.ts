/**
 * From a pod's spec to CRI configs (upstream's generatePodSandboxConfig and generateContainerConfig):
 * labels that let the kubelet find its objects again, log paths `<ns>_<pod>_<uid>/<container>/<n>.log`,
 * the environment (value, fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef, envFrom) and
 * `$(VAR)` expansion in command and args, and volume mounts as host paths.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Container, Pod } from "kubernetes-types/core/v1.js";
import type { ContainerConfig, KeyValue, Mount, PodSandboxConfig } from "./cri/cri.js";
import { containerHash } from "./pod_sync.js";
import { CONTAINER_HASH_ANNOTATION, CONTAINER_NAME_LABEL, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL, RESTART_COUNT_ANNOTATION } from "./runtime_pod.js";
import { configMapData, PayloadError, podFieldValue, resourceFieldValue, secretData } from "./volumes/payloads.js";
import type { VolumeSources } from "./volumes/volume_manager.js";

/** A container whose config cannot be made (a missing ConfigMap key in env…): `CreateContainerConfigError`. */
export class ContainerConfigError extends Error {
  override readonly name = "ContainerConfigError";
}

export function podLogDirectory(logRoot: string, pod: Pod): string {
  const m = pod.metadata ?? {};
  return path.join(logRoot, `${m.namespace}_${m.name}_${m.uid}`);
}

export function sandboxConfig(pod: Pod, attempt: number, logRoot: string): PodSandboxConfig {
  const m = pod.metadata ?? {};
  return {
    metadata: { name: m.name ?? "", namespace: m.namespace ?? "", uid: m.uid ?? "", attempt },
    hostname: pod.spec?.hostname ?? m.name ?? "",
    logDirectory: podLogDirectory(logRoot, pod),
    labels: { ...m.labels, [POD_NAME_LABEL]: m.name ?? "", [POD_NAMESPACE_LABEL]: m.namespace ?? "", [POD_UID_LABEL]: m.uid ?? "" },
    annotations: { ...m.annotations },
    portMappings: (pod.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => ({ containerPort: p.containerPort, ...(p.hostPort === undefined ? {} : { hostPort: p.hostPort }), protocol: (p.protocol ?? "TCP") as "TCP" }))),
    linux: { securityContext: { namespaceOptions: { network: "NODE", pid: "NODE", ipc: "NODE" } } },
  };
}

/** Upstream's expansion of `$(VAR)` references (`$$` escapes, unknown references stay as written). */
export function expandVars(s: string, env: ReadonlyMap<string, string>): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch !== "$" || i + 1 >= s.length) {
      out += ch;
      continue;
    }
    const next = s[i + 1]!;
    if (next === "$") {
      out += "$";
      i++;
    } else if (next === "(") {
      const end = s.indexOf(")", i + 2);
      if (end < 0) {
        out += s.slice(i);
        break;
      }
      const name = s.slice(i + 2, end);
      out += env.has(name) ? env.get(name)! : `$(${name})`;
      i = end;
    } else {
      out += ch;
    }
  }
  return out;
}

export interface ContainerConfigInput {
  readonly pod: Pod;
  readonly container: Container;
  readonly restartCount: number;
  /** Volume name → host path (from the volume manager). */
  readonly volumes: ReadonlyMap<string, string>;
  readonly sources: VolumeSources;
  readonly imageRef: string;
  readonly nodeAllocatable: Readonly<Record<string, string>>;
  /** Variables every container gets first (KUBERNETES_SERVICE_HOST/PORT). */
  readonly baseEnv?: ReadonlyMap<string, string>;
}

async function buildEnv(i: ContainerConfigInput): Promise<Map<string, string>> {
  const { pod, container, sources } = i;
  const ns = pod.metadata?.namespace ?? "default";
  const env = new Map<string, string>(i.baseEnv ?? []);
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? "";
    if (from.configMapRef != null) {
      const name = from.configMapRef.name ?? "";
      const cm = await sources.getConfigMap(ns, name);
      if (cm === null) {
        if (from.configMapRef.optional === true) continue;
        throw new ContainerConfigError(`configmap "${name}" not found`);
      }
      for (const [k, v] of configMapData(cm)) env.set(prefix + k, Buffer.from(v).toString("utf8"));
    } else if (from.secretRef != null) {
      const name = from.secretRef.name ?? "";
      const s = await sources.getSecret(ns, name);
      if (s === null) {
        if (from.secretRef.optional === true) continue;
        throw new ContainerConfigError(`secret "${name}" not found`);
      }
      for (const [k, v] of secretData(s)) env.set(prefix + k, Buffer.from(v).toString("utf8"));
    }
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom == null) {
      env.set(e.name, expandVars(e.value ?? "", env));
      continue;
    }
    const vf = e.valueFrom;
    try {
      if (vf.fieldRef != null) env.set(e.name, podFieldValue(pod, vf.fieldRef));
      else if (vf.resourceFieldRef != null) env.set(e.name, resourceFieldValue(pod, { ...vf.resourceFieldRef, containerName: vf.resourceFieldRef.containerName ?? container.name, divisor: vf.resourceFieldRef.divisor as string | undefined }, i.nodeAllocatable));
      else if (vf.configMapKeyRef != null) {
        const r = vf.configMapKeyRef;
        const cm = await sources.getConfigMap(ns, r.name ?? "");
        const v = cm === null ? undefined : configMapData(cm).get(r.key);
        if (v === undefined) {
          if (r.optional === true) continue;
          throw new ContainerConfigError(cm === null ? `configmap "${r.name}" not found` : `couldn't find key ${r.key} in ConfigMap ${ns}/${r.name}`);
        }
        env.set(e.name, Buffer.from(v).toString("utf8"));
      } else if (vf.secretKeyRef != null) {
        const r = vf.secretKeyRef;
        const s = await sources.getSecret(ns, r.name ?? "");
        const v = s === null ? undefined : secretData(s).get(r.key);
        if (v === undefined) {
          if (r.optional === true) continue;
          throw new ContainerConfigError(s === null ? `secret "${r.name}" not found` : `couldn't find key ${r.key} in Secret ${ns}/${r.name}`);
        }
        env.set(e.name, Buffer.from(v).toString("utf8"));
      }
    } catch (err) {
      if (err instanceof PayloadError) throw new ContainerConfigError(err.message);
      throw err;
    }
  }
  return env;
}

export async function containerConfig(i: ContainerConfigInput): Promise<ContainerConfig> {
  const { pod, container } = i;
  const m = pod.metadata ?? {};
  const env = await buildEnv(i);
  const mounts: Mount[] = [];
  for (const vm of container.volumeMounts ?? []) {
    const host = i.volumes.get(vm.name);
    if (host === undefined) throw new ContainerConfigError(`cannot find volume "${vm.name}" to mount into container "${container.name}"`);
    let hostPath = host;
    const subPath = vm.subPath ?? (vm.subPathExpr !== undefined ? expandVars(vm.subPathExpr, env) : "");
    if (subPath !== "") {
      if (path.isAbsolute(subPath) || subPath.split("/").includes("..")) throw new ContainerConfigError(`invalid subpath "${subPath}"`);
      hostPath = path.join(host, subPath);
      if (!fs.existsSync(hostPath)) fs.mkdirSync(hostPath, { recursive: true });
    }
    mounts.push({ containerPath: vm.mountPath, hostPath, readonly: vm.readOnly === true });
  }
  const sc = container.securityContext ?? {};
  const psc = pod.spec?.securityContext ?? {};
  const runAsUser = sc.runAsUser ?? psc.runAsUser;
  const runAsGroup = sc.runAsGroup ?? psc.runAsGroup;
  return {
    metadata: { name: container.name, attempt: i.restartCount },
    image: { image: i.imageRef, userSpecifiedImage: container.image ?? "" },
    command: (container.command ?? []).map((a) => expandVars(a, env)),
    args: (container.args ?? []).map((a) => expandVars(a, env)),
    ...(container.workingDir ? { workingDir: container.workingDir } : {}),
    envs: [...env].map(([key, value]): KeyValue => ({ key, value })),
    mounts,
    labels: { [POD_NAME_LABEL]: m.name ?? "", [POD_NAMESPACE_LABEL]: m.namespace ?? "", [POD_UID_LABEL]: m.uid ?? "", [CONTAINER_NAME_LABEL]: container.name },
    annotations: { [RESTART_COUNT_ANNOTATION]: String(i.restartCount), [CONTAINER_HASH_ANNOTATION]: containerHash(container) },
    logPath: path.join(container.name, `${i.restartCount}.log`),
    stdin: container.stdin === true,
    stdinOnce: container.stdinOnce === true,
    tty: container.tty === true,
    linux: {
      securityContext: {
        ...(runAsUser === undefined ? {} : { runAsUser: { value: runAsUser } }),
        ...(runAsGroup === undefined ? {} : { runAsGroup: { value: runAsGroup } }),
      },
    },
  };
}
