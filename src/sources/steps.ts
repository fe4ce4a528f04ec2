// The steps of a boot as its report keeps them (boot.json): each source read, the master
// waited for, the decision and each action, with its source, status and time. One recorder
// serves gathering (gather.ts) and boot itself (boot/boot.ts).
import { isPachaError } from '../errors.js';

export type StepStatus = 'ok' | 'absent' | 'skipped' | 'error';

export interface BootStep {
  step: string;
  source: string;
  status: StepStatus;
  durationMs: number;
  detail: string;
}

export interface StepOutcome<T> {
  value: T;
  status: StepStatus;
  detail: string;
  /** Replaces the step's source once known (the config file path, the identity's source). */
  source?: string | undefined;
}

export type StepRun = <T>(name: string, source: string, run: () => Promise<StepOutcome<T>>) => Promise<T>;

/** Times each step into `report`; a failed step is recorded before its error goes on. */
export function stepRecorder(report: BootStep[]): StepRun {
  return async (name, source, run) => {
    const started = performance.now();
    const durationMs = (): number => Math.round((performance.now() - started) * 10) / 10;
    try {
      const outcome = await run();
      report.push({ step: name, source: outcome.source ?? source, status: outcome.status, durationMs: durationMs(), detail: outcome.detail });
      return outcome.value;
    } catch (error) {
      // Only a PachaError's message is known to be free of secrets; anything else is a bug.
      const detail = isPachaError(error) ? error.message : 'internal error';
      report.push({ step: name, source, status: 'error', durationMs: durationMs(), detail });
      throw error;
    }
  };
}

/** One step in one line: `master (ssh://…): ok, 12.5 ms: answered after 1 attempt`. Pure. */
export function describeStep(s: BootStep): string {
  return `${s.step}${s.source ? ` (${s.source})` : ''}: ${s.status}, ${s.durationMs} ms${s.detail ? `: ${s.detail}` : ''}`;
}
