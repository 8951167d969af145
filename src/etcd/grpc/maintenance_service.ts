/** etcdserverpb.Maintenance and etcdserverpb.Cluster, and Auth's status. */
import * as grpc from "@grpc/grpc-js";
import type { Env } from "../../env/env.js";
import { ErrAuthUnsupported, type EtcdError } from "../errors.js";
import type { Member } from "../membership.js";
import type { AlarmRequest } from "../pb.js";
import { ETCD_VERSION, type EtcdServer } from "../server.js";
import { header, requestBytes, unary } from "./common.js";

/** Bytes per Snapshot response message. */
export const SNAPSHOT_CHUNK_BYTES = 32 * 1024;

export function maintenanceService(server: EtcdServer, env: Env): grpc.UntypedServiceImplementation {
  const l = (msg: string, f: Record<string, unknown>) => env.log.error(msg, f);
  return {
    Status: unary(server, "Maintenance", "Status", () => ({
      header: header(server),
      version: ETCD_VERSION,
      dbSize: String(server.backendSizeBytes()),
      leader: server.leaderId.toString(),
      raftIndex: String(server.commitIndex),
      raftTerm: String(server.term),
      raftAppliedIndex: String(server.appliedIndex),
      errors: server.errors(),
      dbSizeInUse: String(server.backendSizeInUseBytes()),
      isLearner: server.isLearner,
      storageVersion: "",
      dbSizeQuota: String(server.quotaBytes),
    }), l),
    Alarm: unary(server, "Maintenance", "Alarm", async (req: AlarmRequest) => {
      if (req.action === 0) {
        const alarms = server.alarmList().filter((a) => (req.memberID === "0" || a.memberID === req.memberID) && (req.alarm === 0 || a.alarm === req.alarm));
        return { header: header(server), alarms };
      }
      const r = await server.propose({ op: "alarm", req }, requestBytes(req));
      if (r.error !== undefined) throw r.error as EtcdError;
      return { header: header(server), alarms: (r.response as { alarms: unknown[] }).alarms };
    }, l),
    Hash: unary(server, "Maintenance", "Hash", async () => ({ header: header(server), hash: await server.hashAll() }), l),
    HashKV: unary(server, "Maintenance", "HashKV", (req: { revision: string }) => {
      const h = server.kv.hashKV(Number(req.revision));
      return { header: header(server, h.revision), hash: h.hash, compact_revision: String(h.compactRevision), hash_revision: String(Number(req.revision) === 0 ? h.revision : Number(req.revision)) };
    }, l),
    Defragment: unary(server, "Maintenance", "Defragment", async () => {
      await server.defragment();
      return { header: header(server) };
    }, l),
    Snapshot: (call: grpc.ServerWritableStream<object, object>) => {
      void (async () => {
        await server.flushBackend();
        const image = Buffer.concat(server.snapshotImage());
        let sent = 0;
        while (sent < image.length) {
          const blob = image.subarray(sent, sent + SNAPSHOT_CHUNK_BYTES);
          sent += blob.length;
          const ok = call.write({ header: header(server), remaining_bytes: String(image.length - sent), blob, version: ETCD_VERSION });
          if (!ok) await new Promise((r) => call.once("drain", r));
        }
        call.end();
      })().catch((err: unknown) => call.destroy(err instanceof Error ? err : new Error(String(err))));
    },
    MoveLeader: unary(server, "Maintenance", "MoveLeader", async (req: { targetID: string }) => {
      await server.moveLeader(BigInt(req.targetID));
      return { header: header(server) };
    }, l),
    Downgrade: (_call: unknown, cb: grpc.sendUnaryData<object>) => cb({ code: grpc.status.UNIMPLEMENTED, details: "etcdserver: downgrade is not supported by the tk8s datastore" } as grpc.ServiceError, null),
  };
}

function memberPb(m: Member): object {
  return { ID: m.id.toString(), name: m.name, peerURLs: [...m.peerUrls], clientURLs: [...m.clientUrls], isLearner: m.isLearner };
}

export function clusterService(server: EtcdServer, env: Env): grpc.UntypedServiceImplementation {
  const l = (msg: string, f: Record<string, unknown>) => env.log.error(msg, f);
  const list = (ms: Member[]) => ms.map(memberPb);
  return {
    MemberList: unary(server, "Cluster", "MemberList", () => ({ header: header(server), members: list(server.members()) }), l),
    MemberAdd: unary(server, "Cluster", "MemberAdd", async (req: { peerURLs: string[]; isLearner: boolean }) => {
      const { member, members } = await server.addMember(req.peerURLs, req.isLearner);
      return { header: header(server), member: memberPb(member), members: list(members) };
    }, l),
    MemberRemove: unary(server, "Cluster", "MemberRemove", async (req: { ID: string }) => ({ header: header(server), members: list(await server.removeMember(BigInt(req.ID))) }), l),
    MemberUpdate: unary(server, "Cluster", "MemberUpdate", async (req: { ID: string; peerURLs: string[] }) => ({
      header: header(server),
      members: list(await server.updateMember(BigInt(req.ID), req.peerURLs)),
    }), l),
    MemberPromote: unary(server, "Cluster", "MemberPromote", async (req: { ID: string }) => ({ header: header(server), members: list(await server.promoteMember(BigInt(req.ID))) }), l),
  };
}

export function authService(server: EtcdServer, env: Env, methods: string[]): grpc.UntypedServiceImplementation {
  const l = (msg: string, f: Record<string, unknown>) => env.log.error(msg, f);
  const impl: grpc.UntypedServiceImplementation = {};
  for (const m of methods) {
    impl[m] = unary(server, "Auth", m, () => {
      throw ErrAuthUnsupported();
    }, l);
  }
  impl["AuthStatus"] = unary(server, "Auth", "AuthStatus", () => ({ header: header(server), enabled: false, authRevision: "0" }), l);
  return impl;
}
