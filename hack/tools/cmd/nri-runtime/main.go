// Command nri-runtime plays the container runtime's side of NRI for one
// testbed node. It embeds github.com/containerd/nri/pkg/adaptation, the code
// containerd itself embeds, listens on the node's NRI socket for plugins, and
// delivers pod sandbox events that the testbed node agent asks for.
//
// Driving protocol: one JSON object per line on stdin, one reply per line on
// stdout, matched by "id". The process exits when stdin closes, so it never
// outlives the agent that started it.
//
//	{"id":1,"op":"RunPodSandbox","pod":{"id":"…","name":"…","uid":"…","namespace":"…","netns":"/run/netns/…"}}
//	{"id":1,"error":""}
//
// Ops: RunPodSandbox, StopPodSandbox, RemovePodSandbox, List (reply carries
// the ids of the sandboxes the runtime holds). Every plugin that connects is
// synchronized with the sandboxes that were run and not yet removed.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/containerd/nri/pkg/adaptation"
)

type podSpec struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	UID         string            `json:"uid"`
	Namespace   string            `json:"namespace"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Netns       string            `json:"netns"`
	IPs         []string          `json:"ips,omitempty"`
}

type request struct {
	ID  uint64   `json:"id"`
	Op  string   `json:"op"`
	Pod *podSpec `json:"pod,omitempty"`
}

type reply struct {
	ID    uint64   `json:"id"`
	Error string   `json:"error,omitempty"`
	Pods  []string `json:"pods,omitempty"`
}

// sandboxes is the runtime's view of live pod sandboxes, replayed to every
// plugin on Synchronize exactly as containerd replays its own.
type sandboxes struct {
	mu   sync.Mutex
	pods map[string]*adaptation.PodSandbox
}

func (s *sandboxes) put(p *adaptation.PodSandbox) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pods[p.Id] = p
}

func (s *sandboxes) get(id string) (*adaptation.PodSandbox, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pods[id]
	return p, ok
}

func (s *sandboxes) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pods, id)
}

func (s *sandboxes) list() []*adaptation.PodSandbox {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*adaptation.PodSandbox, 0, len(s.pods))
	for _, p := range s.pods {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Id < out[j].Id })
	return out
}

func toSandbox(p *podSpec) *adaptation.PodSandbox {
	// Host-network pods share the node's namespace: containerd lists no network namespace for them.
	var namespaces []*adaptation.LinuxNamespace
	if p.Netns != "" {
		namespaces = append(namespaces, &adaptation.LinuxNamespace{Type: "network", Path: p.Netns})
	}
	return &adaptation.PodSandbox{
		Id:          p.ID,
		Name:        p.Name,
		Uid:         p.UID,
		Namespace:   p.Namespace,
		Labels:      p.Labels,
		Annotations: p.Annotations,
		Ips:         p.IPs,
		Linux:       &adaptation.LinuxPodSandbox{Namespaces: namespaces},
	}
}

func main() {
	socket := flag.String("socket", adaptation.DefaultSocketPath, "NRI socket plugins connect to")
	pluginDir := flag.String("plugin-dir", "", "directory of pre-installed plugins (empty: none)")
	timeout := flag.Duration("timeout", 10*time.Second, "deadline for one event delivered to all plugins")
	flag.Parse()

	state := &sandboxes{pods: map[string]*adaptation.PodSandbox{}}
	syncFn := func(ctx context.Context, cb adaptation.SyncCB) error {
		_, err := cb(ctx, state.list(), nil)
		return err
	}
	updateFn := func(context.Context, []*adaptation.ContainerUpdate) ([]*adaptation.ContainerUpdate, error) {
		return nil, nil
	}
	emptyDir := *pluginDir
	if emptyDir == "" {
		dir, err := os.MkdirTemp("", "nri-runtime-plugins-")
		if err != nil {
			fatal(err)
		}
		defer os.RemoveAll(dir)
		emptyDir = dir
	}
	nri, err := adaptation.New("fleetboard-testbed", "v1", syncFn, updateFn,
		adaptation.WithSocketPath(*socket),
		adaptation.WithPluginPath(emptyDir),
		adaptation.WithPluginConfigPath(emptyDir),
	)
	if err != nil {
		fatal(err)
	}
	if err := nri.Start(); err != nil {
		fatal(err)
	}
	defer func() {
		nri.Stop()
		_ = os.Remove(*socket)
	}()

	out := json.NewEncoder(os.Stdout)
	var outMu sync.Mutex
	send := func(r reply) {
		outMu.Lock()
		defer outMu.Unlock()
		_ = out.Encode(r)
	}
	fmt.Fprintf(os.Stderr, "nri-runtime: listening on %s\n", *socket)
	send(reply{ID: 0}) // ready

	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	var wg sync.WaitGroup
	for in.Scan() {
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			send(reply{Error: fmt.Sprintf("bad request: %v", err)})
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), *timeout)
			defer cancel()
			send(handle(ctx, nri, state, req))
		}()
	}
	wg.Wait()
}

func handle(ctx context.Context, nri *adaptation.Adaptation, state *sandboxes, req request) reply {
	r := reply{ID: req.ID}
	if req.Op == "List" {
		for _, p := range state.list() {
			r.Pods = append(r.Pods, p.Id)
		}
		return r
	}
	if req.Pod == nil || req.Pod.ID == "" {
		r.Error = "request needs pod.id"
		return r
	}
	var err error
	switch req.Op {
	case "RunPodSandbox":
		pod := toSandbox(req.Pod)
		state.put(pod)
		err = nri.RunPodSandbox(ctx, &adaptation.RunPodSandboxRequest{Pod: pod})
		if err != nil {
			// The sandbox failed to start, as containerd would see it.
			state.remove(pod.Id)
		}
	case "StopPodSandbox", "RemovePodSandbox":
		pod, ok := state.get(req.Pod.ID)
		if !ok {
			pod = toSandbox(req.Pod)
		}
		if req.Op == "StopPodSandbox" {
			err = nri.StopPodSandbox(ctx, &adaptation.StopPodSandboxRequest{Pod: pod})
		} else {
			err = nri.RemovePodSandbox(ctx, &adaptation.RemovePodSandboxRequest{Pod: pod})
			state.remove(pod.Id)
		}
	default:
		err = fmt.Errorf("unknown op %q (want RunPodSandbox, StopPodSandbox, RemovePodSandbox or List)", req.Op)
	}
	if err != nil {
		r.Error = err.Error()
	}
	return r
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "nri-runtime: %v\n", err)
	os.Exit(1)
}
