/**
 * A set of equal-sized subnets carved from one cluster CIDR (pkg/controller/nodeipam/ipam/cidrset),
 * IPv4: with --cluster-cidr 10.244.0.0/16 and --node-cidr-mask-size 24 there are 256 subnets,
 * 10.244.0.0/24 … 10.244.255.0/24. Allocation goes round from where it last stopped, so a subnet just
 * released is not handed to the next node at once (its old routes may still be around).
 *
 *   allocate → 10.244.0.0/24, allocate → 10.244.1.0/24, release 10.244.0.0/24, allocate → 10.244.2.0/24
 */

/** Upstream's ErrCIDRRangeNoCIDRsRemaining. */
export const ERR_CIDR_RANGE_NO_CIDRS_REMAINING = "CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range";
/** Upstream caps the subnets of one set at 2^16 (clusterSubNetMaxDiff). */
export const CIDR_SET_SUBNETS_MAX = 1 << 16;

export class CidrError extends Error {
  override readonly name = "CidrError";
}

export interface Ipv4Cidr {
  /** The network address as an unsigned 32-bit number. */
  readonly base: number;
  readonly prefix: number;
}

/** Parses `a.b.c.d/n` (IPv4 only); the address is masked to its network. */
export function parseIpv4Cidr(text: string): Ipv4Cidr {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text.trim());
  if (m === null) throw new CidrError(`invalid CIDR address: ${text}`);
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) throw new CidrError(`invalid CIDR address: ${text}`);
  const addr = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  return { base: prefix === 0 ? 0 : (addr & (~0 << (32 - prefix))) >>> 0, prefix };
}

export function formatIpv4Cidr(c: Ipv4Cidr): string {
  const b = c.base;
  return `${b >>> 24}.${(b >>> 16) & 255}.${(b >>> 8) & 255}.${b & 255}/${c.prefix}`;
}

export class CidrSet {
  readonly cluster: Ipv4Cidr;
  readonly nodeMaskSize: number;
  readonly subnets: number;
  readonly #used: Uint8Array;
  #allocated = 0;
  #nextCandidate = 0;

  constructor(clusterCidr: string, nodeMaskSize: number) {
    this.cluster = parseIpv4Cidr(clusterCidr);
    if (!Number.isInteger(nodeMaskSize) || nodeMaskSize < this.cluster.prefix || nodeMaskSize > 32) {
      throw new CidrError(`invalid --node-cidr-mask-size ${nodeMaskSize}: must be between the cluster CIDR's prefix ${this.cluster.prefix} and 32`);
    }
    if (nodeMaskSize - this.cluster.prefix > 16) throw new CidrError("CIDRSet: cluster subnet mask size is more than 16 bits smaller than the node CIDR mask size");
    this.nodeMaskSize = nodeMaskSize;
    this.subnets = 2 ** (nodeMaskSize - this.cluster.prefix);
    this.#used = new Uint8Array(this.subnets);
  }

  get allocated(): number {
    return this.#allocated;
  }

  #cidrAt(index: number): string {
    return formatIpv4Cidr({ base: (this.cluster.base + index * 2 ** (32 - this.nodeMaskSize)) >>> 0, prefix: this.nodeMaskSize });
  }

  /** The indexes of this set's subnets that `cidr` covers (it may be larger or smaller than one); [] if outside. */
  #indexesOf(cidr: string): number[] {
    const c = parseIpv4Cidr(cidr);
    const size = 2 ** (32 - this.nodeMaskSize);
    const clusterEnd = this.cluster.base + 2 ** (32 - this.cluster.prefix);
    const start = Math.max(c.base, this.cluster.base);
    const end = Math.min(c.base + 2 ** (32 - c.prefix), clusterEnd);
    if (start >= end) return [];
    const first = Math.floor((start - this.cluster.base) / size);
    const last = Math.floor((end - 1 - this.cluster.base) / size);
    const out: number[] = [];
    for (let i = first; i <= last; i++) out.push(i);
    return out;
  }

  /** AllocateNext: the next free subnet, going round; throws when every one is taken. */
  allocateNext(): string {
    if (this.#allocated === this.subnets) throw new CidrError(ERR_CIDR_RANGE_NO_CIDRS_REMAINING);
    for (let i = 0; i < this.subnets; i++) {
      const candidate = (this.#nextCandidate + i) % this.subnets;
      if (this.#used[candidate] === 0) {
        this.#used[candidate] = 1;
        this.#allocated++;
        this.#nextCandidate = (candidate + 1) % this.subnets;
        return this.#cidrAt(candidate);
      }
    }
    throw new CidrError(ERR_CIDR_RANGE_NO_CIDRS_REMAINING);
  }

  /** Occupy: marks what `cidr` covers as used (a node's existing podCIDR, the service range). */
  occupy(cidr: string): void {
    for (const i of this.#indexesOf(cidr)) {
      if (this.#used[i] === 0) this.#allocated++;
      this.#used[i] = 1;
    }
  }

  release(cidr: string): void {
    for (const i of this.#indexesOf(cidr)) {
      if (this.#used[i] === 1) this.#allocated--;
      this.#used[i] = 0;
    }
  }

  /** Whether `cidr` lies inside the cluster CIDR with this set's node mask. */
  contains(cidr: string): boolean {
    try {
      const c = parseIpv4Cidr(cidr);
      return c.prefix === this.nodeMaskSize && this.#indexesOf(cidr).length === 1;
    } catch {
      return false;
    }
  }
}
