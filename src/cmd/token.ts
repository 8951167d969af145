/**
 * `tk8s token create|list|delete`: join tokens as `kubeadm token` manages bootstrap tokens — a
 * `kube-system/bootstrap-token-<id>` Secret, by default valid for 24 h — printed as the join token
 * `tk8s agent --token` takes (the cluster CA's pin comes from the kubeconfig's CA).
 */
import type { Command } from "commander";
import type { Secret } from "kubernetes-types/core/v1.js";
import { randomBytes } from "node:crypto";
import { ApiError } from "../api/status.js";
import { formatTime } from "../api/time.js";
import { BOOTSTRAP_TOKEN_SECRET_PREFIX, BOOTSTRAP_TOKEN_SECRET_TYPE, bootstrapTokenSecret, newBootstrapToken } from "../apiserver/auth/bootstrap_token.js";
import { loadKubeconfig } from "../client/kubeconfig.js";
import { RestClient } from "../client/rest_client.js";
import { formatJoinToken } from "../join/join_token.js";
import { duration } from "./flags.js";

const DEFAULT_KUBECONFIG = "/var/lib/tk8s/admin.kubeconfig";

interface TokenFlags {
  kubeconfig: string;
}

function adminClient(flags: TokenFlags): { client: RestClient; caPem: string; server: string } {
  const config = loadKubeconfig(flags.kubeconfig, { component: "token" });
  if (config.ca === undefined) throw new Error(`the kubeconfig ${flags.kubeconfig} has no certificate-authority: a join token pins the cluster CA`);
  return { client: new RestClient(config), caPem: config.ca, server: config.server };
}

const decode = (s: Secret, key: string) => (s.data?.[key] === undefined ? "" : Buffer.from(s.data[key]!, "base64").toString("utf8"));

export function addTokenCommand(program: Command): void {
  const token = program.command("token").description("manage join tokens (bootstrap tokens) for tk8s agent");
  token
    .command("create")
    .description("create a join token and print the tk8s agent command that uses it")
    .option("--kubeconfig <path>", "an admin kubeconfig", DEFAULT_KUBECONFIG)
    .option("--ttl <duration>", "how long the token is valid (0s: forever)", duration, 86_400_000)
    .option("--description <text>", "a human-readable note stored with the token")
    .action(async (flags: TokenFlags & { ttl: number; description?: string }) => {
      const { client, caPem, server } = adminClient(flags);
      try {
        const t = newBootstrapToken((n) => randomBytes(n));
        await client.resource("", "v1", "secrets").namespace("kube-system").create(
          bootstrapTokenSecret(t, {
            ...(flags.ttl > 0 ? { expiration: formatTime(Date.now() + flags.ttl) } : {}),
            ...(flags.description === undefined ? {} : { description: flags.description }),
          }) as never,
        );
        process.stdout.write(`tk8s agent --server ${server} --token ${formatJoinToken(caPem, t)}\n`);
      } finally {
        client.close();
      }
    });
  token
    .command("list")
    .description("list the bootstrap tokens (their ids; the secrets are not shown)")
    .option("--kubeconfig <path>", "an admin kubeconfig", DEFAULT_KUBECONFIG)
    .action(async (flags: TokenFlags) => {
      const { client } = adminClient(flags);
      try {
        const secrets = await client.resource<Secret>("", "v1", "secrets").namespace("kube-system").list({ fieldSelector: `type=${BOOTSTRAP_TOKEN_SECRET_TYPE}` });
        const rows = secrets.items.map((s) => [decode(s, "token-id"), decode(s, "expiration") || "<forever>", decode(s, "usage-bootstrap-authentication") === "true" ? "authentication" : "", decode(s, "description")]);
        const table = [["TOKEN-ID", "EXPIRES", "USAGES", "DESCRIPTION"], ...rows];
        const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
        for (const r of table) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]! + 3)).join("").trimEnd()}\n`);
      } finally {
        client.close();
      }
    });
  token
    .command("delete <token-id>")
    .description("revoke a bootstrap token (nodes that already joined keep their certificates)")
    .option("--kubeconfig <path>", "an admin kubeconfig", DEFAULT_KUBECONFIG)
    .action(async (id: string, flags: TokenFlags) => {
      const { client } = adminClient(flags);
      try {
        const tokenId = id.split(".")[0]!;
        await client.resource("", "v1", "secrets").namespace("kube-system").delete(`${BOOTSTRAP_TOKEN_SECRET_PREFIX}${tokenId}`);
        process.stdout.write(`bootstrap token "${tokenId}" deleted\n`);
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) throw new Error(`bootstrap token "${id}" not found`);
        throw err;
      } finally {
        client.close();
      }
    });
}
