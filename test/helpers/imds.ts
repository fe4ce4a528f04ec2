// A loopback HTTP server playing the EC2 instance metadata service, IMDSv2 only: a token
// from PUT /latest/api/token (with the TTL header), and every GET without a valid token is
// 401, as on an instance with "IMDSv2 required". The one stand-in TESTING.md allows.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface FakeInstance {
  instanceId?: string;
  localHostname?: string;
  region?: string;
  /** Instance tags exposed in metadata (meta-data/tags/instance/<key>). */
  tags?: Record<string, string>;
}

export interface ImdsServer {
  endpoint: string;
  /** Every request as "METHOD path STATUS", in order. */
  requests: string[];
  stop(): Promise<void>;
}

export async function startImds(instance: FakeInstance): Promise<ImdsServer> {
  const tokens = new Set<string>();
  const requests: string[] = [];
  const metadata = new Map<string, string>();
  if (instance.instanceId) metadata.set('/latest/meta-data/instance-id', instance.instanceId);
  if (instance.localHostname) metadata.set('/latest/meta-data/local-hostname', instance.localHostname);
  if (instance.region) metadata.set('/latest/meta-data/placement/region', instance.region);
  for (const [key, value] of Object.entries(instance.tags ?? {})) metadata.set(`/latest/meta-data/tags/instance/${key}`, value);

  const answer = (req: IncomingMessage, res: ServerResponse, status: number, body = ''): void => {
    requests.push(`${req.method} ${req.url} ${status}`);
    res.writeHead(status, { 'Content-Type': 'text/plain' }).end(body);
  };
  const server = createServer((req, res) => {
    if (req.url === '/latest/api/token') {
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (req.method !== 'PUT') return answer(req, res, 405);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return answer(req, res, 400);
      const token = randomBytes(24).toString('base64');
      tokens.add(token);
      return answer(req, res, 200, token);
    }
    const token = req.headers['x-aws-ec2-metadata-token'];
    if (typeof token !== 'string' || !tokens.has(token)) return answer(req, res, 401);
    if (req.method !== 'GET') return answer(req, res, 405);
    const value = metadata.get(req.url ?? '');
    return value === undefined ? answer(req, res, 404, 'Not Found') : answer(req, res, 200, value);
  });
  await listen(server);
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, stop: () => close(server) };
}

/** An endpoint that accepts connections and never says a word (a black-holed service). */
export async function startSilentEndpoint(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await listen(server);
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await close(server);
    },
  };
}

function listen(server: { listen(port: number, host: string, cb: () => void): unknown; once(e: 'error', cb: (e: Error) => void): unknown }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}

function close(server: Server | ReturnType<typeof createTcpServer>): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
