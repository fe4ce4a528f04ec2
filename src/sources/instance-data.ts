// cloud-init's instance data (/run/cloud-init/instance-data.json): the v1 keys pacha uses,
// looked up the way `cloud-init query v1.<key>` does: the key or its hyphenated alias
// (`local-hostname`). Like the query, values are taken as written (base64_encoded_keys are
// not decoded: cloud-init uses them for binary values, which no host name is).
import { readFile } from 'node:fs/promises';
import { ConfigError, errnoCode } from '../errors.js';

export const DEFAULT_INSTANCE_DATA_PATH = '/run/cloud-init/instance-data.json';

export interface InstanceFacts {
  localHostname: string | undefined;
  instanceId: string | undefined;
  region: string | undefined;
}

export type InstanceData = { status: 'absent'; path: string } | ({ status: 'found'; path: string } & InstanceFacts);

export async function loadInstanceData(path: string = DEFAULT_INSTANCE_DATA_PATH): Promise<InstanceData> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { status: 'absent', path };
    if (code === 'EACCES') {
      throw new ConfigError(`cannot read instance data ${path}: permission denied`, { hint: 'run pacha boot as root', cause: error });
    }
    throw error;
  }
  return { status: 'found', path, ...parseInstanceData(text, path) };
}

/** The v1 facts from instance-data.json text. Pure. */
export function parseInstanceData(text: string, path: string): InstanceFacts {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ConfigError(`instance data ${path} is not valid JSON`, {
      code: 'EINSTANCEDATA',
      hint: 'cloud-init writes this file at boot; remove it or pass --instance-data FILE',
    });
  }
  if (!isObject(data)) {
    throw new ConfigError(`instance data ${path} is not a JSON object`, { code: 'EINSTANCEDATA' });
  }
  const v1 = isObject(data.v1) ? data.v1 : {};
  const get = (name: string): string | undefined => {
    const key = Object.hasOwn(v1, name) ? name : Object.keys(v1).find((k) => k.replace(/-/g, '_') === name);
    const value = key === undefined ? undefined : v1[key];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  return { localHostname: get('local_hostname'), instanceId: get('instance_id'), region: get('region') };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
