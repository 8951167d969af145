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

/** The first bytes of a body, as upstream quotes them after a decoding error. */
function snippet(text: string): string {
  return text.length > 50 ? `${text.slice(0, 50)} ...` : text;
}

/**
 * Decodes a JSON or YAML body into a JSON object of kind `kind`; anything else is upstream's 400
 * "the object provided is unrecognized (must be of type Kind)".
 */
export function decodeBody(body: Buffer, contentType: string | undefined, acceptedTypes: readonly string[], kind = "object"): unknown {
  const type = mediaType(contentType) || "application/json";
  if (!acceptedTypes.includes(type)) {
    throw new ApiError(
      "UnsupportedMediaType",
      415,
      `the body of the request was in an unknown format - accepted media types include: ${acceptedTypes.join(", ")}`,
    );
  }
  const text = body.toString("utf8");
  const unrecognized = (why: string) => badRequest(`the object provided is unrecognized (must be of type ${kind}): ${why}`);
  if (text.trim() === "") throw unrecognized(`couldn't get version/kind; json parse error: unexpected end of JSON input (${snippet(text)})`);
  let value: unknown;
  if (type.endsWith("yaml")) {
    try {
      value = parseYaml(text, { strict: true, uniqueKeys: true, maxAliasCount: 100 });
    } catch (err) {
      throw unrecognized(`error converting YAML to JSON: yaml: ${(err as Error).message.split("\n")[0]}`);
    }
  } else {
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw unrecognized(`couldn't get version/kind; json parse error: ${(err as Error).message} (${snippet(text)})`);
    }
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const what = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
    throw unrecognized(`couldn't get version/kind; json parse error: json: cannot unmarshal ${what} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" } (${snippet(text)})`);
  }
  return value;
}
