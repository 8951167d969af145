/**
 * A controller's status write with upstream's one retry: on a conflict (the informer cache lagged a
 * write of the controller's own) read the object once from the API and write the same status onto it,
 * unless the object was replaced meanwhile (another uid).
 */
import { ApiError } from "../../api/status.js";
import type { KubeObject, ResourceClient } from "../../client/rest_client.js";

export async function updateStatusRetryingOnce<T extends KubeObject & { status?: object }>(client: ResourceClient<T>, obj: T, status: NonNullable<T["status"]>): Promise<void> {
  try {
    await client.updateStatus({ ...obj, status });
  } catch (err) {
    if (!(err instanceof ApiError && err.reason === "Conflict")) throw err;
    const fresh = await client.get(obj.metadata!.name!);
    if (fresh.metadata?.uid !== obj.metadata?.uid) return;
    await client.updateStatus({ ...fresh, status: { ...(fresh.status ?? {}), ...status } });
  }
}
