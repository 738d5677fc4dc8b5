// Command nri-runtime-v0.3 plays the container runtime's side of NRI with
// containerd/nri v0.3.0, the release containerd 1.7.0 shipped: pod events
// reach plugins only through the StateChange RPC and Synchronize is never
// split. It lives in its own Go module because one build cannot hold two
// releases of containerd/nri; the protocol it speaks is package nridriver.
package main

import (
	"context"

	"github.com/containerd/nri/pkg/adaptation"
	"github.com/fleetboard-io/fleetboard/hack/tools/nridriver"
)

type runtime struct{ nri *adaptation.Adaptation }

func (r runtime) RunPodSandbox(ctx context.Context, p *nridriver.Pod) error {
	return r.nri.RunPodSandbox(ctx, &adaptation.StateChangeEvent{Pod: toSandbox(p)})
}

func (r runtime) StopPodSandbox(ctx context.Context, p *nridriver.Pod) error {
	return r.nri.StopPodSandbox(ctx, &adaptation.StateChangeEvent{Pod: toSandbox(p)})
}

func (r runtime) RemovePodSandbox(ctx context.Context, p *nridriver.Pod) error {
	return r.nri.RemovePodSandbox(ctx, &adaptation.StateChangeEvent{Pod: toSandbox(p)})
}

// toSandbox fills this release's PodSandbox, which has no field for pod IPs.
func toSandbox(p *nridriver.Pod) *adaptation.PodSandbox {
	var namespaces []*adaptation.LinuxNamespace
	if p.Netns != "" {
		namespaces = append(namespaces, &adaptation.LinuxNamespace{Type: "network", Path: p.Netns})
	}
	return &adaptation.PodSandbox{
		Id: p.ID, Name: p.Name, Uid: p.UID, Namespace: p.Namespace,
		Labels: p.Labels, Annotations: p.Annotations,
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

func main() { nridriver.Main("nri-runtime-v0.3", adaptation.DefaultSocketPath, start) }
