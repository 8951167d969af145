/** etcdserverpb.Lease: grant and revoke go through the log; keep-alive and time-to-live are the leader's (a follower forwards them). */
import type * as grpc from "@grpc/grpc-js";
import type { Env } from "../../env/env.js";
import { indexToKey } from "../../storage/mvcc/kv.js";
import type { EtcdError } from "../errors.js";
import type { LeaseGrantRequest, LeaseRevokeRequest } from "../pb.js";
import type { EtcdServer } from "../server.js";
import { header, requestBytes, toServiceError, unary } from "./common.js";

async function proposed(p: Promise<{ response?: unknown; error?: EtcdError; revision: number }>): Promise<{ response: Record<string, unknown>; revision: number }> {
  const r = await p;
  if (r.error !== undefined) throw r.error;
  return { response: r.response as Record<string, unknown>, revision: r.revision };
}

/** Picks a lease ID no lease has: positive int64, from the member's randomness. */
function newLeaseId(server: EtcdServer, env: Env): bigint {
  for (;;) {
    const id = ((BigInt(env.rng.nextU32()) << 31n) ^ BigInt(env.rng.nextU32())) & 0x7fffffffffffffffn;
    if (id !== 0n && server.lessor.get(id) === undefined) return id;
  }
}

export function leaseService(server: EtcdServer, env: Env): grpc.UntypedServiceImplementation {
  const l = (msg: string, f: Record<string, unknown>) => env.log.error(msg, f);
  return {
    LeaseGrant: unary(server, "Lease", "LeaseGrant", async (req: LeaseGrantRequest) => {
      const id = req.ID === "0" ? newLeaseId(server, env) : BigInt(req.ID);
      const { response, revision } = await proposed(server.propose({ op: "leaseGrant", req: { ID: id.toString(), TTL: req.TTL } }, null, requestBytes(req)?.length ?? 0));
      return { ...response, header: header(server, revision) };
    }, l),
    LeaseRevoke: unary(server, "Lease", "LeaseRevoke", async (req: LeaseRevokeRequest) => {
      const { revision } = await proposed(server.propose({ op: "leaseRevoke", req }, requestBytes(req)));
      return { header: header(server, revision) };
    }, l),
    LeaseTimeToLive: unary(server, "Lease", "LeaseTimeToLive", async (req: { ID: string; keys: boolean }) => {
      const t = await server.leaseTimeToLive(BigInt(req.ID));
      // etcd answers an unknown lease with TTL -1 rather than an error.
      return {
        header: header(server),
        ID: req.ID,
        TTL: String(t.ttl),
        grantedTTL: String(t.grantedTtl),
        keys: req.keys ? [...t.keys].sort().map(indexToKey) : [],
      };
    }, l),
    LeaseLeases: unary(server, "Lease", "LeaseLeases", () => ({
      header: header(server),
      leases: server.lessor.ids().map((id) => ({ ID: id.toString() })),
    }), l),
    LeaseKeepAlive: (call: grpc.ServerDuplexStream<{ ID: string }, object>) => {
      // Answers go out in request order even when some are forwarded to the leader.
      let chain: Promise<void> = Promise.resolve();
      call.on("data", (req: { ID: string }) => {
        chain = chain.then(async () => {
          try {
            const ttl = await server.renewLease(BigInt(req.ID));
            // An unknown lease gets TTL 0: the client learns it is gone.
            call.write({ header: header(server), ID: req.ID, TTL: String(ttl ?? 0) });
          } catch (err) {
            call.destroy(toServiceError(err, l));
          }
        });
      });
      call.on("end", () => call.end());
      call.on("error", () => {});
    },
  };
}

