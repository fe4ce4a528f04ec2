// A REV given as a time: "2 hours ago", "yesterday", an ISO time, "@<epoch seconds>".
// Parsed here, not by git's approxidate, which reads almost any word as "now" and would
// turn a typo into a rollback to the latest commit. Pure: the caller passes `now`.

const UNIT_SECONDS: Record<string, number> = {
  second: 1,
  sec: 1,
  minute: 60,
  min: 60,
  hour: 3600,
  day: 86_400,
  week: 604_800,
};

const RELATIVE = /^(\d+|an?|one)\s+(second|sec|minute|min|hour|day|week|month|year)s?\s+ago$/i;
// Date, then optionally a time (T or space), seconds, fraction, and a zone.
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?$/i;

function amount(word: string): number {
  return /^\d+$/.test(word) ? Number(word) : 1;
}

/** Calendar arithmetic for months and years ("1 month ago" on March 31 is March 3 or 2, as Date does). */
function monthsBefore(now: Date, months: number): Date {
  const date = new Date(now.getTime());
  date.setMonth(date.getMonth() - months);
  return date;
}

/**
 * The moment `text` names, or undefined when it is not a time. Times without a zone are
 * local time (the host's TZ), a date alone is its local midnight.
 */
export function parseTime(text: string, now: Date): Date | undefined {
  const value = text.trim();
  if (/^now$/i.test(value)) return new Date(now.getTime());
  if (/^yesterday$/i.test(value)) return new Date(now.getTime() - 86_400_000);
  const epoch = /^@(\d+)$/.exec(value);
  if (epoch) return new Date(Number(epoch[1]) * 1000);
  const relative = RELATIVE.exec(value);
  if (relative) {
    const count = amount(relative[1]!);
    const unit = relative[2]!.toLowerCase();
    if (unit === 'month') return monthsBefore(now, count);
    if (unit === 'year') return monthsBefore(now, 12 * count);
    return new Date(now.getTime() - count * UNIT_SECONDS[unit]! * 1000);
  }
  if (ISO.test(value)) {
    // V8 reads a bare date as UTC but a date with a time as local: make both local.
    const normalized = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00` : value.replace(' ', 'T').replace(/\s+/g, '');
    const ms = Date.parse(normalized);
    return Number.isNaN(ms) ? undefined : new Date(ms);
  }
  return undefined;
}
