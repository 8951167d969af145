/**
 * Kubernetes `Status` errors: each layer throws ApiError, and exactly one place (the HTTP handler) turns
 * it into the wire object. Messages follow apimachinery's byte for byte: clients and kubectl match on them.
 */

export type StatusReason =
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Invalid"
  | "Forbidden"
  | "Unauthorized"
  | "BadRequest"
  | "MethodNotAllowed"
  | "NotAcceptable"
  | "UnsupportedMediaType"
  | "Gone"
  | "Expired"
  | "TooManyRequests"
  | "RequestEntityTooLarge"
  | "Timeout"
  | "ServiceUnavailable"
  | "InternalError"
  /** metav1.StatusReasonUnknown: "" on the wire, so the field is left out. */
  | "Unknown";

export interface StatusCause {
  readonly reason?: string;
  readonly message?: string;
  readonly field?: string;
}

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly causes?: readonly StatusCause[];
  readonly retryAfterSeconds?: number;
}

/** metav1.Status as it goes on the wire. */
export interface Status {
  readonly kind: "Status";
  readonly apiVersion: "v1";
  readonly metadata: Record<string, never>;
  readonly status: "Failure";
  readonly message: string;
  readonly reason?: StatusReason;
  readonly details?: StatusDetails;
  readonly code: number;
}

/** The resource an error is about: `pods`, or `deployments` in group `apps`. */
export interface GroupResource {
  readonly group: string;
  readonly resource: string;
}

export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly reason: StatusReason,
    readonly code: number,
    message: string,
    readonly details?: StatusDetails,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  toStatus(): Status {
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      ...(this.reason === "Unknown" ? {} : { reason: this.reason }),
      ...(this.details === undefined ? {} : { details: this.details }),
      code: this.code,
    };
  }
}

/** `pods` or `deployments.apps`, as apimachinery's GroupResource.String(). */
export function qualifiedResource(gr: GroupResource): string {
  return gr.group === "" ? gr.resource : `${gr.resource}.${gr.group}`;
}

function details(gr: GroupResource, name: string): StatusDetails {
  return { name, ...(gr.group === "" ? {} : { group: gr.group }), kind: gr.resource };
}

export function notFound(gr: GroupResource, name: string): ApiError {
  return new ApiError("NotFound", 404, `${qualifiedResource(gr)} "${name}" not found`, details(gr, name));
}

export function alreadyExists(gr: GroupResource, name: string): ApiError {
  return new ApiError("AlreadyExists", 409, `${qualifiedResource(gr)} "${name}" already exists`, details(gr, name));
}

/** The optimistic-concurrency failure of an update on a stale resourceVersion. */
export function conflict(gr: GroupResource, name: string): ApiError {
  return new ApiError(
    "Conflict",
    409,
    `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    details(gr, name),
  );
}

/** A watch or list from a resourceVersion older than what the datastore keeps. */
export function tooOldResourceVersion(requested: number, oldest: number): ApiError {
  return new ApiError("Expired", 410, `too old resource version: ${requested} (${oldest})`);
}

export function badRequest(message: string): ApiError {
  return new ApiError("BadRequest", 400, message);
}

export function internalError(err: unknown): ApiError {
  const message = err instanceof Error ? err.message : String(err);
  return new ApiError("InternalError", 500, `Internal error occurred: ${message}`, { causes: [{ message }] }, { cause: err });
}
