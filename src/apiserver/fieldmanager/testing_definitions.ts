/**
 * A hand-written slice of the Kubernetes OpenAPI definitions for the field manager's tests, in the
 * shape src/api/openapi/ generates (v2 `$ref`s, `default: {}` on Go's non-pointer structs, the list
 * and map extensions as upstream publishes them).
 */

import type { Definitions, Schema } from "../../api/openapi/schema.js";

const ref = (name: string, extra: Schema = {}): Schema => ({ $ref: `#/definitions/${name}`, ...extra });
const str: Schema = { type: "string" };
const int: Schema = { type: "integer", format: "int32" };
const stringMap: Schema = { type: "object", additionalProperties: { type: "string" } };

export const DEFS: Definitions = {
  "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {
    type: "object",
    properties: {
      name: str,
      namespace: str,
      uid: str,
      resourceVersion: str,
      generation: { type: "integer", format: "int64" },
      creationTimestamp: ref("io.k8s.apimachinery.pkg.apis.meta.v1.Time"),
      labels: stringMap,
      annotations: stringMap,
      finalizers: { type: "array", items: str, "x-kubernetes-list-type": "set", "x-kubernetes-patch-strategy": "merge" },
      ownerReferences: {
        type: "array",
        items: ref("io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference"),
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["uid"],
        "x-kubernetes-patch-merge-key": "uid",
        "x-kubernetes-patch-strategy": "merge",
      },
      managedFields: { type: "array", items: ref("io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry"), "x-kubernetes-list-type": "atomic" },
    },
  },
  "io.k8s.apimachinery.pkg.apis.meta.v1.Time": { type: "string", format: "date-time" },
  "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference": {
    type: "object",
    required: ["apiVersion", "kind", "name", "uid"],
    properties: { apiVersion: str, kind: str, name: str, uid: str, controller: { type: "boolean" } },
    "x-kubernetes-map-type": "atomic",
  },
  "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry": { type: "object", properties: { manager: str } },
  "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector": {
    type: "object",
    properties: { matchLabels: stringMap },
    "x-kubernetes-map-type": "atomic",
  },
  "io.k8s.api.apps.v1.Deployment": {
    type: "object",
    properties: {
      apiVersion: str,
      kind: str,
      metadata: ref("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", { default: {} }),
      spec: ref("io.k8s.api.apps.v1.DeploymentSpec", { default: {} }),
      status: ref("io.k8s.api.apps.v1.DeploymentStatus", { default: {} }),
    },
  },
  "io.k8s.api.apps.v1.DeploymentSpec": {
    type: "object",
    required: ["selector", "template"],
    properties: {
      replicas: int,
      selector: ref("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"),
      template: ref("io.k8s.api.core.v1.PodTemplateSpec", { default: {} }),
      strategy: ref("io.k8s.api.apps.v1.DeploymentStrategy", { default: {} }),
    },
  },
  "io.k8s.api.apps.v1.DeploymentStrategy": {
    type: "object",
    properties: { type: str, rollingUpdate: ref("io.k8s.api.apps.v1.RollingUpdateDeployment") },
  },
  "io.k8s.api.apps.v1.RollingUpdateDeployment": {
    type: "object",
    properties: { maxSurge: { type: "string", "x-kubernetes-int-or-string": true }, maxUnavailable: { type: "string", "x-kubernetes-int-or-string": true } },
  },
  "io.k8s.api.apps.v1.DeploymentStatus": { type: "object", properties: { replicas: int, readyReplicas: int } },
  "io.k8s.api.core.v1.PodTemplateSpec": {
    type: "object",
    properties: {
      metadata: ref("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", { default: {} }),
      spec: ref("io.k8s.api.core.v1.PodSpec", { default: {} }),
    },
  },
  "io.k8s.api.core.v1.PodSpec": {
    type: "object",
    required: ["containers"],
    properties: {
      containers: {
        type: "array",
        items: ref("io.k8s.api.core.v1.Container", { default: {} }),
        "x-kubernetes-list-map-keys": ["name"],
        "x-kubernetes-list-type": "map",
        "x-kubernetes-patch-merge-key": "name",
        "x-kubernetes-patch-strategy": "merge",
      },
      tolerations: { type: "array", items: ref("io.k8s.api.core.v1.Toleration", { default: {} }), "x-kubernetes-list-type": "atomic" },
      nodeSelector: { ...stringMap, "x-kubernetes-map-type": "atomic" },
    },
  },
  "io.k8s.api.core.v1.Toleration": { type: "object", properties: { key: str, operator: str } },
  "io.k8s.api.core.v1.Container": {
    type: "object",
    required: ["name"],
    properties: {
      name: str,
      image: str,
      args: { type: "array", items: str, "x-kubernetes-list-type": "atomic" },
      // No list-type: falls back to the strategic-merge key.
      env: { type: "array", items: ref("io.k8s.api.core.v1.EnvVar", { default: {} }), "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge" },
      ports: {
        type: "array",
        items: ref("io.k8s.api.core.v1.ContainerPort", { default: {} }),
        "x-kubernetes-list-map-keys": ["containerPort", "protocol"],
        "x-kubernetes-list-type": "map",
        "x-kubernetes-patch-merge-key": "containerPort",
        "x-kubernetes-patch-strategy": "merge",
      },
      resources: ref("io.k8s.api.core.v1.ResourceRequirements", { default: {} }),
    },
  },
  "io.k8s.api.core.v1.EnvVar": { type: "object", required: ["name"], properties: { name: str, value: str } },
  "io.k8s.api.core.v1.ContainerPort": {
    type: "object",
    required: ["containerPort"],
    properties: { containerPort: int, protocol: { type: "string", default: "TCP" }, name: str },
  },
  "io.k8s.api.core.v1.ResourceRequirements": {
    type: "object",
    properties: { limits: stringMap, requests: stringMap },
  },
};

export const DEPLOYMENT: Schema = { $ref: "#/definitions/io.k8s.api.apps.v1.Deployment" };
