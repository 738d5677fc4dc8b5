// Command nri-event-logger is a reference NRI plugin built on containerd's own
// plugin stub (github.com/containerd/nri/pkg/stub). It prints one JSON line per
// pod sandbox event it receives, so tests can check what the testbed's NRI
// runtime delivers. A pod whose name starts with "nri-reject" fails
// RunPodSandbox, to show how a plugin error reaches the pod.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/stub"
)

type event struct {
	Event     string   `json:"event"`
	Namespace string   `json:"namespace,omitempty"`
	Name      string   `json:"name,omitempty"`
	UID       string   `json:"uid,omitempty"`
	Netns     string   `json:"netns,omitempty"`
	Pods      []string `json:"pods,omitempty"`
}

type plugin struct {
	mu  sync.Mutex
	out *json.Encoder
}

func (p *plugin) emit(e event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.out.Encode(e)
}

func netnsOf(pod *api.PodSandbox) string {
	for _, ns := range pod.GetLinux().GetNamespaces() {
		if ns.GetType() == "network" {
			return ns.GetPath()
		}
	}
	return ""
}

func podEvent(name string, pod *api.PodSandbox) event {
	return event{Event: name, Namespace: pod.GetNamespace(), Name: pod.GetName(), UID: pod.GetUid(), Netns: netnsOf(pod)}
}

func (p *plugin) Synchronize(_ context.Context, pods []*api.PodSandbox, _ []*api.Container) ([]*api.ContainerUpdate, error) {
	e := event{Event: "Synchronize"}
	for _, pod := range pods {
		e.Pods = append(e.Pods, pod.GetNamespace()+"/"+pod.GetName())
	}
	p.emit(e)
	return nil, nil
}

func (p *plugin) RunPodSandbox(_ context.Context, pod *api.PodSandbox) error {
	p.emit(podEvent("RunPodSandbox", pod))
	if strings.HasPrefix(pod.GetName(), "nri-reject") {
		return errors.New("nri-event-logger refuses pods named nri-reject*")
	}
	return nil
}

func (p *plugin) StopPodSandbox(_ context.Context, pod *api.PodSandbox) error {
	p.emit(podEvent("StopPodSandbox", pod))
	return nil
}

func (p *plugin) RemovePodSandbox(_ context.Context, pod *api.PodSandbox) error {
	p.emit(podEvent("RemovePodSandbox", pod))
	return nil
}

func main() {
	socket := flag.String("socket", api.DefaultSocketPath, "NRI socket of the runtime")
	flag.Parse()
	p := &plugin{out: json.NewEncoder(os.Stdout)}
	s, err := stub.New(p, stub.WithPluginName("event-logger"), stub.WithPluginIdx("50"), stub.WithSocketPath(*socket))
	if err != nil {
		fmt.Fprintf(os.Stderr, "nri-event-logger: %v\n", err)
		os.Exit(1)
	}
	if err := s.Run(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "nri-event-logger: %v\n", err)
		os.Exit(1)
	}
}
