/**
 * `runtime.v1.ImageService/ListImages` on a CRI endpoint: what `tk8s image ls` prints and what the kubelet
 * sees. The request is empty and the reply's few fields are decoded by hand (field numbers from
 * k8s.io/cri-api api.proto), so listing needs no proto file:
 *
 *   ListImagesResponse { repeated Image images = 1; }
 *   Image { string id = 1; repeated string repo_tags = 2; repeated string repo_digests = 3; uint64 size = 4; … }
 */
import * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { socketPathOf } from "./ctr.js";

/** One image as the CRI lists it. */
export interface CriImage {
  readonly id: string;
  readonly repoTags: readonly string[];
  readonly repoDigests: readonly string[];
  readonly size: number;
}

/** A list is one local call; ten seconds means the runtime is stuck. */
export const CRI_LIST_TIMEOUT_MS = 10_000;
/** gRPC's default receive cap is 4 MiB; a node with thousands of images answers with more. */
const LIST_RESPONSE_BYTES_MAX = 64 << 20;

/** Every image on the runtime at `endpoint` (unix://…), sorted by first name then id. */
export async function listCriImages(endpoint: string, timeoutMs = CRI_LIST_TIMEOUT_MS): Promise<CriImage[]> {
  const address = `unix://${socketPathOf(endpoint)}`;
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), { "grpc.max_receive_message_length": LIST_RESPONSE_BYTES_MAX });
  try {
    const body = await new Promise<Buffer>((resolve, reject) => {
      client.makeUnaryRequest("/runtime.v1.ImageService/ListImages", (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b, new Uint8Array(0),
        { deadline: Date.now() + timeoutMs }, (err, res) => (err || res === undefined ? reject(err ?? new Error("empty response")) : resolve(res)));
    });
    return decodeListImagesResponse(body).sort((a, b) => {
      const an = a.repoTags[0] ?? a.repoDigests[0] ?? a.id;
      const bn = b.repoTags[0] ?? b.repoDigests[0] ?? b.id;
      return an < bn ? -1 : an > bn ? 1 : 0;
    });
  } catch (err) {
    const e = err as grpc.ServiceError;
    if (e.code === grpc.status.UNAVAILABLE) throw new Error(`Cannot list images: the container runtime at ${endpoint} is unavailable: ${e.details}`, { cause: err });
    if (e.code === grpc.status.UNIMPLEMENTED) throw new Error(`Cannot list images: ${endpoint} does not serve the CRI runtime.v1 ImageService (is containerd's CRI plugin disabled?)`, { cause: err });
    throw err;
  } finally {
    client.close();
  }
}

export function decodeListImagesResponse(body: Uint8Array): CriImage[] {
  const reader = protobuf.Reader.create(body);
  const images: CriImage[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === ((1 << 3) | 2)) images.push(decodeImage(reader.bytes()));
    else reader.skipType(tag & 7);
  }
  return images;
}

function decodeImage(bytes: Uint8Array): CriImage {
  const reader = protobuf.Reader.create(bytes);
  let id = "";
  const repoTags: string[] = [];
  const repoDigests: string[] = [];
  let size = 0;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    switch (tag) {
      case (1 << 3) | 2: id = reader.string(); break;
      case (2 << 3) | 2: repoTags.push(reader.string()); break;
      case (3 << 3) | 2: repoDigests.push(reader.string()); break;
      case (4 << 3) | 0: size = Number(reader.uint64().toString()); break;
      default: reader.skipType(tag & 7);
    }
  }
  return { id, repoTags, repoDigests, size };
}

/** containerd's CRI learns of an import from an event, a moment after ctr returns; it is there well within this. */
export const CRI_IMAGE_VISIBLE_TIMEOUT_MS = 10_000;
const CRI_IMAGE_POLL_INTERVAL_MS = 50;

/**
 * Waits until the CRI lists every name in `names` (normalized references), so that a pod created right
 * after an import finds its image. Throws, naming the missing ones, after `timeoutMs`.
 */
export async function waitForCriImages(endpoint: string, names: readonly string[], timeoutMs = CRI_IMAGE_VISIBLE_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let missing = [...names];
  // Bounded by the deadline.
  for (;;) {
    const listed = new Set((await listCriImages(endpoint)).flatMap((i) => i.repoTags));
    missing = names.filter((n) => !listed.has(n));
    if (missing.length === 0) return;
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, CRI_IMAGE_POLL_INTERVAL_MS));
  }
  throw new Error(`Cannot see imported images in the CRI of ${endpoint} after ${timeoutMs} ms: ${missing.join(", ")} missing`);
}
