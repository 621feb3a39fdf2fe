package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vpshealth/engine/internal/procfs"
	"vpshealth/engine/internal/protocol"
)

const sshd = "/usr/sbin/sshd"

// realSSHD starts OpenSSH's sshd on loopback as /work/shared/TEST-INFRA.md does: user
// vhtest, its own host key and authorized keys. It returns the port, the pinned host key line
// and the accepted client key.
func realSSHD(t *testing.T) (port int, hostKey, clientKey string) {
	t.Helper()
	if _, err := os.Stat(sshd); err != nil || os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI needs OpenSSH's sshd at %s and root to run it", sshd)
		}
		t.Skipf("no %s, or not root", sshd)
	}
	dir := t.TempDir()
	// sshd reads the authorized keys as vhtest: t.TempDir's folders are 0700.
	_ = os.Chmod(filepath.Dir(dir), 0o755)
	_ = os.Chmod(dir, 0o755)
	for _, name := range []string{"hostkey", "userkey", "otherkey"} {
		must(t, exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, name)).Run())
	}
	if exec.Command("id", "vhtest").Run() != nil {
		must(t, exec.Command("useradd", "-m", "-s", "/bin/sh", "vhtest").Run())
	}
	must(t, exec.Command("usermod", "-p", "*", "vhtest").Run())
	must(t, exec.Command("install", "-o", "vhtest", "-m", "600", filepath.Join(dir, "userkey.pub"), filepath.Join(dir, "authorized_keys.vhtest")).Run())
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	port = listener.Addr().(*net.TCPAddr).Port
	_ = listener.Close()
	config := fmt.Sprintf("Port %d\nListenAddress 127.0.0.1\nHostKey %s/hostkey\nPidFile %s/sshd.pid\n"+
		"AuthorizedKeysFile %s/authorized_keys.%%u\nPasswordAuthentication no\nStrictModes no\nMaxSessions 50\n",
		port, dir, dir, dir)
	must(t, os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(config), 0o600))
	_ = os.MkdirAll("/run/sshd", 0o755)
	server := exec.Command(sshd, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	logFile, err := os.Create(filepath.Join(dir, "sshd.log"))
	must(t, err)
	server.Stderr = logFile
	must(t, server.Start())
	t.Cleanup(func() {
		_ = server.Process.Kill()
		_ = server.Wait()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "sshd.log"))
			t.Logf("sshd's log:\n%s", log)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		if conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			_ = conn.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("sshd did not start listening")
		}
		time.Sleep(20 * time.Millisecond)
	}
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(dir, name))
		must(t, err)
		return string(data)
	}
	t.Setenv("RUNTIME22_OTHER_KEY", read("otherkey"))
	return port, strings.TrimSpace(read("hostkey.pub")), read("userkey")
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestTheBinaryChecksARealSSHD builds vpshealth-engine and drives it over pipes against
// OpenSSH: a good host, a host pinned to another key, a host logging in with a key sshd does
// not accept.
func TestTheBinaryChecksARealSSHD(t *testing.T) {
	port, hostKey, clientKey := realSSHD(t)
	otherKey := os.Getenv("RUNTIME22_OTHER_KEY")
	binary := filepath.Join(t.TempDir(), "vpshealth-engine")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	must(t, build.Run())

	engine := exec.Command(binary)
	stdin, err := engine.StdinPipe()
	must(t, err)
	stdout, err := engine.StdoutPipe()
	must(t, err)
	engine.Stderr = os.Stderr
	must(t, engine.Start())
	t.Cleanup(func() { _ = engine.Process.Kill(); _ = engine.Wait() })
	lines := make(chan map[string]any, 100)
	go func() {
		scanner := bufio.NewScanner(stdout)
		scanner.Buffer(nil, protocol.MaxLine)
		for scanner.Scan() {
			var msg map[string]any
			_ = json.Unmarshal(scanner.Bytes(), &msg)
			lines <- msg
		}
		close(lines)
	}()
	send := func(msg any) {
		data, _ := json.Marshal(msg)
		_, err := stdin.Write(append(data, '\n'))
		must(t, err)
	}
	strangerKeyLine := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKQ2gE1Yx5G1uY5ZqZb2bD4pZb0y7Cc5dYq9xk8qGf3a"
	host := func(id int, name, pinned, key string) protocol.Host {
		return protocol.Host{
			ID: id, Name: name, Address: "127.0.0.1", Port: port, User: "vhtest", HostKey: &pinned,
			IntervalSeconds: 60, Credentials: &protocol.Credentials{PrivateKey: &key},
		}
	}
	send(map[string]any{"type": "start", "options": map[string]any{"start_now": true, "connect_timeout": 10, "command_timeout": 10}})
	send(map[string]any{"type": "hosts", "hosts": []protocol.Host{
		host(1, "web1", hostKey, clientKey),
		host(2, "moved", strangerKeyLine, clientKey),
		host(3, "locked", hostKey, otherKey),
	}})
	results := map[float64]map[string]any{}
	timeout := time.After(30 * time.Second)
	for len(results) < 3 {
		select {
		case msg, ok := <-lines:
			if !ok {
				t.Fatal("the engine's output ended")
			}
			if msg["type"] == "result" {
				results[msg["host_id"].(float64)] = msg
			}
		case <-timeout:
			t.Fatalf("results so far: %v", results)
		}
	}
	where := fmt.Sprintf("(127.0.0.1:%d)", port)
	if r := results[2]; r["problem"] != "host_key_mismatch" || !strings.HasPrefix(r["message"].(string), "the host key of moved "+where+" has CHANGED") {
		t.Errorf("moved: %v", r)
	}
	if r := results[3]; r["problem"] != "auth_failed" || r["message"] != "locked "+where+" refused the login as 'vhtest': check that the public key is in ~vhtest/.ssh/authorized_keys on the server" {
		t.Errorf("locked: %v", r)
	}
	good := results[1]
	if _, err := procfs.ParseSystemInfo(""); err != nil && err.Error() == "not implemented" {
		if good["problem"] != "parse_error" || good["message"] != "could not read what web1 returned: not implemented" {
			t.Errorf("web1 (parsers not in yet): %v", good)
		}
	} else {
		info, _ := good["system_info"].(map[string]any)
		snapshot, _ := good["snapshot"].(map[string]any)
		if good["problem"] != nil || info == nil || info["hostname"] == "" || snapshot == nil || snapshot["cpu_times_previous"] == nil {
			t.Errorf("web1: %v", good)
		}
	}
	send(map[string]any{"type": "stop"})
	for msg := range lines {
		if msg["type"] == "stopped" {
			break
		}
	}
	_ = stdin.Close()
	_, _ = io.Copy(io.Discard, stdout)
	if err := engine.Wait(); err != nil {
		t.Fatalf("the engine exited with %v", err)
	}
}
