// Package nridriver is the stdin/stdout protocol shared by the testbed's NRI
// runtime drivers. Each driver embeds one release of containerd/nri's
// adaptation code (the code containerd embeds) and adapts it to Runtime; this
// package keeps the runtime's sandbox list and speaks the line protocol, so
// every NRI release is driven the same way.
//
// One JSON object per line on stdin, one reply per line on stdout, matched by
// "id". A reply with id 0 says the runtime listens. Serve returns when stdin
// closes, so a driver never outlives the agent that started it.
//
//	{"id":1,"op":"RunPodSandbox","pod":{"id":"…","name":"…","uid":"…","namespace":"…","netns":"/run/netns/…"}}
//	{"id":1,"error":""}
//
// Ops: RunPodSandbox, StopPodSandbox, RemovePodSandbox, List (the reply
// carries the ids of the sandboxes the runtime holds).
package nridriver

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"
)

// Pod is a pod sandbox as the testbed describes it.
type Pod struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	UID         string            `json:"uid"`
	Namespace   string            `json:"namespace"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// Netns is the pod's network namespace path; empty for host-network pods,
	// for which containerd lists no network namespace.
	Netns string   `json:"netns"`
	IPs   []string `json:"ips,omitempty"`
}

// Runtime relays pod sandbox events to the plugins of one NRI release.
type Runtime interface {
	RunPodSandbox(ctx context.Context, pod *Pod) error
	StopPodSandbox(ctx context.Context, pod *Pod) error
	RemovePodSandbox(ctx context.Context, pod *Pod) error
}

// Sandboxes is the runtime's view of live pod sandboxes, replayed to every
// plugin on Synchronize exactly as containerd replays its own.
type Sandboxes struct {
	mu   sync.Mutex
	pods map[string]*Pod
}

// NewSandboxes returns an empty sandbox list.
func NewSandboxes() *Sandboxes { return &Sandboxes{pods: map[string]*Pod{}} }

func (s *Sandboxes) put(p *Pod) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pods[p.ID] = p
}

func (s *Sandboxes) get(id string) (*Pod, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pods[id]
	return p, ok
}

func (s *Sandboxes) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pods, id)
}

// List returns the live sandboxes ordered by id.
func (s *Sandboxes) List() []*Pod {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Pod, 0, len(s.pods))
	for _, p := range s.pods {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

type request struct {
	ID  uint64 `json:"id"`
	Op  string `json:"op"`
	Pod *Pod   `json:"pod,omitempty"`
}

type reply struct {
	ID    uint64   `json:"id"`
	Error string   `json:"error,omitempty"`
	Pods  []string `json:"pods,omitempty"`
}

// Serve announces readiness, then handles requests from in until it closes.
// Each event gets its own deadline of timeout, like one CRI request.
func Serve(rt Runtime, state *Sandboxes, in io.Reader, out io.Writer, timeout time.Duration) {
	enc := json.NewEncoder(out)
	var outMu sync.Mutex
	send := func(r reply) {
		outMu.Lock()
		defer outMu.Unlock()
		_ = enc.Encode(r)
	}
	send(reply{ID: 0})

	lines := bufio.NewScanner(in)
	lines.Buffer(make([]byte, 1<<20), 16<<20)
	var wg sync.WaitGroup
	for lines.Scan() {
		var req request
		if err := json.Unmarshal(lines.Bytes(), &req); err != nil {
			send(reply{Error: fmt.Sprintf("bad request: %v", err)})
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			send(handle(ctx, rt, state, req))
		}()
	}
	wg.Wait()
}

func handle(ctx context.Context, rt Runtime, state *Sandboxes, req request) reply {
	r := reply{ID: req.ID}
	if req.Op == "List" {
		for _, p := range state.List() {
			r.Pods = append(r.Pods, p.ID)
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
		state.put(req.Pod)
		if err = rt.RunPodSandbox(ctx, req.Pod); err != nil {
			// The sandbox failed to start, as containerd would see it.
			state.remove(req.Pod.ID)
		}
	case "StopPodSandbox", "RemovePodSandbox":
		pod, ok := state.get(req.Pod.ID)
		if !ok {
			pod = req.Pod
		}
		if req.Op == "StopPodSandbox" {
			err = rt.StopPodSandbox(ctx, pod)
		} else {
			err = rt.RemovePodSandbox(ctx, pod)
			state.remove(pod.ID)
		}
	default:
		err = fmt.Errorf("unknown op %q (want RunPodSandbox, StopPodSandbox, RemovePodSandbox or List)", req.Op)
	}
	if err != nil {
		r.Error = err.Error()
	}
	return r
}

// Starter starts one release's NRI adaptation listening on socket, with no
// pre-installed plugins (pluginDir is empty), replaying pods() on Synchronize.
type Starter func(socket, pluginDir string, pods func() []*Pod) (rt Runtime, stop func(), err error)

// Main is a driver's whole command line: flags, start, serve stdin, stop.
func Main(name, defaultSocket string, start Starter) {
	socket := flag.String("socket", defaultSocket, "NRI socket plugins connect to")
	timeout := flag.Duration("timeout", 10*time.Second, "deadline for one event delivered to all plugins")
	restore := flag.String("restore", "", "JSON file of the sandboxes that outlived a restart, listed before plugins may connect (as containerd reloads its own)")
	flag.Parse()
	fatal := func(err error) {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
	noPlugins, err := os.MkdirTemp("", name+"-plugins-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(noPlugins)
	state := NewSandboxes()
	if *restore != "" {
		data, err := os.ReadFile(*restore)
		if err != nil {
			fatal(err)
		}
		var pods []*Pod
		if err := json.Unmarshal(data, &pods); err != nil {
			fatal(fmt.Errorf("%s: %w", *restore, err))
		}
		for _, p := range pods {
			state.put(p)
		}
	}
	rt, stop, err := start(*socket, noPlugins, state.List)
	if err != nil {
		fatal(err)
	}
	defer func() {
		stop()
		_ = os.Remove(*socket)
	}()
	fmt.Fprintf(os.Stderr, "%s: listening on %s\n", name, *socket)
	Serve(rt, state, os.Stdin, os.Stdout, *timeout)
}
