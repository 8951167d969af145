/**
 * Reads a tar archive held in memory: ustar and old-GNU headers, pax extended headers ('x' for the next
 * entry, 'g' global ones are ignored) and GNU long names ('L', 'K'). Enough to look inside an image
 * archive (docker-archive or OCI layout) and to check a layer we wrote; not a general extractor.
 */
import { TAR_BLOCK_BYTES, type TarEntryType } from "./tar_writer.js";

/** An image archive has a handful of members per image; a million is a corrupt or hostile file. */
export const TAR_ENTRIES_MAX = 1_000_000;

export class TarReadError extends Error {
  override readonly name = "TarReadError";
}

/** One member as read; `data` is a view into the archive bytes (no copy). */
export interface TarMember {
  readonly path: string;
  readonly type: TarEntryType | "other";
  /** The raw typeflag character ('0', '5', …). */
  readonly typeflag: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly uname: string;
  readonly gname: string;
  readonly mtimeSec: number;
  readonly size: number;
  readonly linkname: string;
  readonly data: Uint8Array;
}

const decoder = new TextDecoder("utf-8", { fatal: false });

const TYPES: Record<string, TarEntryType> = { "0": "file", "\0": "file", "7": "file", "1": "hardlink", "2": "symlink", "3": "char", "4": "block", "5": "directory", "6": "fifo" };

/** Every member of `archive`, in order. Throws TarReadError on a bad checksum, a truncated member or garbage. */
export function readTar(archive: Uint8Array): TarMember[] {
  const members: TarMember[] = [];
  let offset = 0;
  let pending: Record<string, string> = {};
  let longName: string | null = null;
  let longLink: string | null = null;
  // Bounded: every iteration moves offset forward by at least one block, and members by TAR_ENTRIES_MAX.
  while (offset + TAR_BLOCK_BYTES <= archive.length) {
    const header = archive.subarray(offset, offset + TAR_BLOCK_BYTES);
    if (header.every((b) => b === 0)) return members; // end of archive (one zero block is enough to stop)
    verifyChecksum(header, offset);
    const typeflag = String.fromCharCode(header[156]!);
    const paxSize = pending["size"];
    const size = paxSize !== undefined ? parseDecimal(paxSize, "pax size", offset) : parseNumeric(header.subarray(124, 136), "size", offset);
    const dataStart = offset + TAR_BLOCK_BYTES;
    const dataEnd = dataStart + size;
    if (dataEnd > archive.length) throw new TarReadError(`Cannot read tar: member at offset ${offset} claims ${size} bytes but the archive ends ${archive.length - dataStart} bytes later`);
    const data = archive.subarray(dataStart, dataEnd);
    offset = dataStart + Math.ceil(size / TAR_BLOCK_BYTES) * TAR_BLOCK_BYTES;

    if (typeflag === "x") {
      pending = { ...pending, ...parsePaxRecords(data, dataStart) };
      continue;
    }
    if (typeflag === "g") continue; // global defaults: nothing in an image archive depends on them
    if (typeflag === "L") {
      longName = cString(data);
      continue;
    }
    if (typeflag === "K") {
      longLink = cString(data);
      continue;
    }

    const magic = decoder.decode(header.subarray(257, 263));
    const prefix = magic.startsWith("ustar") ? cString(header.subarray(345, 500)) : "";
    const name = cString(header.subarray(0, 100));
    const path = pending["path"] ?? longName ?? (prefix !== "" ? `${prefix}/${name}` : name);
    const linkname = pending["linkpath"] ?? longLink ?? cString(header.subarray(157, 257));
    members.push({
      path,
      type: TYPES[typeflag] ?? "other",
      typeflag,
      mode: parseNumeric(header.subarray(100, 108), "mode", offset) & 0o7777,
      uid: pending["uid"] !== undefined ? parseDecimal(pending["uid"], "pax uid", offset) : parseNumeric(header.subarray(108, 116), "uid", offset),
      gid: pending["gid"] !== undefined ? parseDecimal(pending["gid"], "pax gid", offset) : parseNumeric(header.subarray(116, 124), "gid", offset),
      uname: pending["uname"] ?? cString(header.subarray(265, 297)),
      gname: pending["gname"] ?? cString(header.subarray(297, 329)),
      mtimeSec: pending["mtime"] !== undefined ? Math.floor(Number(pending["mtime"])) : parseNumeric(header.subarray(136, 148), "mtime", offset),
      size,
      linkname,
      data,
    });
    if (members.length > TAR_ENTRIES_MAX) throw new TarReadError(`Cannot read tar: more than ${TAR_ENTRIES_MAX} members`);
    pending = {};
    longName = null;
    longLink = null;
  }
  if (offset === 0 && archive.length === 0) throw new TarReadError("Cannot read tar: the file is empty");
  if (offset !== archive.length) throw new TarReadError(`Cannot read tar: ${archive.length - offset} trailing bytes do not make a whole header block`);
  // Some writers omit the end-of-archive blocks; what was read is complete.
  return members;
}

function verifyChecksum(header: Uint8Array, offset: number): void {
  let stored: number;
  try {
    stored = parseNumeric(header.subarray(148, 156), "checksum", offset);
  } catch {
    throw new TarReadError(`Cannot read tar: header at offset ${offset} is not a tar header (its checksum field is not octal)`);
  }
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < TAR_BLOCK_BYTES; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : header[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  // Old writers summed signed chars; accept either, as GNU tar does.
  if (stored !== unsigned && stored !== signed) {
    throw new TarReadError(`Cannot read tar: header at offset ${offset} has checksum ${stored}, computed ${unsigned} (not a tar file, or corrupt)`);
  }
}

/** An octal field (NUL/space terminated), or GNU's base-256 form (high bit of the first byte set). */
function parseNumeric(field: Uint8Array, what: string, offset: number): number {
  if ((field[0]! & 0x80) !== 0) {
    let value = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    if (!Number.isSafeInteger(value)) throw new TarReadError(`Cannot read tar: ${what} at offset ${offset} is too large`);
    return value;
  }
  const text = decoder.decode(field).replace(/\0.*$/s, "").trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarReadError(`Cannot read tar: ${what} field at offset ${offset} is not octal: ${JSON.stringify(text)}`);
  return parseInt(text, 8);
}

function parseDecimal(text: string, what: string, offset: number): number {
  if (!/^\d+$/.test(text)) throw new TarReadError(`Cannot read tar: ${what} near offset ${offset} is not a decimal number: ${JSON.stringify(text)}`);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new TarReadError(`Cannot read tar: ${what} near offset ${offset} is too large`);
  return value;
}

/** pax records "<len> <key>=<value>\n"; a record whose length does not add up is an error. */
export function parsePaxRecords(data: Uint8Array, offset = 0): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  // Bounded: each record advances pos by its (positive) length.
  while (pos < data.length) {
    if (data[pos] === 0) break; // padding
    let space = pos;
    while (space < data.length && data[space] !== 0x20) space++;
    const len = Number(decoder.decode(data.subarray(pos, space)));
    if (!Number.isSafeInteger(len) || len <= space - pos + 1 || pos + len > data.length || data[pos + len - 1] !== 0x0a) {
      throw new TarReadError(`Cannot read tar: malformed pax record near offset ${offset + pos}`);
    }
    const record = decoder.decode(data.subarray(space + 1, pos + len - 1));
    const eq = record.indexOf("=");
    if (eq <= 0) throw new TarReadError(`Cannot read tar: pax record without '=' near offset ${offset + pos}`);
    out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

function cString(field: Uint8Array): string {
  const end = field.indexOf(0);
  return decoder.decode(end === -1 ? field : field.subarray(0, end));
}
