/**
 * Renders the containerd configuration tk8s ships (`deploy/containerd/config.toml`): a template whose
 * `{{NAME}}` placeholders become the instance's own directories, socket and pause image.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The values a rendered config needs; every path must be absolute. */
export interface ContainerdConfigValues {
  /** containerd's persistent root (content store, snapshots, metadata). */
  readonly root: string;
  /** containerd's state dir (sockets of shims, runc state, pod netns mounts). */
  readonly state: string;
  /** The gRPC unix socket path (a path, not a `unix://` URL). */
  readonly address: string;
  /** containerd's `sandbox_image`: the pause image, already imported into `k8s.io`. */
  readonly sandboxImage: string;
  readonly cniBinDir: string;
  readonly cniConfDir: string;
  /** containerd's log level; "info" unless said otherwise. */
  readonly logLevel?: "trace" | "debug" | "info" | "warn" | "error";
}

/** Debian's containernetworking-plugins install the CNI binaries here (not upstream's /opt/cni/bin). */
export const DEBIAN_CNI_BIN_DIR = "/usr/lib/cni";

/** The path of the shipped template, from the compiled (dist/src/images) or the source (src/images) layout. */
export function containerdConfigTemplatePath(): string {
  const compiled = fileURLToPath(new URL("../../../deploy/containerd/config.toml", import.meta.url));
  if (existsSync(compiled)) return compiled;
  return fileURLToPath(new URL("../../deploy/containerd/config.toml", import.meta.url));
}

/** The shipped template with `values` filled in. */
export function renderContainerdConfig(values: ContainerdConfigValues, template = readFileSync(containerdConfigTemplatePath(), "utf8")): string {
  const byName: Record<string, string> = {
    ROOT: absolute("root", values.root),
    STATE: absolute("state", values.state),
    ADDRESS: absolute("address", values.address),
    SANDBOX_IMAGE: nonEmpty("sandboxImage", values.sandboxImage),
    CNI_BIN_DIR: absolute("cniBinDir", values.cniBinDir),
    CNI_CONF_DIR: absolute("cniConfDir", values.cniConfDir),
    LOG_LEVEL: values.logLevel ?? "info",
  };
  const rendered = template.replace(/\{\{([A-Z_]+)\}\}/g, (whole, name: string) => {
    const value = byName[name];
    if (value === undefined) throw new Error(`Cannot render the containerd config: unknown placeholder ${whole}`);
    return tomlBasicStringBody(value);
  });
  return rendered;
}

function absolute(field: string, value: string): string {
  if (!value.startsWith("/")) throw new Error(`Cannot render the containerd config: ${field} must be an absolute path: current value is ${JSON.stringify(value)}`);
  return value;
}

function nonEmpty(field: string, value: string): string {
  if (value === "") throw new Error(`Cannot render the containerd config: ${field} must not be empty`);
  return value;
}

/** The inside of a TOML basic string ("…"): backslash, quote and control characters escaped. */
export function tomlBasicStringBody(value: string): string {
  return value.replace(/[\\"\u0000-\u001f\u007f]/g, (c) => {
    if (c === "\\") return "\\\\";
    if (c === '"') return '\\"';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}
