/**
 * The `pod-template-hash` label that names a Deployment's ReplicaSets (controller.ComputeHash).
 *
 * Upstream hashes the Go struct with FNV-32a over spew's `%#v` dump of the PodTemplateSpec, appends
 * the collisionCount as 8 little-endian bytes, and encodes the decimal Sum32 with SafeEncodeString
 * (each digit → a letter of "bcdfghjklmnpqrstvwxz2456789", so names avoid vowels and look-alikes).
 * A Go struct dump cannot be reproduced from JSON, so OUR hash differs in one step only: FNV-32a
 * runs over the template's canonical JSON (object keys sorted, empty maps/lists and nulls dropped, as
 * semantic equality treats them as absent). The rest — collisionCount bytes, decimal, alphabet — is
 * upstream's, so hashes have upstream's shape (e.g. `web-5d9c8b7f6c`) and change exactly when the
 * template does. Hashes are only ever compared with hashes we made, so the difference is invisible.
 */

const SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** The template with nulls, undefined, empty maps and empty lists removed and keys sorted. */
export function canonicalize(v: unknown): unknown {
  if (Array.isArray(v)) {
    const items = v.map(canonicalize).filter((x) => x !== undefined);
    return items.length === 0 ? undefined : items;
  }
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const c = canonicalize((v as Record<string, unknown>)[k]);
      if (c !== undefined) out[k] = c;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return v === null ? undefined : v;
}

/** FNV-1a, 32 bits (hash/fnv New32a). */
export function fnv32a(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** rand.SafeEncodeString: each character's code point mod 27 picks a letter of the safe alphabet. */
export function safeEncodeString(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHABET[s.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/** The hash of a pod template (and the Deployment's collisionCount, when set). */
export function computeHash(template: unknown, collisionCount?: number): string {
  const json = JSON.stringify(canonicalize(template) ?? {});
  let h = fnv32a(new TextEncoder().encode(json));
  if (collisionCount !== undefined && collisionCount !== null) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(bytes, h);
  }
  return safeEncodeString(String(h));
}
