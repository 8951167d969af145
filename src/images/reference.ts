/**
 * Image references as Docker and containerd normalize them (github.com/distribution/reference,
 * `ParseDockerRef`): `busybox` → `docker.io/library/busybox:latest`, `tk8s/pause:1` →
 * `docker.io/tk8s/pause:1`, `localhost:5000/x@sha256:…` kept with its digest. Error messages are upstream's.
 */

/** Upstream's NameTotalLengthMax. */
export const NAME_TOTAL_LENGTH_MAX = 255;
const DEFAULT_DOMAIN = "docker.io";
const OFFICIAL_REPO_PREFIX = "library/";

// distribution/reference regexp.go
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

export class InvalidReferenceError extends Error {
  override readonly name = "InvalidReferenceError";
}

/** A parsed reference: `domain/path[:tag][@digest]`. */
export interface ImageReference {
  readonly domain: string;
  readonly path: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** The full name: `domain/path`, then `:tag` and `@digest` when present. */
export function formatReference(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}${ref.tag !== undefined ? `:${ref.tag}` : ""}${ref.digest !== undefined ? `@${ref.digest}` : ""}`;
}

/** Parses and normalizes as `ParseDockerRef`: default domain, `library/` for official images, `:latest` if neither tag nor digest. */
export function normalizeReference(input: string): string {
  const ref = parseNormalizedReference(input);
  return formatReference(ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: "latest" } : ref);
}

export function parseNormalizedReference(input: string): ImageReference {
  if (input === "") throw new InvalidReferenceError("invalid reference format");
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new InvalidReferenceError("invalid reference format");
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(":");
  if (lastColon !== -1 && !rest.slice(lastColon + 1).includes("/")) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) throw new InvalidReferenceError("invalid reference format");
  }
  const slash = rest.indexOf("/");
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const first = slash === -1 ? "" : rest.slice(0, slash);
  if (slash !== -1 && (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase())) {
    domain = first;
    path = rest.slice(slash + 1);
    validateDomain(domain);
  }
  if (domain === "index.docker.io") domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes("/")) path = `${OFFICIAL_REPO_PREFIX}${path}`;
  if (path !== path.toLowerCase() && path.split("/").every((c) => PATH_COMPONENT.test(c.toLowerCase()))) {
    throw new InvalidReferenceError("invalid reference format: repository name must be lowercase");
  }
  for (const component of path.split("/")) {
    if (!PATH_COMPONENT.test(component)) throw new InvalidReferenceError("invalid reference format");
  }
  if (`${domain}/${path}`.length > NAME_TOTAL_LENGTH_MAX) {
    throw new InvalidReferenceError(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  return { domain, path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

function validateDomain(domain: string): void {
  const colon = domain.lastIndexOf(":");
  const host = colon === -1 ? domain : domain.slice(0, colon);
  const port = colon === -1 ? undefined : domain.slice(colon + 1);
  if (port !== undefined && !/^\d+$/.test(port)) throw new InvalidReferenceError("invalid reference format");
  // IPv6 literals ([::1]) are allowed in brackets.
  if (/^\[[0-9a-fA-F:]+\]$/.test(host)) return;
  for (const part of host.split(".")) {
    if (!DOMAIN_COMPONENT.test(part)) throw new InvalidReferenceError("invalid reference format");
  }
}
