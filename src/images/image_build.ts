/**
 * `tk8s image build DIR --tag NAME`: a directory becomes an image of one layer, written as a docker-archive.
 * The layer's members are owned by root with mtime 0, so the same tree gives the same image id anywhere.
 */
import { directoryTarEntries } from "./directory_layer.js";
import { buildDockerArchive, type BuiltImage, type DockerArchiveOptions } from "./docker_archive.js";
import type { ImageArchiveFormat } from "./image_archive.js";
import { buildOciArchive } from "./oci_archive.js";
import { writeTar, type TarWriteOptions } from "./tar_writer.js";

/** Owner root:root and mtime 0 for every layer member: a layer's bytes depend on the tree's content alone. */
export const LAYER_TAR_OPTIONS: TarWriteOptions = { mtimeSec: 0, uid: 0, gid: 0 };

/** The directory `dir` as a one-layer image archive: docker-archive.ts's format, or oci_archive.ts's. */
export function buildImageFromDirectory(dir: string, options: DockerArchiveOptions, format: ImageArchiveFormat = "docker-archive"): BuiltImage {
  const layer = writeTar(directoryTarEntries(dir), LAYER_TAR_OPTIONS);
  return format === "oci-layout" ? buildOciArchive(layer, options) : buildDockerArchive(layer, options);
}
