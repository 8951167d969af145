/**
 * Writes an OCI image layout tarball (image-spec `image-layout.md`) for one image of one layer:
 *
 *   oci-layout                    {"imageLayoutVersion":"1.0.0"}
 *   index.json                    one manifest descriptor per tag, annotated with the full name
 *                                 (io.containerd.image.name, what ctr import reads) and the tag
 *                                 (org.opencontainers.image.ref.name, as `ctr export` writes it)
 *   blobs/sha256/<hex>            the manifest, the config and the uncompressed layer
 *
 * The config is the same JSON docker_archive.ts writes, so both formats give the same image id.
 */
import { imageConfigJson, sha256Hex, type BuiltImage, type DockerArchiveOptions } from "./docker_archive.js";
import { parseNormalizedReference, normalizeReference } from "./reference.js";
import { writeTar, type TarEntry } from "./tar_writer.js";

export const MEDIA_TYPE_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const MEDIA_TYPE_OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const MEDIA_TYPE_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";

/** An OCI layout archive holding one image whose single layer is `layer` (an uncompressed tar). */
export function buildOciArchive(layer: Uint8Array, options: DockerArchiveOptions): BuiltImage & { readonly manifestDigest: string } {
  if (options.tags.length === 0) throw new Error("Cannot build an image archive: at least one tag is needed");
  const tags = options.tags.map((t) => normalizeReference(t));
  for (const t of tags) if (t.includes("@")) throw new Error(`Cannot build an image archive: ${t} names a digest, not a tag`);
  const enc = new TextEncoder();
  const layerHex = sha256Hex(layer);
  const config = enc.encode(imageConfigJson(`sha256:${layerHex}`, options));
  const configHex = sha256Hex(config);
  const manifest = enc.encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_OCI_MANIFEST,
    config: { mediaType: MEDIA_TYPE_OCI_CONFIG, digest: `sha256:${configHex}`, size: config.length },
    layers: [{ mediaType: MEDIA_TYPE_OCI_LAYER, digest: `sha256:${layerHex}`, size: layer.length }],
  }));
  const manifestHex = sha256Hex(manifest);
  const index = enc.encode(JSON.stringify({
    schemaVersion: 2,
    manifests: tags.map((name) => ({
      mediaType: MEDIA_TYPE_OCI_MANIFEST, digest: `sha256:${manifestHex}`, size: manifest.length,
      annotations: { "io.containerd.image.name": name, "org.opencontainers.image.ref.name": parseNormalizedReference(name).tag ?? "latest" },
    })),
  }));
  // Blobs sorted by digest, so the archive's member order does not depend on which blob is which.
  const blobs = [[layerHex, layer], [configHex, config], [manifestHex, manifest]] as const;
  const entries: TarEntry[] = [
    { path: "blobs", type: "directory", mode: 0o755 },
    { path: "blobs/sha256", type: "directory", mode: 0o755 },
    ...[...blobs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([hex, data]): TarEntry => ({ path: `blobs/sha256/${hex}`, type: "file", mode: 0o644, data })),
    { path: "index.json", type: "file", mode: 0o644, data: index },
    { path: "oci-layout", type: "file", mode: 0o644, data: enc.encode(JSON.stringify({ imageLayoutVersion: "1.0.0" })) },
  ];
  return {
    archive: writeTar(entries, { mtimeSec: 0, uid: 0, gid: 0 }),
    configDigest: `sha256:${configHex}`,
    manifestDigest: `sha256:${manifestHex}`,
    layerDiffId: `sha256:${layerHex}`,
    layerBytes: layer.length,
    tags,
  };
}
