/**
 * `tk8s image build|import|ls`: offline images, as air-gapped clusters load them. `build` turns a directory
 * into a one-layer image, `import` loads docker-archive or OCI tarballs, both into containerd's `k8s.io`
 * namespace (through containerd's `ctr`), where the kubelet's CRI finds them; `ls` lists what the CRI sees.
 */
import { Option, type Command } from "commander";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ctrImport, DEFAULT_CONTAINER_RUNTIME_ENDPOINT, requireCtrAndSocket, socketPathOf } from "../images/ctr.js";
import { listCriImages, waitForCriImages, type CriImage } from "../images/cri_images.js";
import { parseImageArchive, type ImageArchiveFormat, type ParsedImageArchive } from "../images/image_archive.js";
import { buildImageFromDirectory } from "../images/image_build.js";
import { parseNormalizedReference } from "../images/reference.js";

/** readFileSync's own limit is 2 GiB; an offline image bigger than this is better loaded with ctr directly. */
export const IMPORT_ARCHIVE_BYTES_MAX = 2 ** 31 - 1;

interface EndpointFlags {
  containerRuntimeEndpoint: string;
}

const ENDPOINT_FLAG = "--container-runtime-endpoint <endpoint>";
const ENDPOINT_HELP = "the CRI endpoint of containerd (the kubelet's flag)";

/** `--cmd`/`--entrypoint`: a JSON array (exec form, as a Dockerfile's) or words split on whitespace. */
export function parseCommandLine(value: string, flag: string): string[] {
  const trimmed = value.trim();
  if (trimmed.startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new Error(`${flag} must be a JSON array of strings or plain words: current value is ${JSON.stringify(value)}`);
    }
    if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === "string")) {
      throw new Error(`${flag} must be a JSON array of strings or plain words: current value is ${JSON.stringify(value)}`);
    }
    return parsed;
  }
  const words = trimmed.split(/\s+/).filter((w) => w !== "");
  if (words.length === 0) throw new Error(`${flag} must not be empty`);
  return words;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function summarize(file: string, parsed: ParsedImageArchive): string[] {
  return parsed.images.map((img) => `${img.names.length > 0 ? img.names.join(", ") : "<no name>"} (${img.configDigest}, ${img.layers} layer${img.layers === 1 ? "" : "s"}, ${img.os}/${img.architecture}) from ${file}`);
}

/** The archive file checked and parsed; every problem is one line naming the file. */
export function readImageArchive(file: string): ParsedImageArchive {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    throw new Error(`Cannot import ${file}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`, { cause: err });
  }
  if (size > IMPORT_ARCHIVE_BYTES_MAX) throw new Error(`Cannot import ${file}: it is ${size} bytes, over the ${IMPORT_ARCHIVE_BYTES_MAX}-byte limit (load it with ctr -n k8s.io images import)`);
  try {
    return parseImageArchive(readFileSync(file));
  } catch (err) {
    throw new Error(`Cannot import ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** crictl's human sizes: "2.05MB" (powers of 1000, three significant digits). */
export function humanSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : Number(value.toPrecision(3))}${units[unit]}`;
}

/** The `tk8s image ls` table: IMAGE, TAG, DIGEST, IMAGE ID, SIZE (one row per tag, as crictl images --digests). */
export function formatImageTable(images: readonly CriImage[]): string {
  const rows: string[][] = [["IMAGE", "TAG", "DIGEST", "IMAGE ID", "SIZE"]];
  for (const img of images) {
    const digest = img.repoDigests[0]?.split("@")[1] ?? "<none>";
    const shortDigest = digest === "<none>" ? digest : digest.replace(/^sha256:/, "").slice(0, 13);
    const id = img.id.replace(/^sha256:/, "").slice(0, 13);
    const names = img.repoTags.length > 0 ? img.repoTags : [img.repoDigests[0]?.split("@")[0] ?? "<none>"];
    for (const name of names) {
      let repo = name;
      let tag = "<none>";
      if (img.repoTags.length > 0) {
        const ref = parseNormalizedReference(name);
        repo = `${ref.domain}/${ref.path}`;
        tag = ref.tag ?? "<none>";
      }
      rows.push([repo, tag, shortDigest, id, humanSize(img.size)]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]! + 3)).join("").trimEnd()).join("\n") + "\n";
}

export function addImageCommand(program: Command): void {
  const image = program.command("image").description("build, import and list offline images in containerd's k8s.io namespace");

  image
    .command("build <dir>")
    .description("build an image of one layer from a directory and load it (or write it with --output)")
    .requiredOption("-t, --tag <name>", "the image's name, repeatable (busybox → docker.io/library/busybox:latest)", collect)
    .option("--entrypoint <command>", "the entrypoint: a JSON array or words")
    .option("--cmd <command>", "the default command (or the entrypoint's arguments): a JSON array or words")
    .option("-e, --env <NAME=value>", "an environment variable, repeatable", collect)
    .option("-w, --workdir <dir>", "the working directory")
    .option("-u, --user <user>", "the user (name or uid[:gid])")
    .option("--label <key=value>", "an image label, repeatable", collect)
    .option("-o, --output <file>", "write the image archive here instead of loading it")
    .addOption(new Option("--format <format>", "the archive format written with --output").choices(["docker-archive", "oci-layout"]).default("docker-archive"))
    .option(ENDPOINT_FLAG, ENDPOINT_HELP, DEFAULT_CONTAINER_RUNTIME_ENDPOINT)
    .action(async (dir: string, flags: EndpointFlags & { tag: string[]; entrypoint?: string; cmd?: string; env?: string[]; workdir?: string; user?: string; label?: string[]; output?: string; format: ImageArchiveFormat }) => {
      const labels: Record<string, string> = {};
      for (const l of flags.label ?? []) {
        const eq = l.indexOf("=");
        if (eq <= 0) throw new Error(`--label must be key=value: current value is ${JSON.stringify(l)}`);
        labels[l.slice(0, eq)] = l.slice(eq + 1);
      }
      for (const e of flags.env ?? []) if (!/^[^=]+=/.test(e)) throw new Error(`--env must be NAME=value: current value is ${JSON.stringify(e)}`);
      // Fail on a missing ctr or socket before the (possibly long) build, not after it.
      if (flags.output === undefined) requireCtrAndSocket(flags.containerRuntimeEndpoint);
      const built = buildImageFromDirectory(dir, {
        tags: flags.tag,
        ...(flags.entrypoint !== undefined ? { entrypoint: parseCommandLine(flags.entrypoint, "--entrypoint") } : {}),
        ...(flags.cmd !== undefined ? { cmd: parseCommandLine(flags.cmd, "--cmd") } : {}),
        ...(flags.env !== undefined ? { env: flags.env } : {}),
        ...(flags.workdir !== undefined ? { workingDir: flags.workdir } : {}),
        ...(flags.user !== undefined ? { user: flags.user } : {}),
        ...(Object.keys(labels).length > 0 ? { labels } : {}),
      }, flags.format);
      if (flags.output !== undefined) {
        writeFileSync(flags.output, built.archive);
        process.stdout.write(`Wrote ${built.tags.join(", ")} (${built.configDigest}) to ${flags.output}\n`);
        return;
      }
      const work = mkdtempSync(join(tmpdir(), "tk8s-image-build-"));
      try {
        const file = join(work, "image.tar");
        writeFileSync(file, built.archive);
        await ctrImport(file, flags.containerRuntimeEndpoint);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
      await waitForCriImages(flags.containerRuntimeEndpoint, built.tags);
      for (const tag of built.tags) process.stdout.write(`Loaded image: ${tag} (${built.configDigest})\n`);
    });

  image
    .command("import <file...>")
    .description("load docker-archive or OCI image tarballs (docker save, ctr export, skopeo copy) into containerd")
    .option(ENDPOINT_FLAG, ENDPOINT_HELP, DEFAULT_CONTAINER_RUNTIME_ENDPOINT)
    .action(async (files: string[], flags: EndpointFlags) => {
      requireCtrAndSocket(flags.containerRuntimeEndpoint);
      // Every file is checked before any is loaded, so a bad one in the list loads nothing.
      const parsed = files.map((f) => [f, readImageArchive(f)] as const);
      for (const [file, archive] of parsed) {
        await ctrImport(file, flags.containerRuntimeEndpoint);
        // Returns once the kubelet's view (the CRI) has the images, so a pod created next finds them.
        await waitForCriImages(flags.containerRuntimeEndpoint, archive.images.flatMap((i) => i.names));
        for (const line of summarize(file, archive)) process.stdout.write(`Loaded image: ${line}\n`);
      }
    });

  image
    .command("ls")
    .alias("list")
    .description("list the images the container runtime's CRI sees (names, digests, sizes)")
    .option("-q, --quiet", "only image ids")
    .option(ENDPOINT_FLAG, ENDPOINT_HELP, DEFAULT_CONTAINER_RUNTIME_ENDPOINT)
    .action(async (flags: EndpointFlags & { quiet?: boolean }) => {
      requireSocket(flags.containerRuntimeEndpoint);
      const images = await listCriImages(flags.containerRuntimeEndpoint);
      process.stdout.write(flags.quiet === true ? images.map((i) => `${i.id}\n`).join("") : formatImageTable(images));
    });
}

function requireSocket(endpoint: string): void {
  const socket = socketPathOf(endpoint);
  let ok = false;
  try {
    ok = statSync(socket).isSocket();
  } catch {
    ok = false;
  }
  if (!ok) throw new Error(`Cannot reach the container runtime: no socket at ${socket} (is containerd running? see --container-runtime-endpoint)`);
}
