// The one way a time goes into a file name (stages, backups, reports): ISO 8601 in UTC with
// ':' and '.' made '-' (2026-11-30T17-40-22-123Z), so names sort by time, need no quoting
// and mean the same on every host. Pure.
export function fileStamp(when: Date): string {
  return when.toISOString().replace(/[:.]/g, '-');
}
