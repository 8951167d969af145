/**
 * The process runtime's images: names only. There is no image filesystem, so "pulling" an image records
 * its normalized reference and nothing is downloaded; a container runs host executables whatever image
 * it names. Records live in `<root>/images.json` so pulled names survive a restart.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Image } from "./cri.js";
import { InvalidImageNameError, ResourceExhaustedError } from "./errors.js";

/** Names remembered; a pull beyond this fails (remove images first). */
export const IMAGES_MAX = 4096;

const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN = "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?";
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const REFERENCE_RE = new RegExp(`^(?:(${DOMAIN})/)?(${COMPONENT}(?:/${COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`);

/**
 * Normalizes a reference as the container tooling does (docker's reference.ParseNormalizedNamed plus
 * the default tag): `nginx` → `docker.io/library/nginx:latest`. Throws InvalidImageNameError.
 */
export function normalizeImageName(image: string): string {
  if (image.length === 0 || image.length > 255 * 2) throw new InvalidImageNameError(image);
  // The first component is a domain only if it looks like one, as docker decides.
  const slash = image.indexOf("/");
  const first = slash < 0 ? "" : image.slice(0, slash);
  const hasDomain = slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase());
  let candidate = hasDomain ? image : `docker.io/${image}`;
  const m = REFERENCE_RE.exec(candidate);
  if (m === null || m[1] === undefined) throw new InvalidImageNameError(image);
  let [, domain, repo, tag, digest] = m as unknown as [string, string, string, string | undefined, string | undefined];
  if (domain === "index.docker.io") domain = "docker.io";
  if (domain === "docker.io" && !repo.includes("/")) repo = `library/${repo}`;
  candidate = `${domain}/${repo}`;
  if (tag !== undefined) candidate += `:${tag}`;
  if (digest !== undefined) candidate += `@${digest}`;
  if (tag === undefined && digest === undefined) candidate += ":latest";
  return candidate;
}

/** The id of a name-only image: a digest of its name (it has no content to digest), stable across restarts. */
export function imageIdOf(normalized: string): string {
  return `sha256:${createHash("sha256").update(normalized).digest("hex")}`;
}

interface ImageRecord { readonly name: string; readonly id: string }

export class ImageStore {
  readonly #file: string;
  readonly #byName = new Map<string, ImageRecord>();

  constructor(root: string) {
    this.#file = path.join(root, "images.json");
    try {
      const records = JSON.parse(fs.readFileSync(this.#file, "utf8")) as ImageRecord[];
      for (const r of records.slice(0, IMAGES_MAX)) this.#byName.set(r.name, r);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }

  /** The image record for a reference or an image id, or null. Throws InvalidImageNameError. */
  find(imageOrId: string): Image | null {
    if (imageOrId.startsWith("sha256:")) {
      const names = [...this.#byName.values()].filter((r) => r.id === imageOrId);
      return names.length === 0 ? null : toImage(names[0]!);
    }
    const r = this.#byName.get(normalizeImageName(imageOrId));
    return r === undefined ? null : toImage(r);
  }

  /** Records a pulled name; returns its image ref (the id). */
  pull(image: string): string {
    const name = normalizeImageName(image);
    const existing = this.#byName.get(name);
    if (existing !== undefined) return existing.id;
    if (this.#byName.size >= IMAGES_MAX) {
      throw new ResourceExhaustedError(`Cannot pull image "${image}": the process runtime already records ${IMAGES_MAX} images`);
    }
    const r = { name, id: imageIdOf(name) };
    this.#byName.set(name, r);
    this.#save();
    return r.id;
  }

  /** Forgets a name (or every name with that id); a missing one is not an error. */
  remove(imageOrId: string): void {
    const before = this.#byName.size;
    if (imageOrId.startsWith("sha256:")) {
      for (const [name, r] of this.#byName) if (r.id === imageOrId) this.#byName.delete(name);
    } else {
      this.#byName.delete(normalizeImageName(imageOrId));
    }
    if (this.#byName.size !== before) this.#save();
  }

  list(): Image[] {
    return [...this.#byName.values()].sort((a, b) => a.name.localeCompare(b.name)).map(toImage);
  }

  #save(): void {
    const tmp = `${this.#file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify([...this.#byName.values()]));
    fs.renameSync(tmp, this.#file);
  }
}

function toImage(r: ImageRecord): Image {
  const digest = r.name.includes("@") ? [r.name.replace(/:[^/@]+@/, "@")] : [];
  return {
    id: r.id,
    repoTags: r.name.includes("@") ? [] : [r.name],
    repoDigests: digest,
    size: 0,
    username: "",
    spec: { image: r.name },
    pinned: false,
  };
}
