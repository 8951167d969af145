/**
 * The kubelet's `--container-runtime-endpoint` / `--image-service-endpoint`: a unix socket URL, as upstream's
 * pkg/kubelet/util (util_unix.go GetAddressAndDialer / parseEndpointWithFallbackProtocol).
 */

/** Where upstream's kubelet looks when no endpoint is given since v1.27 (containerd's default socket). */
export const DEFAULT_CONTAINER_RUNTIME_ENDPOINT = "unix:///run/containerd/containerd.sock";

export interface RuntimeEndpoint {
  /** Absolute path of the unix socket. */
  readonly socketPath: string;
  /** The gRPC target for @grpc/grpc-js (`unix:///abs/path`). */
  readonly target: string;
  /** True when the endpoint was a bare path, which upstream still accepts but logs as deprecated. */
  readonly deprecatedForm: boolean;
}

/** Thrown for an endpoint that is not a unix socket URL; messages as upstream's. */
export class EndpointError extends Error {
  override name = "EndpointError";
}

/**
 * Parses an endpoint. `unix:///run/containerd/containerd.sock` → that socket; a bare absolute path is taken as
 * `unix://` + path (upstream's deprecated fallback). Any other scheme fails: the kubelet speaks CRI over unix
 * sockets only on Linux.
 */
export function parseRuntimeEndpoint(endpoint: string): RuntimeEndpoint {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/.exec(endpoint);
  if (m === null) {
    if (endpoint.startsWith("/")) return unixEndpoint(endpoint, true);
    if (endpoint === "") throw new EndpointError("endpoint is empty");
    throw new EndpointError(`using "${endpoint}" as endpoint is deprecated, please consider using full url format`);
  }
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (scheme !== "unix") {
    if (scheme === "tcp") throw new EndpointError("only support unix socket endpoint");
    throw new EndpointError(`protocol "${scheme}" not supported`);
  }
  // unix:///abs/path has an empty host; unix://relative is a host-form URL upstream would read as a path of "".
  if (!rest.startsWith("/")) throw new EndpointError(`Cannot use endpoint "${endpoint}": the socket path must be absolute (unix:///path)`);
  return unixEndpoint(rest, false);
}

function unixEndpoint(socketPath: string, deprecatedForm: boolean): RuntimeEndpoint {
  return { socketPath, target: `unix://${socketPath}`, deprecatedForm };
}
