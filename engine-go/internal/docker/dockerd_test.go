package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"vpshealth/engine/internal/model"
)

// realDockerd starts a private dockerd (TEST-INFRA.md's recipe) and returns its socket and
// the path of a docker CLI; it skips the test where dockerd cannot run, except under CI=true.
func realDockerd(t *testing.T) (socket, cli string) {
	t.Helper()
	unavailable := t.Skipf
	if os.Getenv("CI") == "true" {
		unavailable = t.Fatalf
	}
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		unavailable("no dockerd: install docker.io (apt-get install docker.io busybox-static)")
	}
	cli, err = exec.LookPath("docker")
	if err != nil {
		unavailable("no docker CLI: install docker.io")
	}
	if os.Geteuid() != 0 {
		unavailable("dockerd needs root")
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		unavailable("no /bin/busybox for the test image: install busybox-static")
	}
	dir, err := os.MkdirTemp("", "vhdocker") // short: unix socket paths are at most 107 bytes
	if err != nil {
		t.Fatal(err)
	}
	socket = filepath.Join(dir, "docker.sock")
	logFile, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	daemon := exec.Command(dockerd, "--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"), "-H", "unix://"+socket,
		"--pidfile", filepath.Join(dir, "dockerd.pid"),
		"--iptables=false", "--ip6tables=false", "--bridge=none")
	daemon.Stdout, daemon.Stderr = logFile, logFile
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = daemon.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = daemon.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = daemon.Process.Kill()
			<-exited
		}
		_ = logFile.Close()
		_ = os.RemoveAll(dir)
	})
	probe := NewCollector(dialUnix(socket), noRunner, Options{Timeout: time.Second})
	defer probe.Close()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if status, _, err := probe.Get(context.Background(), "/_ping"); err == nil && status == 200 {
			break
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "dockerd.log"))
			t.Fatalf("dockerd exited:\n%s", log)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("dockerd did not answer /_ping within 30 s")
		}
	}
	return socket, cli
}

func dialUnix(socket string) Dialer {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}
}

// busyboxImage is BusyBox as a one-file image (no registry is reachable).
func busyboxImage(t *testing.T) *bytes.Buffer {
	busybox, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	var image bytes.Buffer
	archive := tar.NewWriter(&image)
	for _, dir := range []string{"bin/", "tmp/"} {
		_ = archive.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755})
	}
	_ = archive.WriteHeader(&tar.Header{Name: "bin/busybox", Mode: 0o755, Size: int64(len(busybox))})
	_, _ = archive.Write(busybox)
	for _, applet := range []string{"sh", "sleep"} {
		_ = archive.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + applet, Linkname: "busybox"})
	}
	if err := archive.Close(); err != nil {
		t.Fatal(err)
	}
	return &image
}

func TestRealDockerd(t *testing.T) {
	socket, cli := realDockerd(t)
	docker := func(stdin *bytes.Buffer, args ...string) {
		t.Helper()
		command := exec.Command(cli, append([]string{"-H", "unix://" + socket}, args...)...)
		if stdin != nil {
			command.Stdin = stdin
		}
		if output, err := command.CombinedOutput(); err != nil {
			t.Fatalf("docker %v: %v\n%s", args, err, output)
		}
	}
	docker(busyboxImage(t), "import", "-c", "ENV PATH=/bin", "-", "vhbusy:latest")
	docker(nil, "run", "-d", "--name", "vh-real", "vhbusy", "sleep", "300")
	docker(nil, "create", "--name", "vh-made", "vhbusy", "sleep", "1")

	c := NewCollector(dialUnix(socket), noRunner, Options{Socket: socket})
	defer c.Close()
	byName := func(result *model.DockerResult) map[string]model.Container {
		found := map[string]model.Container{}
		for _, container := range result.Containers {
			found[container.Name] = container
		}
		return found
	}
	first := collectOK(t, c)
	if got := names(first); !slices.Equal(got, []string{"vh-made", "vh-real"}) {
		t.Fatalf("containers %v", got)
	}
	real, made := byName(first)["vh-real"], byName(first)["vh-made"]
	if real.State != "running" || made.State != "created" || real.Image != "vhbusy" {
		t.Fatalf("vh-real %+v, vh-made %+v", real, made)
	}
	if m, ok := first.Metrics[real.ID]; !ok || m.MemoryBytes == nil || m.CPUPercent != nil {
		t.Fatalf("vh-real's first metrics %+v", first.Metrics)
	}
	if _, ok := first.Metrics[made.ID]; ok {
		t.Fatal("metrics for a container that never ran")
	}
	if second := collectOK(t, c); second.Metrics[real.ID].CPUPercent == nil {
		t.Fatalf("no CPU %% from two samples: %+v", second.Metrics[real.ID])
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	events := make(chan model.Event, 64)
	go c.Follow(ctx, time.Now().Unix()-1, func(event model.Event) { events <- event })
	docker(nil, "stop", "-t", "1", "vh-real") // sleep ignores TERM as PID 1: killed after 1 s
	var actions []string
	for !slices.Contains(actions, "stop") {
		select {
		case event := <-events:
			if event.Name != "vh-real" {
				continue
			}
			actions = append(actions, event.Action)
			if event.Action == "die" && (event.ExitCode == nil || *event.ExitCode != 137) {
				t.Errorf("die with exit code %v, want 137", event.ExitCode)
			}
		case <-ctx.Done():
			t.Fatalf("events of vh-real's stop: %v", actions)
		}
	}
	if len(actions) < 4 || !slices.Equal(actions[len(actions)-4:], []string{"kill", "kill", "die", "stop"}) {
		t.Errorf("events %v, want them to end with kill (15), kill (9), die, stop", actions)
	}
	after := collectOK(t, c)
	if _, measured := after.Metrics[real.ID]; measured || byName(after)["vh-real"].State != "exited" {
		t.Fatalf("after the stop: %+v, metrics %+v", byName(after)["vh-real"], after.Metrics)
	}
}
