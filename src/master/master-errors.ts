// Failures both masters report the same way.
import { MasterError } from '../errors.js';

export function hostsPathMissing(label: string, hostsPath: string): MasterError {
  return new MasterError(`${label}: pacha.hosts.path ${hostsPath} does not exist on the master`, {
    code: 'ENOHOSTSPATH',
    hint: `create ${hostsPath} on the master (owned by the SSH user), or set pacha.hosts.path to where the hosts live`,
  });
}

export function notADirectory(label: string, dir: string): MasterError {
  return new MasterError(`${label}: ${dir} exists but is not a directory`, {
    code: 'EMASTERNOTDIR',
    hint: `move ${dir} aside on the master, then try again`,
  });
}

export function remoteCommandFailed(label: string, what: string, status: number | null, stderr: string): MasterError {
  const detail = stderr.trim() || `exit status ${status}`;
  return new MasterError(`${label}: ${what} failed: ${detail}`, {
    code: status === 127 ? 'ENOGIT' : 'EREMOTE',
    hint: status === 127 ? 'install git on the master' : 'check the path and permissions on the master',
    details: { status },
  });
}
