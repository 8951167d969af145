import { createServer, type Server } from "node:net";

/** How many ports one call may ask for: the harness needs two per datastore. */
export const FREE_PORTS_MAX = 64;

/**
 * Free loopback TCP ports, all distinct: each is bound on 127.0.0.1:0 and read back, and all listeners
 * are held open until every port is known, so one call never returns the same port twice.
 *
 * The ports are closed before returning, so another process can take one before the caller binds it.
 * Callers that start servers retry on "address already in use" (see datastore_process.ts).
 */
export async function freePorts(count: number): Promise<number[]> {
  if (!Number.isInteger(count) || count < 1 || count > FREE_PORTS_MAX) {
    throw new RangeError(`Cannot allocate ports: count must be an integer in [1, ${FREE_PORTS_MAX}]: current value is ${count}`);
  }
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      ports.push(await listenOnLoopback(server));
    }
    return ports;
  } finally {
    await Promise.all(servers.map(closeServer));
  }
}

/** One free loopback TCP port. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error("freePorts(1) returned no port");
  return port;
}

function listenOnLoopback(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        reject(new Error(`Cannot read the bound port: address() returned ${JSON.stringify(address)}`));
        return;
      }
      resolve(address.port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}
