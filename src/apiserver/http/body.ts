/**
 * Request bodies: read with a size limit (413 past it, as kube-apiserver's 3 MiB), then decoded by
 * content type (JSON or YAML; anything else is 415), with one clear 400 for a malformed body.
 */
import type { IncomingMessage } from "node:http";
import { parse as parseYaml } from "yaml";
import { ApiError, badRequest } from "../../api/status.js";

/** kube-apiserver's limit on a request body (`maxRequestBodyBytes`, 3 MiB). */
export const REQUEST_BODY_BYTES_MAX = 3 * 1024 * 1024;

export function tooLarge(limit: number): ApiError {
  return new ApiError("RequestEntityTooLarge", 413, `Request entity too large: limit is ${limit}`);
}

export async function readBody(req: IncomingMessage, limit = REQUEST_BODY_BYTES_MAX): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) {
    req.resume();
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw tooLarge(limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The media type without parameters, lower case: `application/json`. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

/** Decodes a JSON or YAML body into a JSON value; `what` names it in errors. */
export function decodeBody(body: Buffer, contentType: string | undefined, acceptedTypes: readonly string[]): unknown {
  const type = mediaType(contentType) || "application/json";
  if (!acceptedTypes.includes(type)) {
    throw new ApiError(
      "UnsupportedMediaType",
      415,
      `the body of the request was in an unknown format - accepted media types include: ${acceptedTypes.join(", ")}`,
    );
  }
  const text = body.toString("utf8");
  if (text.trim() === "") throw badRequest("the body of the request was empty");
  if (type.endsWith("yaml")) {
    try {
      return parseYaml(text, { strict: true, uniqueKeys: true, maxAliasCount: 100 });
    } catch (err) {
      throw badRequest(`error converting YAML to JSON: ${(err as Error).message.split("\n")[0]}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`json parse error: ${(err as Error).message}`);
  }
}
