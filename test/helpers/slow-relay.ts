// A master that is slow to answer, as one busy with hundreds of handshakes is: a TCP relay on
// loopback in front of a real sshd that holds back everything the sshd says on a connection
// for its first `delayMs` (the banner, so the handshake cannot finish before then), then
// passes both directions through untouched.
import net from 'node:net';

export interface SlowRelay {
  port: number;
  /** Connections accepted so far. */
  connections: number;
  stop(): Promise<void>;
}

export async function startSlowRelay(targetPort: number, delayMs: number): Promise<SlowRelay> {
  const sockets = new Set<net.Socket>();
  const relay: SlowRelay = { port: 0, connections: 0, stop: async () => undefined };
  const server = net.createServer((client) => {
    relay.connections++;
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pause();
    const timer = setTimeout(() => upstream.pipe(client), delayMs);
    client.on('close', () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.port = (server.address() as net.AddressInfo).port;
  relay.stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return relay;
}
