import { test } from "node:test";
import assert from "node:assert/strict";
import { applyDefaults } from "./defaults.js";

type Obj = Record<string, unknown>;

function defaulted(kind: string, obj: Obj): Obj {
  const copy = structuredClone(obj);
  applyDefaults("", "v1", kind, copy);
  return copy;
}

// What every container gets, given the image decides the pull policy.
const CONTAINER_DEFAULTS = { terminationMessagePath: "/dev/termination-log", terminationMessagePolicy: "File" };
// SetDefaults_PodSpec: what every pod spec (pod or template) gets.
const POD_SPEC_DEFAULTS = {
  dnsPolicy: "ClusterFirst",
  restartPolicy: "Always",
  schedulerName: "default-scheduler",
  securityContext: {},
  terminationGracePeriodSeconds: 30,
};

test("Pod: the body `kubectl run busybox --image=busybox` sends comes back as upstream 1.32 defaults it", () => {
  const sent = {
    kind: "Pod",
    apiVersion: "v1",
    metadata: { name: "busybox", creationTimestamp: null, labels: { run: "busybox" } },
    spec: {
      containers: [{ name: "busybox", image: "busybox", resources: {} }],
      restartPolicy: "Always",
      dnsPolicy: "ClusterFirst",
    },
    status: {},
  };
  // `kubectl get pod -o yaml` also shows serviceAccountName, the kube-api-access volume, priority,
  // preemptionPolicy, the not-ready/unreachable tolerations and status: those come from admission
  // and the strategy, not from defaulting.
  assert.deepEqual(defaulted("Pod", sent), {
    kind: "Pod",
    apiVersion: "v1",
    metadata: { name: "busybox", creationTimestamp: null, labels: { run: "busybox" } },
    spec: {
      containers: [
        {
          name: "busybox",
          image: "busybox",
          imagePullPolicy: "Always",
          resources: {},
          terminationMessagePath: "/dev/termination-log",
          terminationMessagePolicy: "File",
        },
      ],
      dnsPolicy: "ClusterFirst",
      enableServiceLinks: true,
      restartPolicy: "Always",
      schedulerName: "default-scheduler",
      securityContext: {},
      terminationGracePeriodSeconds: 30,
    },
    status: {},
  });
});

const podCases: { name: string; spec: Obj; want: Obj }[] = [
  {
    name: "a pod without spec gets the pod spec defaults",
    spec: {},
    want: { ...POD_SPEC_DEFAULTS, enableServiceLinks: true },
  },
  {
    name: "values the client set are kept, false and 0 included",
    spec: {
      containers: [{ name: "c", image: "nginx:1.27", imagePullPolicy: "Never", terminationMessagePolicy: "FallbackToLogsOnError" }],
      dnsPolicy: "Default",
      restartPolicy: "Never",
      schedulerName: "mine",
      securityContext: { runAsUser: 1000 },
      terminationGracePeriodSeconds: 0,
      enableServiceLinks: false,
    },
    want: {
      containers: [
        {
          name: "c",
          image: "nginx:1.27",
          imagePullPolicy: "Never",
          terminationMessagePath: "/dev/termination-log",
          terminationMessagePolicy: "FallbackToLogsOnError",
        },
      ],
      dnsPolicy: "Default",
      restartPolicy: "Never",
      schedulerName: "mine",
      securityContext: { runAsUser: 1000 },
      terminationGracePeriodSeconds: 0,
      enableServiceLinks: false,
    },
  },
  {
    name: "a JSON null is a missing value",
    spec: { containers: [{ name: "c", image: "nginx:1", imagePullPolicy: null }], securityContext: null, dnsPolicy: "" },
    want: {
      ...POD_SPEC_DEFAULTS,
      enableServiceLinks: true,
      containers: [{ name: "c", image: "nginx:1", imagePullPolicy: "IfNotPresent", ...CONTAINER_DEFAULTS }],
    },
  },
  {
    name: "init and ephemeral containers get container defaults too",
    spec: {
      initContainers: [{ name: "i", image: "busybox:1.36", ports: [{ containerPort: 53, protocol: "UDP" }, { containerPort: 80 }] }],
      ephemeralContainers: [{ name: "e", image: "busybox" }],
    },
    want: {
      ...POD_SPEC_DEFAULTS,
      enableServiceLinks: true,
      initContainers: [
        {
          name: "i",
          image: "busybox:1.36",
          imagePullPolicy: "IfNotPresent",
          ...CONTAINER_DEFAULTS,
          ports: [{ containerPort: 53, protocol: "UDP" }, { containerPort: 80, protocol: "TCP" }],
        },
      ],
      ephemeralContainers: [{ name: "e", image: "busybox", imagePullPolicy: "Always", ...CONTAINER_DEFAULTS }],
    },
  },
  {
    name: "probes get timeouts, period and thresholds; httpGet gets path and scheme; grpc gets service",
    spec: {
      containers: [
        {
          name: "c",
          image: "app:1",
          livenessProbe: { httpGet: { port: 8080 } },
          readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 5, failureThreshold: 1 },
          startupProbe: { grpc: { port: 9090 } },
          lifecycle: { preStop: { httpGet: { port: 8080, path: "/quit" } }, postStart: { exec: { command: ["true"] } } },
        },
      ],
    },
    want: {
      ...POD_SPEC_DEFAULTS,
      enableServiceLinks: true,
      containers: [
        {
          name: "c",
          image: "app:1",
          imagePullPolicy: "IfNotPresent",
          ...CONTAINER_DEFAULTS,
          livenessProbe: {
            httpGet: { port: 8080, path: "/", scheme: "HTTP" },
            timeoutSeconds: 1,
            periodSeconds: 10,
            successThreshold: 1,
            failureThreshold: 3,
          },
          readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 5, failureThreshold: 1, timeoutSeconds: 1, successThreshold: 1 },
          startupProbe: {
            grpc: { port: 9090, service: "" },
            timeoutSeconds: 1,
            periodSeconds: 10,
            successThreshold: 1,
            failureThreshold: 3,
          },
          lifecycle: {
            preStop: { httpGet: { port: 8080, path: "/quit", scheme: "HTTP" } },
            postStart: { exec: { command: ["true"] } },
          },
        },
      ],
    },
  },
  {
    name: "an env fieldRef without apiVersion means v1",
    spec: {
      containers: [
        {
          name: "c",
          image: "app:1",
          env: [
            { name: "A", value: "x" },
            { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
            { name: "MEM", valueFrom: { resourceFieldRef: { resource: "limits.memory" } } },
          ],
        },
      ],
    },
    want: {
      ...POD_SPEC_DEFAULTS,
      enableServiceLinks: true,
      containers: [
        {
          name: "c",
          image: "app:1",
          imagePullPolicy: "IfNotPresent",
          ...CONTAINER_DEFAULTS,
          env: [
            { name: "A", value: "x" },
            { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName", apiVersion: "v1" } } },
            { name: "MEM", valueFrom: { resourceFieldRef: { resource: "limits.memory" } } },
          ],
        },
      ],
    },
  },
  {
    name: "requests default to limits per resource; requests given are kept",
    spec: {
      containers: [
        { name: "a", image: "app:1", resources: { limits: { cpu: "500m", memory: "128Mi" } } },
        { name: "b", image: "app:1", resources: { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "100m" } } },
        { name: "c", image: "app:1", resources: { limits: {} } },
      ],
      initContainers: [{ name: "i", image: "app:1", resources: { limits: { memory: "64Mi" } } }],
    },
    want: {
      ...POD_SPEC_DEFAULTS,
      enableServiceLinks: true,
      containers: [
        {
          name: "a",
          image: "app:1",
          imagePullPolicy: "IfNotPresent",
          ...CONTAINER_DEFAULTS,
          resources: { limits: { cpu: "500m", memory: "128Mi" }, requests: { cpu: "500m", memory: "128Mi" } },
        },
        {
          name: "b",
          image: "app:1",
          imagePullPolicy: "IfNotPresent",
          ...CONTAINER_DEFAULTS,
          resources: { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "100m", memory: "1Gi" } },
        },
        { name: "c", image: "app:1", imagePullPolicy: "IfNotPresent", ...CONTAINER_DEFAULTS, resources: { limits: {} } },
      ],
      initContainers: [
        {
          name: "i",
          image: "app:1",
          imagePullPolicy: "IfNotPresent",
          ...CONTAINER_DEFAULTS,
          resources: { limits: { memory: "64Mi" }, requests: { memory: "64Mi" } },
        },
      ],
    },
  },
  {
    name: "with hostNetwork each container port is also a host port",
    spec: {
      hostNetwork: true,
      containers: [{ name: "c", image: "app:1", ports: [{ containerPort: 9100 }, { containerPort: 80, hostPort: 8080 }] }],
    },
    want: {
      ...POD_SPEC_DEFAULTS,
      enableServiceLinks: true,
      hostNetwork: true,
      containers: [
        {
          name: "c",
          image: "app:1",
          imagePullPolicy: "IfNotPresent",
          ...CONTAINER_DEFAULTS,
          ports: [
            { containerPort: 9100, hostPort: 9100, protocol: "TCP" },
            { containerPort: 80, hostPort: 8080, protocol: "TCP" },
          ],
        },
      ],
    },
  },
  {
    name: "volumes: no source means emptyDir; modes, hostPath type, token expiry and fieldRefs are filled",
    spec: {
      volumes: [
        { name: "scratch" },
        { name: "cm", configMap: { name: "c" } },
        { name: "sec", secret: { secretName: "s", defaultMode: 256 } },
        { name: "host", hostPath: { path: "/var/log" } },
        { name: "info", downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } },
        {
          name: "proj",
          projected: {
            sources: [
              { serviceAccountToken: { path: "token" } },
              { downwardAPI: { items: [{ path: "ns", fieldRef: { fieldPath: "metadata.namespace" } }] } },
              { configMap: { name: "kube-root-ca.crt" } },
            ],
          },
        },
        { name: "eph", ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"] } } } },
      ],
    },
    want: {
      ...POD_SPEC_DEFAULTS,
      enableServiceLinks: true,
      volumes: [
        { name: "scratch", emptyDir: {} },
        { name: "cm", configMap: { name: "c", defaultMode: 420 } },
        { name: "sec", secret: { secretName: "s", defaultMode: 256 } },
        { name: "host", hostPath: { path: "/var/log", type: "" } },
        {
          name: "info",
          downwardAPI: { defaultMode: 420, items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels", apiVersion: "v1" } }] },
        },
        {
          name: "proj",
          projected: {
            defaultMode: 420,
            sources: [
              { serviceAccountToken: { path: "token", expirationSeconds: 3600 } },
              { downwardAPI: { items: [{ path: "ns", fieldRef: { fieldPath: "metadata.namespace", apiVersion: "v1" } }] } },
              { configMap: { name: "kube-root-ca.crt" } },
            ],
          },
        },
        {
          name: "eph",
          ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], volumeMode: "Filesystem" } } },
        },
      ],
    },
  },
  {
    name: "in-tree plugin volumes get their declarative defaults",
    spec: {
      volumes: [
        { name: "i", iscsi: { targetPortal: "t", iqn: "q", lun: 0 } },
        { name: "r", rbd: { monitors: ["m"], image: "img" } },
        { name: "a", azureDisk: { diskName: "d", diskURI: "u" } },
        { name: "s", scaleIO: { gateway: "g", system: "s", secretRef: { name: "x" } } },
      ],
    },
    want: {
      ...POD_SPEC_DEFAULTS,
      enableServiceLinks: true,
      volumes: [
        { name: "i", iscsi: { targetPortal: "t", iqn: "q", lun: 0, iscsiInterface: "default" } },
        { name: "r", rbd: { monitors: ["m"], image: "img", pool: "rbd", user: "admin", keyring: "/etc/ceph/keyring" } },
        { name: "a", azureDisk: { diskName: "d", diskURI: "u", cachingMode: "ReadWrite", fsType: "ext4", readOnly: false, kind: "Shared" } },
        { name: "s", scaleIO: { gateway: "g", system: "s", secretRef: { name: "x" }, storageMode: "ThinProvisioned", fsType: "xfs" } },
      ],
    },
  },
];
for (const c of podCases) {
  test(`Pod: ${c.name}`, () => assert.deepEqual(defaulted("Pod", { spec: c.spec })["spec"], c.want));
}

test("PodTemplate: the template gets pod spec defaults but not the Pod-only ones", () => {
  const sent = {
    template: {
      metadata: { labels: { a: "b" } },
      spec: { containers: [{ name: "c", image: "app:1", resources: { limits: { cpu: "1" } } }] },
    },
  };
  assert.deepEqual(defaulted("PodTemplate", sent), {
    template: {
      metadata: { labels: { a: "b" } },
      spec: {
        ...POD_SPEC_DEFAULTS,
        containers: [{ name: "c", image: "app:1", imagePullPolicy: "IfNotPresent", ...CONTAINER_DEFAULTS, resources: { limits: { cpu: "1" } } }],
      },
    },
  });
});

const rcCases: { name: string; sent: Obj; want: Obj }[] = [
  {
    name: "selector and labels come from the template, replicas is 1",
    sent: { metadata: { name: "rc" }, spec: { template: { metadata: { labels: { app: "web" } }, spec: {} } } },
    want: {
      metadata: { name: "rc", labels: { app: "web" } },
      spec: { selector: { app: "web" }, replicas: 1, template: { metadata: { labels: { app: "web" } }, spec: POD_SPEC_DEFAULTS } },
    },
  },
  {
    name: "a selector and labels given are kept, and so is replicas 0",
    sent: { metadata: { name: "rc", labels: { own: "x" } }, spec: { replicas: 0, selector: { app: "web" }, template: { metadata: { labels: { app: "web", v: "2" } } } } },
    want: {
      metadata: { name: "rc", labels: { own: "x" } },
      spec: { replicas: 0, selector: { app: "web" }, template: { metadata: { labels: { app: "web", v: "2" } }, spec: POD_SPEC_DEFAULTS } },
    },
  },
  {
    name: "without a template nothing is copied and no template is made",
    sent: { metadata: { name: "rc" }, spec: {} },
    want: { metadata: { name: "rc" }, spec: { replicas: 1 } },
  },
];
for (const c of rcCases) test(`ReplicationController: ${c.name}`, () => assert.deepEqual(defaulted("ReplicationController", c.sent), c.want));

test("ReplicationController: the copied selector is not the template's labels object", () => {
  const rc = defaulted("ReplicationController", { spec: { template: { metadata: { labels: { app: "web" } } } } });
  const spec = rc["spec"] as { selector: Obj; template: { metadata: { labels: Obj } } };
  spec.template.metadata.labels["extra"] = "1";
  assert.deepEqual(spec.selector, { app: "web" });
});

const serviceCases: { name: string; spec: Obj; status?: Obj; want: Obj; wantStatus?: Obj }[] = [
  {
    name: "a service with only `port: 80` is a TCP ClusterIP service targeting port 80",
    spec: { ports: [{ port: 80 }] },
    want: {
      ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
      sessionAffinity: "None",
      type: "ClusterIP",
      internalTrafficPolicy: "Cluster",
    },
  },
  {
    name: "a named or numbered targetPort is kept; 0 and \"\" mean port",
    spec: { ports: [{ name: "a", port: 80, targetPort: "http" }, { name: "b", port: 81, targetPort: 8081 }, { name: "c", port: 82, targetPort: 0 }, { name: "d", port: 83, targetPort: "", protocol: "UDP" }] },
    want: {
      ports: [
        { name: "a", port: 80, targetPort: "http", protocol: "TCP" },
        { name: "b", port: 81, targetPort: 8081, protocol: "TCP" },
        { name: "c", port: 82, targetPort: 82, protocol: "TCP" },
        { name: "d", port: 83, targetPort: 83, protocol: "UDP" },
      ],
      sessionAffinity: "None",
      type: "ClusterIP",
      internalTrafficPolicy: "Cluster",
    },
  },
  {
    name: "a NodePort service is externally accessible, so its external policy is Cluster",
    spec: { type: "NodePort", ports: [{ port: 80 }] },
    want: {
      type: "NodePort",
      ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
      sessionAffinity: "None",
      externalTrafficPolicy: "Cluster",
      internalTrafficPolicy: "Cluster",
    },
  },
  {
    name: "a LoadBalancer allocates node ports, and an ingress IP's mode is VIP",
    spec: { type: "LoadBalancer", externalTrafficPolicy: "Local" },
    status: { loadBalancer: { ingress: [{ ip: "192.0.2.1" }, { hostname: "lb.example" }, { ip: "192.0.2.2", ipMode: "Proxy" }] } },
    want: {
      type: "LoadBalancer",
      externalTrafficPolicy: "Local",
      sessionAffinity: "None",
      internalTrafficPolicy: "Cluster",
      allocateLoadBalancerNodePorts: true,
    },
    wantStatus: { loadBalancer: { ingress: [{ ip: "192.0.2.1", ipMode: "VIP" }, { hostname: "lb.example" }, { ip: "192.0.2.2", ipMode: "Proxy" }] } },
  },
  {
    name: "a ClusterIP service with external IPs gets an external policy",
    spec: { externalIPs: ["198.51.100.7"] },
    want: { externalIPs: ["198.51.100.7"], sessionAffinity: "None", type: "ClusterIP", externalTrafficPolicy: "Cluster", internalTrafficPolicy: "Cluster" },
  },
  {
    name: "an ExternalName service gets no traffic policies",
    spec: { type: "ExternalName", externalName: "example.com" },
    want: { type: "ExternalName", externalName: "example.com", sessionAffinity: "None" },
  },
  {
    name: "ClientIP affinity gets a three-hour timeout",
    spec: { sessionAffinity: "ClientIP" },
    want: { sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } }, type: "ClusterIP", internalTrafficPolicy: "Cluster" },
  },
  {
    name: "ClientIP affinity keeps a timeout given",
    spec: { sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } },
    want: { sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, type: "ClusterIP", internalTrafficPolicy: "Cluster" },
  },
  {
    name: "no affinity drops an affinity config",
    spec: { sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } },
    want: { sessionAffinity: "None", type: "ClusterIP", internalTrafficPolicy: "Cluster" },
  },
];
for (const c of serviceCases) {
  test(`Service: ${c.name}`, () => {
    const sent: Obj = { spec: c.spec };
    if (c.status !== undefined) sent["status"] = c.status;
    const got = defaulted("Service", sent);
    assert.deepEqual(got["spec"], c.want);
    assert.deepEqual(got["status"], c.wantStatus);
  });
}

const otherCases: { name: string; kind: string; sent: Obj; want: Obj }[] = [
  {
    name: "a namespace is labelled with its name and is Active",
    kind: "Namespace",
    sent: { metadata: { name: "team-a", labels: { owner: "x" } } },
    want: { metadata: { name: "team-a", labels: { owner: "x", "kubernetes.io/metadata.name": "team-a" } }, status: { phase: "Active" } },
  },
  {
    name: "a namespace's name label cannot be set to another value",
    kind: "Namespace",
    sent: { metadata: { name: "team-a", labels: { "kubernetes.io/metadata.name": "other" } }, status: { phase: "Terminating" } },
    want: { metadata: { name: "team-a", labels: { "kubernetes.io/metadata.name": "team-a" } }, status: { phase: "Terminating" } },
  },
  {
    name: "a namespace without a name yet gets no label",
    kind: "Namespace",
    sent: { metadata: { generateName: "ns-" } },
    want: { metadata: { generateName: "ns-" }, status: { phase: "Active" } },
  },
  { name: "a secret without type is Opaque", kind: "Secret", sent: { data: {} }, want: { data: {}, type: "Opaque" } },
  { name: "a secret's type is kept", kind: "Secret", sent: { type: "kubernetes.io/dockerconfigjson" }, want: { type: "kubernetes.io/dockerconfigjson" } },
  {
    name: "a node's allocatable defaults to its capacity",
    kind: "Node",
    sent: { status: { capacity: { cpu: "4", memory: "8Gi", pods: "110" } } },
    want: { status: { capacity: { cpu: "4", memory: "8Gi", pods: "110" }, allocatable: { cpu: "4", memory: "8Gi", pods: "110" } } },
  },
  {
    name: "a node's allocatable given is kept",
    kind: "Node",
    sent: { status: { capacity: { cpu: "4" }, allocatable: { cpu: "3800m" } } },
    want: { status: { capacity: { cpu: "4" }, allocatable: { cpu: "3800m" } } },
  },
  { name: "a node without status gets none", kind: "Node", sent: { spec: {} }, want: { spec: {} } },
  {
    name: "a persistent volume is Retain, Filesystem and Pending; a hostPath gets type \"\"",
    kind: "PersistentVolume",
    sent: { spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/data" } } },
    want: {
      spec: {
        capacity: { storage: "1Gi" },
        accessModes: ["ReadWriteOnce"],
        hostPath: { path: "/data", type: "" },
        persistentVolumeReclaimPolicy: "Retain",
        volumeMode: "Filesystem",
      },
      status: { phase: "Pending" },
    },
  },
  {
    name: "a persistent volume keeps its policy and block mode",
    kind: "PersistentVolume",
    sent: { spec: { persistentVolumeReclaimPolicy: "Delete", volumeMode: "Block", rbd: { monitors: ["m"], image: "i", pool: "fast" } } },
    want: {
      spec: {
        persistentVolumeReclaimPolicy: "Delete",
        volumeMode: "Block",
        rbd: { monitors: ["m"], image: "i", pool: "fast", user: "admin", keyring: "/etc/ceph/keyring" },
      },
      status: { phase: "Pending" },
    },
  },
  {
    name: "a claim is for a filesystem and Pending",
    kind: "PersistentVolumeClaim",
    sent: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } },
    want: {
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, volumeMode: "Filesystem" },
      status: { phase: "Pending" },
    },
  },
  {
    name: "a container limit range fills default from max and defaultRequest from default, then min",
    kind: "LimitRange",
    sent: {
      spec: {
        limits: [
          { type: "Container", max: { cpu: "2", memory: "1Gi" }, min: { cpu: "100m", "ephemeral-storage": "1Gi" }, default: { memory: "512Mi" } },
          { type: "Pod", max: { cpu: "4" } },
        ],
      },
    },
    want: {
      spec: {
        limits: [
          {
            type: "Container",
            max: { cpu: "2", memory: "1Gi" },
            min: { cpu: "100m", "ephemeral-storage": "1Gi" },
            default: { memory: "512Mi", cpu: "2" },
            defaultRequest: { memory: "512Mi", cpu: "2", "ephemeral-storage": "1Gi" },
          },
          { type: "Pod", max: { cpu: "4" } },
        ],
      },
    },
  },
  {
    name: "a container limit range with nothing to copy gets no empty maps",
    kind: "LimitRange",
    sent: { spec: { limits: [{ type: "Container", maxLimitRequestRatio: { cpu: "2" } }] } },
    want: { spec: { limits: [{ type: "Container", maxLimitRequestRatio: { cpu: "2" } }] } },
  },
  {
    name: "endpoints ports are TCP unless given",
    kind: "Endpoints",
    sent: { subsets: [{ addresses: [{ ip: "10.0.0.1" }], ports: [{ port: 80 }, { port: 53, protocol: "UDP" }] }] },
    want: { subsets: [{ addresses: [{ ip: "10.0.0.1" }], ports: [{ port: 80, protocol: "TCP" }, { port: 53, protocol: "UDP" }] }] },
  },
];
for (const c of otherCases) test(`${c.kind}: ${c.name}`, () => assert.deepEqual(defaulted(c.kind, c.sent), c.want));
