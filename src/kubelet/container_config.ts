/**
 * From a pod's spec to CRI configs (upstream's generatePodSandboxConfig and generateContainerConfig):
 * labels that let the kubelet find its objects again, log paths `<ns>_<pod>_<uid>/<container>/<n>.log`,
 * the environment (value, fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef, envFrom) and
 * `$(VAR)` expansion in command and args, and volume mounts as host paths.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Container, Pod } from "kubernetes-types/core/v1.js";
import type { ContainerConfig, DNSConfig, KeyValue, Mount, NamespaceOption, PodSandboxConfig, PortMapping, Protocol } from "./cri/cri.js";
import { containerLinuxResources, podCgroupParent, sandboxLinuxResources } from "./linux_resources.js";
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

/** What a sandbox's config needs beyond the pod. */
export interface SandboxConfigOptions {
  /** Where the pod's log directory goes (upstream's /var/log/pods). */
  readonly logRoot: string;
  /** The pod's resolv.conf (cluster DNS); absent: the runtime gives the host's. */
  readonly dnsConfig?: DNSConfig;
  /** Put the pod under `/kubepods/<qos>/pod<uid>` (a runtime with cgroups, as upstream's --cgroups-per-qos). */
  readonly cgroupsPerQos?: boolean;
}

/** Upstream's DNS-1123 label bound on a hostname. */
const HOSTNAME_BYTES_MAX = 63;

/** The pod's hostname (upstream's GeneratePodHostNameAndDomain): spec.hostname, else the name cut to 63 bytes. */
export function podHostname(pod: Pod): string {
  const name = pod.spec?.hostname ?? pod.metadata?.name ?? "";
  if (name.length <= HOSTNAME_BYTES_MAX) return name;
  return name.slice(0, HOSTNAME_BYTES_MAX).replace(/[-.]+$/, "");
}

/**
 * The pod's namespaces (upstream's NamespacesForPod): its own network and IPC unless it asks for the
 * host's; a PID namespace per container unless it shares one (shareProcessNamespace) or uses the host's.
 */
export function podNamespaceOptions(pod: Pod): NamespaceOption {
  const spec = pod.spec ?? { containers: [] };
  return {
    network: spec.hostNetwork === true ? "NODE" : "POD",
    pid: spec.hostPID === true ? "NODE" : spec.shareProcessNamespace === true ? "POD" : "CONTAINER",
    ipc: spec.hostIPC === true ? "NODE" : "POD",
  };
}

/** Every port of every container, hostPort 0 where none is asked for (upstream's MakePortMappings). */
export function podPortMappings(pod: Pod): PortMapping[] {
  const out: PortMapping[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      out.push({ protocol: (p.protocol ?? "TCP") as Protocol, containerPort: p.containerPort, hostPort: p.hostPort ?? 0, ...(p.hostIP === undefined ? {} : { hostIp: p.hostIP }) });
    }
  }
  return out;
}

/** upstream's generatePodSandboxConfig (+ generatePodSandboxLinuxConfig). */
export function sandboxConfig(pod: Pod, attempt: number, options: SandboxConfigOptions): PodSandboxConfig {
  const m = pod.metadata ?? {};
  const spec = pod.spec ?? { containers: [] };
  const psc = spec.securityContext ?? {};
  const privileged = [...(spec.initContainers ?? []), ...spec.containers].some((c) => c.securityContext?.privileged === true);
  const supplementalGroups = [...(psc.fsGroup === undefined ? [] : [psc.fsGroup]), ...(psc.supplementalGroups ?? [])];
  const sysctls = Object.fromEntries((psc.sysctls ?? []).map((x) => [x.name, x.value]));
  return {
    metadata: { name: m.name ?? "", namespace: m.namespace ?? "", uid: m.uid ?? "", attempt },
    // A pod on the host network has the host's UTS namespace: runc refuses a hostname there.
    ...(spec.hostNetwork === true ? {} : { hostname: podHostname(pod) }),
    logDirectory: podLogDirectory(options.logRoot, pod),
    ...(options.dnsConfig === undefined ? {} : { dnsConfig: options.dnsConfig }),
    labels: { ...m.labels, [POD_NAME_LABEL]: m.name ?? "", [POD_NAMESPACE_LABEL]: m.namespace ?? "", [POD_UID_LABEL]: m.uid ?? "" },
    annotations: { ...m.annotations },
    portMappings: podPortMappings(pod),
    linux: {
      ...(options.cgroupsPerQos === true ? { cgroupParent: podCgroupParent(pod) } : {}),
      securityContext: {
        namespaceOptions: podNamespaceOptions(pod),
        privileged,
        ...(psc.runAsUser === undefined ? {} : { runAsUser: { value: psc.runAsUser } }),
        ...(psc.runAsGroup === undefined ? {} : { runAsGroup: { value: psc.runAsGroup } }),
        ...(supplementalGroups.length === 0 ? {} : { supplementalGroups }),
      },
      sysctls,
      resources: sandboxLinuxResources(pod),
    },
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
  /** The node's memory, for a Burstable container's OOM score (0: unknown). */
  readonly memoryCapacityBytes?: number;
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
      resources: containerLinuxResources(pod, container, i.memoryCapacityBytes ?? 0),
      securityContext: {
        namespaceOptions: podNamespaceOptions(pod),
        ...(sc.privileged === true ? { privileged: true } : {}),
        ...(sc.readOnlyRootFilesystem === true ? { readonlyRootfs: true } : {}),
        ...(sc.capabilities == null ? {} : { capabilities: { addCapabilities: sc.capabilities.add ?? [], dropCapabilities: sc.capabilities.drop ?? [] } }),
        ...(sc.allowPrivilegeEscalation === false ? { noNewPrivs: true } : {}),
        ...(runAsUser === undefined ? {} : { runAsUser: { value: runAsUser } }),
        ...(runAsGroup === undefined ? {} : { runAsGroup: { value: runAsGroup } }),
      },
    },
  };
}
