/**
 * The image pull policy a container gets when it names none, from its image reference.
 *
 * Upstream parses the reference with the docker distribution grammar (pkg/util/parsers.ParseImageName):
 * a reference with neither tag nor digest is treated as `:latest`; only the tag `latest` gives `Always`.
 * A reference that does not parse gives no tag, so `IfNotPresent` (validation reports the bad image).
 *
 *   busybox                      → tag latest → Always
 *   busybox:1.36                 → tag 1.36   → IfNotPresent
 *   busybox@sha256:<64 hex>      → no tag     → IfNotPresent
 *   busybox:latest@sha256:<hex>  → tag latest → Always
 */

// The docker reference grammar (distribution/reference regexp.go), anchored.
const ALNUM = "[a-z0-9]+";
const SEPARATOR = "(?:[._]|__|[-]+)";
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const DOMAIN = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
/** A bare 64-hex string is an image ID, which ParseNormalizedNamed rejects as a name. */
const IDENTIFIER = /^[a-f0-9]{64}$/;
/** As distribution/reference: longer names do not parse. */
const NAME_CHARS_MAX = 255;
/** Hex lengths of the digest algorithms go-digest accepts; others fail to parse. */
const DIGEST_HEX_CHARS: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/** The parts of an image reference that defaulting needs. */
export interface ImageReference {
  readonly name: string;
  /** "" when the reference carries none. */
  readonly tag: string;
  /** "" when the reference carries none. */
  readonly digest: string;
}

/** Parses an image reference as upstream does, or returns undefined when it is not one. */
export function parseImageReference(image: string): ImageReference | undefined {
  if (IDENTIFIER.test(image)) return undefined;
  const m = REFERENCE.exec(image);
  if (m === null) return undefined;
  const name = m[1] ?? "";
  const tag = m[2] ?? "";
  const digest = m[3] ?? "";
  if (name.length > NAME_CHARS_MAX) return undefined;
  if (digest !== "") {
    const [algorithm = "", hex = ""] = digest.split(":");
    if (DIGEST_HEX_CHARS[algorithm] !== hex.length) return undefined;
  }
  return { name, tag, digest };
}

/** The tag ParseImageName reports: "latest" when neither tag nor digest is given, "" when unparseable. */
export function imageTag(image: string): string {
  const ref = parseImageReference(image);
  if (ref === undefined) return "";
  if (ref.tag === "" && ref.digest === "") return "latest";
  return ref.tag;
}

/** `Always` for a `:latest` (or untagged) image, `IfNotPresent` otherwise, as SetDefaults_Container. */
export function defaultPullPolicy(image: unknown): "Always" | "IfNotPresent" {
  const tag = typeof image === "string" ? imageTag(image) : "";
  return tag === "latest" ? "Always" : "IfNotPresent";
}
