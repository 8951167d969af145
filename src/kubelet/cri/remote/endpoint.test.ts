import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_CONTAINER_RUNTIME_ENDPOINT, EndpointError, parseRuntimeEndpoint } from "./endpoint.js";

const ok = [
  { name: "containerd's default endpoint names its socket", endpoint: DEFAULT_CONTAINER_RUNTIME_ENDPOINT,
    want: { socketPath: "/run/containerd/containerd.sock", target: "unix:///run/containerd/containerd.sock", deprecatedForm: false } },
  { name: "a bare absolute path is taken as a unix socket, flagged deprecated", endpoint: "/tmp/c/containerd.sock",
    want: { socketPath: "/tmp/c/containerd.sock", target: "unix:///tmp/c/containerd.sock", deprecatedForm: true } },
  { name: "the scheme is case-insensitive", endpoint: "UNIX:///run/x.sock",
    want: { socketPath: "/run/x.sock", target: "unix:///run/x.sock", deprecatedForm: false } },
];
for (const c of ok) test(`parseRuntimeEndpoint: ${c.name}`, () => assert.deepEqual(parseRuntimeEndpoint(c.endpoint), c.want));

const bad = [
  { name: "tcp is refused as upstream refuses it on Linux", endpoint: "tcp://127.0.0.1:2376", message: "only support unix socket endpoint" },
  { name: "an unknown scheme is named in the error", endpoint: "npipe:////./pipe/containerd", message: 'protocol "npipe" not supported' },
  { name: "a relative path without scheme is refused", endpoint: "containerd.sock", message: 'using "containerd.sock" as endpoint is deprecated, please consider using full url format' },
  { name: "a unix URL with a relative path is refused", endpoint: "unix://run/x.sock", message: 'Cannot use endpoint "unix://run/x.sock": the socket path must be absolute (unix:///path)' },
  { name: "an empty endpoint is refused", endpoint: "", message: "endpoint is empty" },
];
for (const c of bad) {
  test(`parseRuntimeEndpoint: ${c.name}`, () => {
    assert.throws(() => parseRuntimeEndpoint(c.endpoint), (err: unknown) => err instanceof EndpointError && err.message === c.message);
  });
}
