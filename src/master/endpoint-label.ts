// How an SSH master is named in messages and `pacha status`: USER@HOST:PORT. Its own module
// so that status can name the masters without loading the SSH connection code.

export function endpointLabel(endpoint: { user: string; host: string; port: number }): string {
  return `${endpoint.user}@${endpoint.host}:${endpoint.port}`;
}
