// Hooks on an S3 master: every object under PREFIX/<host>/pacha_pre/ and pacha_post/ is a
// hook, run by the same rules as on a disk (hooks/order.ts). S3 has no file modes: an object
// counts as mode 0755 unless its user metadata `mode` (x-amz-meta-mode, octal, the
// convention of s3fs and rclone) says otherwise. An admin disables a hook by giving it a
// mode without an execute bit (`aws s3 cp … --metadata mode=0644`), by renaming it to a
// hidden or backup name (".name", "name~"), or by deleting it. Pure.

export const DEFAULT_HOOK_MODE = 0o755;

export function hookMode(metadata: Record<string, string>): number {
  const raw = metadata.mode ?? metadata.Mode;
  if (raw === undefined || !/^0?[0-7]{3,4}$/.test(raw.trim())) return DEFAULT_HOOK_MODE;
  // Only permission bits; never setuid/setgid from a bucket.
  return Number.parseInt(raw.trim(), 8) & 0o777;
}
