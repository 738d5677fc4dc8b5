/**
 * The testbed runs no container images: each image name maps to a local
 * command that behaves like the image for what FleetBoard and its tests use.
 *
 * | image name contains         | runs                                                     |
 * | --------------------------- | -------------------------------------------------------- |
 * | nginx                       | Debian's nginx serving the nginx welcome page on port 80 |
 * | curl, alpine, busybox, netshoot, ubuntu, debian | the pod's command, or idles (`exec` runs curl, dig) |
 * | coredns                     | CoreDNS built from its Go module, with the pod's args    |
 * | kube-proxy                  | kube-proxy built from k8s.io/kubernetes, pod's command   |
 * | pause                       | idles                                                    |
 * | fleetboard                  | the pod's command (fleetboard-plugin, fleetboard-controller, fleetboard-hub, fleetboard-crossdns, fleetboard-bench) run from dist/ with node |
 */

export interface ToolPaths {
  coredns: string;
  kubeProxy: string;
  /** The node binary and the compiled entry point of each FleetBoard command. */
  node: string;
  fleetboard: Record<string, string>;
}

export interface ContainerSpecLite {
  name: string;
  image?: string | undefined;
  command?: string[] | undefined;
  args?: string[] | undefined;
}

export type Launch =
  | { kind: 'exec'; argv: string[] }
  | { kind: 'nginx'; port: number }
  | { kind: 'unknown'; message: string };

const IDLE = ['sleep', 'infinity'];
const SHELL_IMAGES = ['curl', 'alpine', 'busybox', 'netshoot', 'ubuntu', 'debian'];
export const KNOWN_IMAGES = ['nginx', ...SHELL_IMAGES, 'coredns', 'kube-proxy', 'pause', 'fleetboard'];

const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** Replaces the image's own binary (by base name) with the locally built one. */
function withTool(argv: string[], tool: string, path: string): string[] {
  const [first, ...rest] = argv;
  if (first === undefined) return [path];
  return basename(first) === tool ? [path, ...rest] : argv;
}

/** Decides what runs for one container. Pure: no I/O. */
export function resolveImage(c: ContainerSpecLite, tools: ToolPaths): Launch {
  const image = (c.image ?? '').toLowerCase();
  const name = basename(image.split('@')[0]?.split(':')[0] ?? image);
  const command = c.command ?? [];
  const args = c.args ?? [];
  if (name.includes('nginx')) return { kind: 'nginx', port: 80 };
  if (name.includes('coredns')) return { kind: 'exec', argv: [...withTool(command, 'coredns', tools.coredns), ...args] };
  if (name.includes('kube-proxy')) {
    if (command.length === 0) return { kind: 'unknown', message: `container ${c.name}: the kube-proxy image needs a command` };
    return { kind: 'exec', argv: [...withTool(command, 'kube-proxy', tools.kubeProxy), ...args] };
  }
  if (name.includes('pause')) return { kind: 'exec', argv: IDLE };
  if (name.includes('fleetboard')) {
    const [first, ...rest] = [...command, ...args];
    const entry = first === undefined ? undefined : tools.fleetboard[basename(first)];
    if (!entry) return { kind: 'unknown', message: `container ${c.name}: the fleetboard image runs one of ${Object.keys(tools.fleetboard).join(', ')}` };
    return { kind: 'exec', argv: [tools.node, entry, ...rest] };
  }
  if (SHELL_IMAGES.some((s) => name.includes(s))) {
    if (command.length > 0) return { kind: 'exec', argv: [...command, ...args] };
    // curl images have curl as entrypoint; the others a shell.
    if (args.length > 0) return { kind: 'exec', argv: name.includes('curl') ? ['curl', ...args] : args };
    return { kind: 'exec', argv: IDLE };
  }
  return {
    kind: 'unknown',
    message: `image "${c.image ?? ''}" has no local stand-in on the testbed (known: ${KNOWN_IMAGES.join(', ')})`,
  };
}

/** nginx configured like the official image: welcome page on :port, logs to stderr, state in `dir`. */
export function nginxConfig(dir: string, port: number): string {
  return `worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr notice;
events { worker_connections 512; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen ${port} default_server;
    root /usr/share/nginx/html;
    index index.html;
  }
}
`;
}
