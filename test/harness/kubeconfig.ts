import { stringify } from 'yaml';

export interface KubeconfigSpec {
  cluster: string;
  server: string;
  caPem: string;
  user: string;
  /** Client certificate, or a bearer token file. */
  credentials: { certPem: string; keyPem: string } | { tokenFile: string };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Renders a kubeconfig with one cluster, one user and one current context. */
export function renderKubeconfig(spec: KubeconfigSpec): string {
  const user =
    'tokenFile' in spec.credentials
      ? { tokenFile: spec.credentials.tokenFile }
      : {
          'client-certificate-data': b64(spec.credentials.certPem),
          'client-key-data': b64(spec.credentials.keyPem),
        };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: spec.cluster, cluster: { server: spec.server, 'certificate-authority-data': b64(spec.caPem) } }],
    users: [{ name: spec.user, user }],
    contexts: [{ name: spec.cluster, context: { cluster: spec.cluster, user: spec.user } }],
    'current-context': spec.cluster,
  });
}
