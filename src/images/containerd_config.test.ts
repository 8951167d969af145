import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { containerdConfigTemplatePath, renderContainerdConfig, tomlBasicStringBody, type ContainerdConfigValues } from "./containerd_config.js";

const values: ContainerdConfigValues = {
  root: "/tmp/ctd/root", state: "/run/ctd/state", address: "/run/ctd/containerd.sock", sandboxImage: "docker.io/tk8s/pause:1.35",
  cniBinDir: "/usr/lib/cni", cniConfDir: "/tmp/ctd/net.d",
};

test("the shipped template fills every placeholder and keeps the settings this machine needs", () => {
  const text = renderContainerdConfig(values);
  assert.doesNotMatch(text, /\{\{/);
  for (const want of [
    'root = "/tmp/ctd/root"', 'state = "/run/ctd/state"', 'address = "/run/ctd/containerd.sock"', 'sandbox_image = "docker.io/tk8s/pause:1.35"',
    "restrict_oom_score_adj = true", "SystemdCgroup = false", 'bin_dir = "/usr/lib/cni"', 'conf_dir = "/tmp/ctd/net.d"', 'Root = "/run/ctd/state/runc"',
    'stream_server_port = "0"',
  ]) assert.ok(text.includes(want), `missing ${want}`);
});

test("containerd itself reads the rendered config and reports our values back", { skip: existsSync("/usr/bin/containerd") || process.env.CI === "true" ? undefined : "containerd not installed" }, () => {
  const dir = mkdtempSync(join(tmpdir(), "tk8s-ctd-config-"));
  try {
    const path = join(dir, "config.toml");
    writeFileSync(path, renderContainerdConfig({ ...values, root: join(dir, "root"), state: join(dir, "state"), address: join(dir, "c.sock") }));
    const r = spawnSync("containerd", ["--config", path, "config", "dump"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.includes(`root = "${join(dir, "root")}"`));
    assert.match(r.stdout, /restrict_oom_score_adj = true/);
    assert.match(r.stdout, /sandbox_image = "docker\.io\/tk8s\/pause:1\.35"/);
    assert.match(r.stdout, /SystemdCgroup = false/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("rendering refuses relative paths, an empty sandbox image and unknown placeholders", () => {
  assert.throws(() => renderContainerdConfig({ ...values, root: "relative" }), /root must be an absolute path: current value is "relative"/);
  assert.throws(() => renderContainerdConfig({ ...values, sandboxImage: "" }), /sandboxImage must not be empty/);
  assert.throws(() => renderContainerdConfig(values, 'x = "{{NOPE}}"'), /unknown placeholder \{\{NOPE\}\}/);
});

test("values are escaped as TOML basic strings", () => {
  assert.equal(tomlBasicStringBody('a"b\\c\n'), 'a\\"b\\\\c\\u000a');
  assert.match(renderContainerdConfig({ ...values, root: '/tmp/we"ird' }), /root = "\/tmp\/we\\"ird"/);
  assert.ok(readFileSync(containerdConfigTemplatePath(), "utf8").startsWith("# containerd 1.6 configuration shipped with tk8s"));
});
