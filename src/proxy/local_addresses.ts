/**
 * The userspace proxy listens on each Service's ClusterIP, so the address must be local: as IPVS mode
 * upstream, tk8s puts ClusterIPs on a dummy device (`kube-ipvs0`) with /32 each. Kernels without the
 * dummy driver (this project's test VMs) get the addresses on `lo` instead, which serves the same purpose
 * for a proxy that only accepts connections. The edge runs `ip`; `commandPrefix` can run it inside a
 * network namespace.
 */
import { execFile } from "node:child_process";

export interface LocalAddresses {
  /** Makes `ip` a local address (idempotent). */
  ensure(ip: string): Promise<void>;
  remove(ip: string): Promise<void>;
  /** Removes every address added (and the dummy device, if one was made). */
  cleanup(): Promise<void>;
}

export const DEFAULT_DUMMY_DEVICE = "kube-ipvs0";
const IP_COMMAND_TIMEOUT_MS = 10_000;

function run(argv: readonly string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), { timeout: IP_COMMAND_TIMEOUT_MS, encoding: "utf8" }, (err, _stdout, stderr) => {
      if (err !== null && typeof (err as NodeJS.ErrnoException).code === "string") return reject(new Error(`Cannot run ${argv[0]}: ${err.message}`, { cause: err }));
      resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), stderr });
    });
  });
}

export class DummyDeviceAddresses implements LocalAddresses {
  readonly #wantDevice: string;
  readonly #prefix: readonly string[];
  /** The device addresses go on: the dummy one, or "lo" when the kernel has no dummy driver. */
  #device: string | null = null;
  #madeDevice = false;
  readonly #added = new Set<string>();

  constructor(options: { device?: string; commandPrefix?: readonly string[] } = {}) {
    this.#wantDevice = options.device ?? DEFAULT_DUMMY_DEVICE;
    this.#prefix = options.commandPrefix ?? [];
  }

  /** Where addresses go (after the first ensure). */
  get device(): string | null {
    return this.#device;
  }

  async #ip(args: readonly string[]): Promise<{ code: number; stderr: string }> {
    return run([...this.#prefix, "ip", ...args]);
  }

  async #deviceName(): Promise<string> {
    if (this.#device !== null) return this.#device;
    const add = await this.#ip(["link", "add", this.#wantDevice, "type", "dummy"]);
    if (add.code === 0 || /exists/i.test(add.stderr)) {
      this.#madeDevice = add.code === 0;
      const up = await this.#ip(["link", "set", this.#wantDevice, "up"]);
      if (up.code !== 0) throw new Error(`Cannot bring up ${this.#wantDevice}: ${up.stderr.trim()}`);
      this.#device = this.#wantDevice;
    } else if (/unknown device type|not supported/i.test(add.stderr)) {
      this.#device = "lo";
    } else {
      throw new Error(`Cannot create device ${this.#wantDevice}: ${add.stderr.trim()}`);
    }
    return this.#device;
  }

  async ensure(ip: string): Promise<void> {
    const dev = await this.#deviceName();
    const r = await this.#ip(["addr", "add", `${ip}/32`, "dev", dev]);
    if (r.code !== 0 && !/exists/i.test(r.stderr)) throw new Error(`Cannot add ${ip} to ${dev}: ${r.stderr.trim()}`);
    if (r.code === 0) this.#added.add(ip);
  }

  async remove(ip: string): Promise<void> {
    if (this.#device === null) return;
    // Only what we added: an address that was already there belongs to someone else.
    if (!this.#added.has(ip)) return;
    await this.#ip(["addr", "del", `${ip}/32`, "dev", this.#device]);
    this.#added.delete(ip);
  }

  async cleanup(): Promise<void> {
    for (const ip of [...this.#added]) await this.remove(ip);
    if (this.#madeDevice) await this.#ip(["link", "del", this.#wantDevice]);
    this.#madeDevice = false;
    this.#device = null;
  }
}
