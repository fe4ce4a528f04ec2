// Several masters: the commands that read one master's side (`hosts`, `fleet`) say which.
import { masterEntries } from '../../config/master-list.js';
import type { Context } from '../../context.js';
import type { Master } from '../../master/master.js';

/**
 * With more than one entry in pacha.host, a line naming the master read (the first) and how
 * many others were not; nothing with one master. Pure.
 */
export function whichMasterLine(hostSetting: string | undefined, master: Master, what: string): string | undefined {
  const others = masterEntries(hostSetting).length - 1;
  if (others < 1) return undefined;
  return `${what} from ${master.label}, the first master of pacha.host (${others} other${others === 1 ? '' : 's'} not read; a master that missed pushes may show less)`;
}

/** Say which master a listing came from, when there are several. */
export function sayWhichMaster(context: Context, master: Master, what: string): void {
  const line = whichMasterLine(context.settings.get('pacha.host'), master, what);
  if (line) context.out.warn(line);
}
