/**
 * Removes a gone pod's cgroup (upstream's pod container manager Destroy, cgroupfs driver). runc creates
 * `/kubepods/<qos>/pod<uid>/<container id>` in every controller hierarchy and removes only the container's
 * own directory, so the pod's directory would stay behind in each controller after the pod is removed.
 */
import { readdirSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../env/env.js";

/** Where cgroup hierarchies are mounted (v1 controllers, and v2's `unified` on a hybrid host). */
export const CGROUP_ROOT = "/sys/fs/cgroup";

/**
 * rmdir's `<root>/<controller><cgroupParent>` for every hierarchy under `root` (and `root` itself on a
 * pure v2 host). A missing directory is fine; one that is not empty (a process still in it) is logged
 * and left: the next pod with the same uid cannot exist, so it stays only until the node reboots.
 */
export function removePodCgroup(cgroupParent: string, log: Logger, root = CGROUP_ROOT): number {
  let removed = 0;
  let hierarchies: string[];
  try {
    hierarchies = readdirSync(root);
  } catch {
    return 0; // no cgroup file system: nothing was made
  }
  for (const dir of ["", ...hierarchies]) {
    const path = join(root, dir, cgroupParent);
    try {
      rmdirSync(path);
      removed++;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") continue;
      log.warn("cannot remove the pod's cgroup", { cgroup: path, error: (err as Error).message });
    }
  }
  return removed;
}
