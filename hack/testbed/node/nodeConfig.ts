import { stringify } from 'yaml';
import type { ContainerdRelease } from '../../../test/harness/tools.js';

/** The sandbox image both containerd releases run pods in (containerd 2.4's default). */
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10.2';

export interface ContainerdConfigInput {
  runc: string;
  cniConfDir: string;
  cniBinDir: string;
  /** The registry host files (certs.d) that send pulls to the testbed's registry. */
  registryConfigDir: string;
}

/**
 * containerd's config for a testbed node, at the default paths (the node's
 * mount namespace makes them its own) with NRI enabled, as FleetBoard needs.
 * The VM gives no CAP_SYS_RESOURCE, so containers may not lower their OOM score.
 */
export function containerdConfig(release: ContainerdRelease, input: ContainerdConfigInput): string {
  const { runc, cniConfDir, cniBinDir, registryConfigDir } = input;
  if (release === 'containerd-2') {
    return `version = 3
[plugins.'io.containerd.cri.v1.runtime']
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
    BinaryName = '${runc}'
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ['${cniBinDir}']
    conf_dir = '${cniConfDir}'
[plugins.'io.containerd.cri.v1.images'.pinned_images]
  sandbox = '${PAUSE_IMAGE}'
[plugins.'io.containerd.cri.v1.images'.registry]
  config_path = '${registryConfigDir}'
[plugins.'io.containerd.nri.v1.nri']
  disable = false
`;
  }
  // containerd 1.7 ships NRI disabled.
  return `version = 2
[plugins."io.containerd.grpc.v1.cri"]
  restrict_oom_score_adj = true
  sandbox_image = "${PAUSE_IMAGE}"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      BinaryName = "${runc}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${cniBinDir}"
    conf_dir = "${cniConfDir}"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "${registryConfigDir}"
[plugins."io.containerd.nri.v1.nri"]
  disable = false
`;
}

export interface KubeletConfigInput {
  ip: string;
  cgroupRoot: string;
  clientCaFile: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  clusterDns: string;
}

/** The kubelet's configuration file: webhook-authorized API on the node's address with a certificate the apiserver verifies. */
export function kubeletConfig(input: KubeletConfigInput): string {
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: input.clientCaFile } },
    authorization: { mode: 'Webhook' },
    address: input.ip,
    tlsCertFile: input.tlsCertFile,
    tlsPrivateKeyFile: input.tlsKeyFile,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    cgroupDriver: 'cgroupfs',
    cgroupRoot: input.cgroupRoot,
    // The host has cgroup v1, which the kubelet refuses by default since 1.35.
    failCgroupV1: false,
    failSwapOn: false,
    containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
    clusterDNS: [input.clusterDns],
    clusterDomain: 'cluster.local',
    resolvConf: '/etc/resolv.conf',
    // Every node shares the host's disk: evict only when it is really full.
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
  });
}
