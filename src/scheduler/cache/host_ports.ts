/**
 * Host ports in use on a node (upstream `HostPortInfo`): ip → set of "protocol/port". The wildcard ip
 * 0.0.0.0 conflicts with the same protocol/port on every ip, and every ip conflicts with it.
 */
export const DEFAULT_BIND_ALL_HOST_IP = "0.0.0.0";

function sanitize(ip: string | undefined, protocol: string | undefined): [string, string] {
  return [ip === undefined || ip === "" ? DEFAULT_BIND_ALL_HOST_IP : ip, protocol === undefined || protocol === "" ? "TCP" : protocol];
}

export class HostPortInfo {
  #byIp = new Map<string, Map<string, number>>();

  add(ip: string | undefined, protocol: string | undefined, port: number): void {
    if (port <= 0) return;
    const [i, p] = sanitize(ip, protocol);
    let m = this.#byIp.get(i);
    if (m === undefined) this.#byIp.set(i, (m = new Map()));
    const k = `${p}/${port}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }

  remove(ip: string | undefined, protocol: string | undefined, port: number): void {
    if (port <= 0) return;
    const [i, p] = sanitize(ip, protocol);
    const m = this.#byIp.get(i);
    if (m === undefined) return;
    const k = `${p}/${port}`;
    const n = (m.get(k) ?? 0) - 1;
    if (n > 0) m.set(k, n);
    else m.delete(k);
    if (m.size === 0) this.#byIp.delete(i);
  }

  /** HostPortInfo.CheckConflict. */
  checkConflict(ip: string | undefined, protocol: string | undefined, port: number): boolean {
    if (port <= 0) return false;
    const [i, p] = sanitize(ip, protocol);
    const k = `${p}/${port}`;
    if (i === DEFAULT_BIND_ALL_HOST_IP) {
      for (const m of this.#byIp.values()) if (m.has(k)) return true;
      return false;
    }
    return (this.#byIp.get(i)?.has(k) ?? false) || (this.#byIp.get(DEFAULT_BIND_ALL_HOST_IP)?.has(k) ?? false);
  }

  get size(): number {
    let n = 0;
    for (const m of this.#byIp.values()) n += m.size;
    return n;
  }

  clone(): HostPortInfo {
    const c = new HostPortInfo();
    for (const [ip, m] of this.#byIp) c.#byIp.set(ip, new Map(m));
    return c;
  }
}
