/**
 * A deterministic tar writer: POSIX ustar headers, with a pax extended header ('x') in front of an entry
 * whose path, link target or size does not fit ustar's fields. Owner, group and mtime come from the
 * options, never from the files, so the same entries always give the same bytes (and so the same layer
 * digest), as reproducible-build tools do with SOURCE_DATE_EPOCH.
 *
 *   offset  size  field          offset  size  field
 *        0   100  name              257     6  magic "ustar\0"
 *      100     8  mode (octal)      263     2  version "00"
 *      108     8  uid               265    32  uname
 *      116     8  gid               297    32  gname
 *      124    12  size              329     8  devmajor
 *      136    12  mtime             337     8  devminor
 *      148     8  chksum            345   155  prefix (joined to name with '/')
 *      156     1  typeflag          500    12  (padding to 512)
 *      157   100  linkname
 */

/** Tar's unit: headers and data are padded to it. */
export const TAR_BLOCK_BYTES = 512;
/** The largest size an 11-digit octal size field holds (8 GiB − 1); larger files need a pax `size`. */
const USTAR_SIZE_MAX = 0o77777777777;
const USTAR_NAME_BYTES = 100;
const USTAR_PREFIX_BYTES = 155;
const USTAR_LINKNAME_BYTES = 100;
const USTAR_ID_MAX = 0o7777777;
const USTAR_DEV_MAX = 0o7777777;

export type TarEntryType = "file" | "directory" | "symlink" | "hardlink" | "fifo" | "char" | "block";

const TYPEFLAG: Record<TarEntryType, string> = { file: "0", hardlink: "1", symlink: "2", char: "3", block: "4", directory: "5", fifo: "6" };

/** One archive member. Paths are relative, '/'-separated, without a leading "./" or '/'. */
export interface TarEntry {
  readonly path: string;
  readonly type: TarEntryType;
  /** Permission bits (07777 is kept: setuid, setgid, sticky). */
  readonly mode: number;
  /** The content of a regular file; empty for every other type. */
  readonly data?: Uint8Array;
  /** The target of a symlink or hard link. */
  readonly linkname?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
}

/** The fields every entry shares, fixed so the output depends on the entries alone. */
export interface TarWriteOptions {
  /** Seconds since the epoch; default 0. */
  readonly mtimeSec?: number;
  /** Default 0 (root). */
  readonly uid?: number;
  readonly gid?: number;
  /** Default "" (tar then maps by the numeric ids). */
  readonly uname?: string;
  readonly gname?: string;
}

export class TarWriteError extends Error {
  override readonly name = "TarWriteError";
}

const encoder = new TextEncoder();

/** Checks a member path: relative, no empty/"."/".." components (a layer must not write outside its root). */
export function validateTarPath(path: string): void {
  if (path === "") throw new TarWriteError("Cannot write a tar entry: its path is empty");
  if (path.startsWith("/")) throw new TarWriteError(`Cannot write a tar entry: path ${JSON.stringify(path)} is absolute`);
  if (path.includes("\0")) throw new TarWriteError(`Cannot write a tar entry: path ${JSON.stringify(path)} contains a NUL byte`);
  const parts = path.replace(/\/$/, "").split("/");
  for (const part of parts) {
    if (part === "" || part === "." || part === "..") {
      throw new TarWriteError(`Cannot write a tar entry: path ${JSON.stringify(path)} has an empty, "." or ".." component`);
    }
  }
}

/** The header block(s) of one entry: a pax header (with its data) when needed, then the ustar header. */
export function encodeTarHeader(entry: TarEntry, options: TarWriteOptions = {}): Uint8Array {
  validateTarPath(entry.path);
  const size = entry.type === "file" ? (entry.data?.length ?? 0) : 0;
  if (entry.type !== "file" && entry.data !== undefined && entry.data.length > 0) {
    throw new TarWriteError(`Cannot write tar entry ${entry.path}: a ${entry.type} has no data`);
  }
  const needsLink = entry.type === "symlink" || entry.type === "hardlink";
  if (needsLink && (entry.linkname === undefined || entry.linkname === "")) {
    throw new TarWriteError(`Cannot write tar entry ${entry.path}: a ${entry.type} needs a linkname`);
  }
  if (!Number.isInteger(entry.mode) || entry.mode < 0 || entry.mode > 0o7777) {
    throw new TarWriteError(`Cannot write tar entry ${entry.path}: mode must be an integer in 0..07777: current value is ${entry.mode}`);
  }
  const uid = options.uid ?? 0;
  const gid = options.gid ?? 0;
  const mtimeSec = options.mtimeSec ?? 0;
  for (const [field, value, max] of [["uid", uid, USTAR_ID_MAX], ["gid", gid, USTAR_ID_MAX], ["mtimeSec", mtimeSec, USTAR_SIZE_MAX]] as const) {
    if (!Number.isSafeInteger(value) || value < 0 || value > max) {
      throw new TarWriteError(`Cannot write a tar entry: ${field} must be an integer in 0..${max}: current value is ${value}`);
    }
  }
  const devmajor = entry.devmajor ?? 0;
  const devminor = entry.devminor ?? 0;
  if (devmajor > USTAR_DEV_MAX || devminor > USTAR_DEV_MAX) throw new TarWriteError(`Cannot write tar entry ${entry.path}: device number too large`);

  // Directories are named with a trailing '/', as GNU tar and Docker write them.
  const name = entry.type === "directory" && !entry.path.endsWith("/") ? `${entry.path}/` : entry.path;
  const pax: Array<[string, string]> = [];
  const split = splitUstarName(name);
  if (split === null) pax.push(["path", name]);
  const linkname = entry.linkname ?? "";
  if (encoder.encode(linkname).length > USTAR_LINKNAME_BYTES) pax.push(["linkpath", linkname]);
  if (size > USTAR_SIZE_MAX) pax.push(["size", String(size)]);

  const blocks: Uint8Array[] = [];
  if (pax.length > 0) {
    const body = encodePaxRecords(pax);
    // The pax header's own name only has to be unique and short; upstream tars use "PaxHeaders.N/<name>".
    const paxName = `PaxHeaders/${truncateUtf8(lastComponent(name), 80)}`;
    blocks.push(ustarHeader({ name: paxName, prefix: "", typeflag: "x", mode: 0o644, size: body.length, linkname: "", devmajor: 0, devminor: 0 }, uid, gid, mtimeSec, options), padToBlock(body));
  }
  const fallback = split ?? { prefix: "", name: truncateUtf8(name, USTAR_NAME_BYTES) };
  blocks.push(ustarHeader({
    name: fallback.name, prefix: fallback.prefix, typeflag: TYPEFLAG[entry.type], mode: entry.mode,
    size: Math.min(size, USTAR_SIZE_MAX), linkname: truncateUtf8(linkname, USTAR_LINKNAME_BYTES), devmajor, devminor,
  }, uid, gid, mtimeSec, options));
  return concatBytes(blocks);
}

/** A whole archive: each entry's header(s) and padded data, then the two zero blocks that end a tar. */
export function writeTar(entries: Iterable<TarEntry>, options: TarWriteOptions = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    parts.push(encodeTarHeader(entry, options));
    if (entry.type === "file" && entry.data !== undefined && entry.data.length > 0) parts.push(padToBlock(entry.data));
  }
  parts.push(new Uint8Array(2 * TAR_BLOCK_BYTES));
  return concatBytes(parts);
}

interface UstarFields {
  readonly name: string;
  readonly prefix: string;
  readonly typeflag: string;
  readonly mode: number;
  readonly size: number;
  readonly linkname: string;
  readonly devmajor: number;
  readonly devminor: number;
}

function ustarHeader(f: UstarFields, uid: number, gid: number, mtimeSec: number, options: TarWriteOptions): Uint8Array {
  const block = new Uint8Array(TAR_BLOCK_BYTES);
  putString(block, 0, 100, f.name);
  putOctal(block, 100, 8, f.mode);
  putOctal(block, 108, 8, uid);
  putOctal(block, 116, 8, gid);
  putOctal(block, 124, 12, f.size);
  putOctal(block, 136, 12, mtimeSec);
  block.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  putString(block, 156, 1, f.typeflag);
  putString(block, 157, 100, f.linkname);
  putString(block, 257, 6, "ustar\0");
  putString(block, 263, 2, "00");
  putString(block, 265, 32, truncateUtf8(options.uname ?? "", 31));
  putString(block, 297, 32, truncateUtf8(options.gname ?? "", 31));
  putOctal(block, 329, 8, f.devmajor);
  putOctal(block, 337, 8, f.devminor);
  putString(block, 345, 155, f.prefix);
  let sum = 0;
  for (const byte of block) sum += byte;
  // Six octal digits, NUL, space: the form GNU tar writes.
  putString(block, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

/**
 * Splits a path into ustar's prefix (≤155 bytes) and name (≤100 bytes) at a '/', or null if it cannot be
 * (then a pax `path` record carries it).
 */
export function splitUstarName(path: string): { prefix: string; name: string } | null {
  const bytes = encoder.encode(path);
  if (bytes.length <= USTAR_NAME_BYTES) return { prefix: "", name: path };
  // Try every '/' from the right; the name part must be non-empty (a trailing '/' stays with the name).
  const body = path.endsWith("/") ? path.slice(0, -1) : path;
  for (let i = body.lastIndexOf("/"); i > 0; i = body.lastIndexOf("/", i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (encoder.encode(prefix).length <= USTAR_PREFIX_BYTES && encoder.encode(name).length <= USTAR_NAME_BYTES && name !== "") return { prefix, name };
  }
  return null;
}

/** pax records: "<len> <key>=<value>\n", where <len> counts the whole record including its own digits. */
export function encodePaxRecords(records: ReadonlyArray<readonly [string, string]>): Uint8Array {
  let text = "";
  for (const [key, value] of records) {
    const body = ` ${key}=${value}\n`;
    const bodyBytes = encoder.encode(body).length;
    // The length counts its own digits: settle the fixed point (at most two steps, e.g. 98+1 → 99+2 = 101 → 101+3).
    let len = bodyBytes + String(bodyBytes).length;
    for (let step = 0; step < 3 && bodyBytes + String(len).length !== len; step++) len = bodyBytes + String(len).length;
    text += `${len}${body}`;
  }
  return encoder.encode(text);
}

function putString(block: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = encoder.encode(value);
  if (bytes.length > length) throw new TarWriteError(`Cannot write a tar header: ${JSON.stringify(value)} is longer than its ${length}-byte field`);
  block.set(bytes, offset);
}

function putOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  // length-1 octal digits then NUL.
  putString(block, offset, length, `${value.toString(8).padStart(length - 1, "0")}\0`);
}

function padToBlock(data: Uint8Array): Uint8Array {
  const rem = data.length % TAR_BLOCK_BYTES;
  if (rem === 0) return data;
  const out = new Uint8Array(data.length + TAR_BLOCK_BYTES - rem);
  out.set(data);
  return out;
}

function lastComponent(path: string): string {
  const parts = path.replace(/\/$/, "").split("/");
  return parts[parts.length - 1] ?? path;
}

/** The longest prefix of `value` whose UTF-8 form fits in `bytesMax` (never splitting a character). */
function truncateUtf8(value: string, bytesMax: number): string {
  if (encoder.encode(value).length <= bytesMax) return value;
  let out = "";
  for (const ch of value) {
    if (encoder.encode(out + ch).length > bytesMax) break;
    out += ch;
  }
  return out;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
