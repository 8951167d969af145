/**
 * The three shapes a failed patch takes on the wire, as kube-apiserver's patch handler produces them
 * (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go):
 *
 *   400 BadRequest   a body that cannot be a patch of its kind (errors.NewBadRequest(err.Error()))
 *   422 Invalid      a JSON patch that does not apply, or an SMP list-of-lists / retainKeys mismatch:
 *                    errors.NewGenericServerResponse(422, …, isUnexpectedResponse=false). That helper
 *                    drops the underlying error, so the client only ever sees the fixed sentence below
 *                    and an empty `details: {}`; we keep the real error as `cause` for our own logs.
 *   500 (no reason)  any other strategic-merge error is returned as a plain Go error, which
 *                    ErrorToAPIStatus turns into code 500 with StatusReasonUnknown (""), omitted on the
 *                    wire; kubectl prints it as "Error from server: map: map[…] does not contain …".
 */
import { ApiError, type Status } from "../../api/status.js";

/** The message NewGenericServerResponse uses for 422. */
export const UNPROCESSABLE_PATCH_MESSAGE = "the server rejected our request due to an error in our request";

/** A patch whose operations are well-formed but do not apply to the object (422 Invalid). */
export function unprocessablePatch(cause: string): ApiError {
  return new ApiError("Invalid", 422, UNPROCESSABLE_PATCH_MESSAGE, {}, { cause: new Error(cause) });
}

/**
 * A plain error passed through to the client: 500 with an empty (unknown) reason. Our StatusReason union
 * has no "Unknown" member, so this subclass drops `reason` from the wire form; `reason` on the object
 * reads "InternalError" for code that branches on it.
 */
export class UnknownReasonError extends ApiError {
  constructor(message: string) {
    super("InternalError", 500, message);
  }

  override toStatus(): Status {
    const { reason: _reason, ...rest } = super.toStatus();
    // metav1.StatusReasonUnknown is "" and `reason` is omitempty: upstream sends no reason at all.
    return rest as Status;
  }
}
