// A real moto_server on loopback as the SSM endpoint (../shared/TESTING.md): one per test
// file, on a free port, emptied between tests with POST /moto-api/reset.
// Call startMoto() at the top level of a test file (top-level await): it stops the server
// with an after() hook, which inside a before() hook would run as soon as that hook ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from './sshd.js';

export interface Moto {
  endpoint: string;
  /** Forget every parameter. */
  reset(): Promise<void>;
  /** Store a parameter, as an admin would (`aws ssm put-parameter`). */
  put(name: string, value: string, type?: 'String' | 'SecureString' | 'StringList'): Promise<void>;
  stop(): Promise<void>;
}

// Credentials moto accepts; set for the SDK's default chain so no test reaches for real ones.
export const MOTO_ENV = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' } as const;

export async function startMoto(options: { port?: number; env?: Record<string, string> } = {}): Promise<Moto> {
  Object.assign(process.env, MOTO_ENV);
  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  let exited = false;
  child.once('exit', () => (exited = true));

  const stop = async (): Promise<void> => {
    if (exited) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await gone;
  };
  after(stop);

  for (let i = 0; ; i++) {
    if (exited) throw new Error(`moto_server exited before listening:\n${stderr}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (i >= 300) {
      await stop();
      throw new Error(`moto_server did not listen on ${port} within 15 s:\n${stderr}`);
    }
    await delay(50);
  }

  const { SSMClient, PutParameterCommand } = await import('@aws-sdk/client-ssm');
  const admin = new SSMClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  after(() => admin.destroy());
  return {
    endpoint,
    stop,
    reset: async () => {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset: HTTP ${response.status}`);
    },
    put: async (name, value, type = 'String') => {
      await admin.send(new PutParameterCommand({ Name: name, Value: value, Type: type, Overwrite: true }));
    },
  };
}
