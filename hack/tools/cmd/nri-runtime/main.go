// Command nri-runtime plays the container runtime's side of NRI for one
// testbed node with the current containerd/nri release (pod events through the
// dedicated RunPodSandbox/StopPodSandbox/RemovePodSandbox RPCs). It embeds
// github.com/containerd/nri/pkg/adaptation, the code containerd itself
// embeds, listens on the node's NRI socket for plugins, and delivers the pod
// sandbox events the testbed node agent asks for (protocol: package nridriver).
package main

import (
	"context"

	"github.com/containerd/nri/pkg/adaptation"
	"github.com/fleetboard-io/fleetboard/hack/tools/nridriver"
)

type runtime struct{ nri *adaptation.Adaptation }

func (r runtime) RunPodSandbox(ctx context.Context, p *nridriver.Pod) error {
	return r.nri.RunPodSandbox(ctx, &adaptation.RunPodSandboxRequest{Pod: toSandbox(p)})
}

func (r runtime) StopPodSandbox(ctx context.Context, p *nridriver.Pod) error {
	return r.nri.StopPodSandbox(ctx, &adaptation.StopPodSandboxRequest{Pod: toSandbox(p)})
}

func (r runtime) RemovePodSandbox(ctx context.Context, p *nridriver.Pod) error {
	return r.nri.RemovePodSandbox(ctx, &adaptation.RemovePodSandboxRequest{Pod: toSandbox(p)})
}

func toSandbox(p *nridriver.Pod) *adaptation.PodSandbox {
	var namespaces []*adaptation.LinuxNamespace
	if p.Netns != "" {
		namespaces = append(namespaces, &adaptation.LinuxNamespace{Type: "network", Path: p.Netns})
	}
	return &adaptation.PodSandbox{
		Id: p.ID, Name: p.Name, Uid: p.UID, Namespace: p.Namespace,
		Labels: p.Labels, Annotations: p.Annotations, Ips: p.IPs,
		Linux: &adaptation.LinuxPodSandbox{Namespaces: namespaces},
	}
}

func start(socket, pluginDir string, pods func() []*nridriver.Pod) (nridriver.Runtime, func(), error) {
	syncFn := func(ctx context.Context, cb adaptation.SyncCB) error {
		sandboxes := []*adaptation.PodSandbox{}
		for _, p := range pods() {
			sandboxes = append(sandboxes, toSandbox(p))
		}
		_, err := cb(ctx, sandboxes, nil)
		return err
	}
	updateFn := func(context.Context, []*adaptation.ContainerUpdate) ([]*adaptation.ContainerUpdate, error) {
		return nil, nil
	}
	nri, err := adaptation.New("fleetboard-testbed", "v1", syncFn, updateFn,
		adaptation.WithSocketPath(socket), adaptation.WithPluginPath(pluginDir), adaptation.WithPluginConfigPath(pluginDir))
	if err != nil {
		return nil, nil, err
	}
	if err := nri.Start(); err != nil {
		return nil, nil, err
	}
	return runtime{nri}, nri.Stop, nil
}

func main() { nridriver.Main("nri-runtime", adaptation.DefaultSocketPath, start) }
