/** Services and EndpointSlices for the proxy's tests and benchmark (upstream's makeTestService / makeTestEndpointSlice). */
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { LABEL_SERVICE_NAME } from "./service_port.js";

export function makeService(namespace: string, name: string, spec: Service["spec"], status?: Service["status"]): Service {
  return { apiVersion: "v1", kind: "Service", metadata: { namespace, name }, spec: { type: "ClusterIP", ...spec }, ...(status === undefined ? {} : { status }) };
}

export interface FixtureEndpoint {
  readonly ip: string;
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
  readonly nodeName?: string;
}

export function makeSlice(namespace: string, service: string, suffix: string, endpoints: readonly FixtureEndpoint[], ports: readonly { name?: string; port: number; protocol?: string }[]): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { namespace, name: `${service}-${suffix}`, labels: { [LABEL_SERVICE_NAME]: service } },
    addressType: "IPv4",
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: {
        ...(e.ready === undefined ? {} : { ready: e.ready }),
        ...(e.serving === undefined ? {} : { serving: e.serving }),
        ...(e.terminating === undefined ? {} : { terminating: e.terminating }),
      },
      ...(e.nodeName === undefined ? {} : { nodeName: e.nodeName }),
    })),
    ports: ports.map((p) => ({ ...(p.name === undefined ? {} : { name: p.name }), port: p.port, protocol: p.protocol ?? "TCP" })),
  };
}
