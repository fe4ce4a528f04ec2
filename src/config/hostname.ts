// A host name as pacha uses it on the master's disk: <hosts_path>/<host>/. Pure.
const HOSTNAME_LABEL = /^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?$/;

export function checkHostName(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  if (value.length > 253) return 'is longer than 253 characters';
  if (value.includes('/')) return "contains '/'";
  if (value.includes('..')) return "contains '..'";
  if (value.startsWith('.') || value.endsWith('.')) return "starts or ends with '.'";
  for (const label of value.split('.')) {
    if (!HOSTNAME_LABEL.test(label)) {
      return `has an invalid label '${label}' (letters, digits, '-' and '_' only; not starting or ending with '-')`;
    }
  }
  return undefined;
}

