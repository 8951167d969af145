import assert from "node:assert/strict";
import { test } from "node:test";
import type { Mount } from "./cri.js";
import { hostPathFor, rewriteMountPaths } from "./mount_paths.js";

const mounts: Mount[] = [
  { containerPath: "/data", hostPath: "/host/vol/data" },
  { containerPath: "/data/cache/", hostPath: "/host/vol/cache" },
  { containerPath: "/etc/config", hostPath: "/host/vol/config" },
];

const rewriteCases = [
  { name: "a path under a mount", text: "cat /etc/config/key", want: "cat /host/vol/config/key" },
  { name: "the mount path itself", text: "/data", want: "/host/vol/data" },
  { name: "the deepest mount wins", text: "ls /data/cache/x /data/y", want: "ls /host/vol/cache/x /host/vol/data/y" },
  { name: "an env assignment", text: "DIR=/data", want: "DIR=/host/vol/data" },
  { name: "a quoted path", text: `echo "/data/a" '/data'`, want: `echo "/host/vol/data/a" '/host/vol/data'` },
  { name: "a longer name is another path", text: "/database /data-old /data.bak", want: "/database /data-old /data.bak" },
  { name: "a path that merely ends in the mount path", text: "/srv/data", want: "/srv/data" },
  { name: "text without paths", text: "echo hello", want: "echo hello" },
];
for (const c of rewriteCases) test(`rewriteMountPaths: ${c.name}`, () => assert.equal(rewriteMountPaths(c.text, mounts), c.want));

const hostCases = [
  { name: "under a mount", p: "/data/x/y", want: "/host/vol/data/x/y" },
  { name: "the deepest mount", p: "/data/cache", want: "/host/vol/cache" },
  { name: "outside every mount", p: "/app", want: "/app" },
];
for (const c of hostCases) test(`hostPathFor: ${c.name}`, () => assert.equal(hostPathFor(c.p, mounts), c.want));
