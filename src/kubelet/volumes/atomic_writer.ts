/**
 * Writes a volume's files so a reader sees either the whole old set or the whole new set (upstream's
 * pkg/volume/util/atomic_writer.go): the files go into a fresh timestamped directory, the `..data`
 * symlink is swapped to it with one rename, and each visible top-level name is a symlink through
 * `..data`. Layout after two writes of key `a`:
 *
 *   vol/a            -> ..data/a
 *   vol/..data       -> ..2026_11_24_22_14_35.000000001     (renamed over from ..data_tmp)
 *   vol/..2026_11_24_22_14_35.000000001/a                   (the old timestamped dir is removed)
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface FileProjection {
  readonly data: Uint8Array;
  /** Permission bits (0o644 by default, as upstream's defaultMode 420). */
  readonly mode: number;
}

/** Files per volume and bytes per volume: a ConfigMap or Secret is at most 1 MiB, a projected volume a few. */
export const PAYLOAD_FILES_MAX = 4096;
export const PAYLOAD_BYTES_MAX = 16 * 1024 * 1024;

const DATA_DIR = "..data";
const DATA_TMP = "..data_tmp";

/** Checks a payload path as upstream's validatePath: relative, no `..` element, not starting with `..`. */
export function validatePayloadPath(p: string): void {
  if (p === "") throw new Error("invalid path: must not be empty");
  if (path.isAbsolute(p)) throw new Error(`invalid path: must be relative path: ${p}`);
  if (p.split("/").includes("..")) throw new Error(`invalid path: must not contain '..': ${p}`);
  if (p.startsWith("..")) throw new Error(`invalid path: must not start with '..': ${p}`);
}

function stamp(nowMs: number, seq: number): string {
  const d = new Date(nowMs);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `..${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.${p(seq, 9)}`;
}

let writeSeq = 0;

/** Whether the current content under `dir` equals `payload` (then nothing is written). */
function unchanged(dir: string, payload: ReadonlyMap<string, FileProjection>): boolean {
  const data = path.join(dir, DATA_DIR);
  if (!fs.existsSync(data)) return false;
  const current = listFiles(data);
  if (current.length !== payload.size) return false;
  for (const rel of current) {
    const want = payload.get(rel);
    if (want === undefined) return false;
    const file = path.join(data, rel);
    const st = fs.statSync(file);
    if ((st.mode & 0o777) !== (want.mode & 0o777)) return false;
    if (!Buffer.from(fs.readFileSync(file)).equals(Buffer.from(want.data))) return false;
  }
  return true;
}

function listFiles(root: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const r = rel === "" ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...listFiles(root, r));
    else out.push(r);
  }
  return out;
}

/** Makes `dir` hold exactly `payload`; returns false when it already did. */
export function writeAtomically(dir: string, payload: ReadonlyMap<string, FileProjection>, nowMs: number): boolean {
  if (payload.size > PAYLOAD_FILES_MAX) throw new Error(`Cannot write volume ${dir}: ${payload.size} files is more than ${PAYLOAD_FILES_MAX}`);
  let bytes = 0;
  for (const [rel, f] of payload) {
    validatePayloadPath(rel);
    bytes += f.data.length;
  }
  if (bytes > PAYLOAD_BYTES_MAX) throw new Error(`Cannot write volume ${dir}: ${bytes} bytes is more than ${PAYLOAD_BYTES_MAX}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (unchanged(dir, payload)) return false;

  const tsName = stamp(nowMs, ++writeSeq % 1_000_000_000);
  const tsDir = path.join(dir, tsName);
  fs.mkdirSync(tsDir, { mode: 0o755 });
  for (const [rel, f] of payload) {
    const file = path.join(tsDir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    fs.writeFileSync(file, f.data, { mode: f.mode & 0o777 });
    fs.chmodSync(file, f.mode & 0o777); // the umask must not narrow what the pod asked for
  }
  let oldTs: string | null = null;
  try {
    oldTs = fs.readlinkSync(path.join(dir, DATA_DIR));
  } catch {
    oldTs = null;
  }
  const tmp = path.join(dir, DATA_TMP);
  fs.rmSync(tmp, { force: true });
  fs.symlinkSync(tsName, tmp);
  fs.renameSync(tmp, path.join(dir, DATA_DIR)); // the one atomic step

  const visible = new Set([...payload.keys()].map((rel) => rel.split("/")[0]!));
  for (const name of visible) {
    const link = path.join(dir, name);
    let ok = false;
    try {
      ok = fs.readlinkSync(link) === path.join(DATA_DIR, name);
    } catch {
      ok = false;
    }
    if (!ok) {
      fs.rmSync(link, { force: true, recursive: true });
      fs.symlinkSync(path.join(DATA_DIR, name), link);
    }
  }
  for (const e of fs.readdirSync(dir)) {
    if (e.startsWith("..") || visible.has(e)) continue;
    fs.rmSync(path.join(dir, e), { force: true, recursive: true }); // a key that is gone
  }
  if (oldTs !== null && oldTs !== tsName) fs.rmSync(path.join(dir, oldTs), { recursive: true, force: true });
  return true;
}
