package pollshell

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"vpshealth/engine/internal/problem"
	"vpshealth/engine/internal/sshconn"
	"vpshealth/engine/internal/sshtest"
)

func connect(t *testing.T, s *sshtest.Server) *sshconn.Conn {
	t.Helper()
	c := sshconn.New(sshconn.Target{
		Name: "web1", Address: "127.0.0.1", Port: s.Port, User: "vhtest",
		HostKey: s.HostKeyLine, PrivateKey: s.ClientKey,
	}, sshconn.Options{ConnectTimeout: 5 * time.Second, CommandTimeout: 10 * time.Second, MaxChannels: 4},
		func(string, string, ...any) {})
	t.Cleanup(c.Close)
	return c
}

func count(commands []string, command string) int {
	n := 0
	for _, c := range commands {
		if c == command {
			n++
		}
	}
	return n
}

// looksLikeASample: the sections of one poll, with the first one's extra CPU line.
func looksLikeASample(t *testing.T, output string, first bool) {
	t.Helper()
	for _, section := range []string{"@@vpshealth:stat\ncpu ", "@@vpshealth:meminfo\n", "@@vpshealth:df\n", "@@vpshealth:end"} {
		if !strings.Contains(output, section) {
			t.Fatalf("no %q in the output:\n%.300s", section, output)
		}
	}
	if strings.Contains(output, "@@vpshealth:stat0\n") != first {
		t.Fatalf("first=%v but the output has stat0=%v", first, !first)
	}
	if strings.Contains(output, DoneMarker) {
		t.Fatal("the done line was left in the output")
	}
}

func TestTheShellIsKeptAndAskedInOneLinePerCheck(t *testing.T) {
	s := sshtest.Start(t)
	shell := New(connect(t, s), func(string, string, ...any) {})
	defer shell.Close()
	for i, first := range []bool{true, false, false} {
		out, err := shell.Sample(context.Background(), first)
		if err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
		looksLikeASample(t, out, first)
	}
	if got := s.Commands(); len(got) != 1 || got[0] != PollShellCommand {
		t.Fatalf("commands %q, want the poll shell once", got)
	}
	lines := strings.Split(strings.TrimSuffix(s.Input(PollShellCommand), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "f ") || !strings.HasPrefix(lines[1], "p ") || len(lines[2]) != 2+16 {
		t.Fatalf("requests %q", lines)
	}
}

func TestAHostThatCannotKeepAShellIsAskedOneCommandPerCheck(t *testing.T) {
	for name, behaviour := range map[string]sshtest.Behaviour{"ends at once": sshtest.EndAtOnce, "refused": sshtest.Refuse} {
		t.Run(name, func(t *testing.T) {
			s := sshtest.Start(t)
			s.Behave = func(command string) sshtest.Behaviour {
				if command == PollShellCommand {
					return behaviour
				}
				return sshtest.Run
			}
			var logged []string
			shell := New(connect(t, s), func(_, format string, args ...any) {
				logged = append(logged, format)
			})
			defer shell.Close()
			out, err := shell.Sample(context.Background(), true)
			if err != nil {
				t.Fatal(err)
			}
			looksLikeASample(t, out, true)
			out, err = shell.Sample(context.Background(), false)
			if err != nil {
				t.Fatal(err)
			}
			looksLikeASample(t, out, false)
			got := s.Commands()
			if count(got, PollShellCommand) != 1 || count(got, FirstPollCommand) != 1 || count(got, PollCommand) != 1 {
				t.Fatalf("commands %q: want one shell, then one first poll and one poll command", got)
			}
			if len(logged) != 1 || !strings.Contains(logged[0], "one command per check") {
				t.Fatalf("logged %q", logged)
			}
		})
	}
}

func TestAShellThatWorkedAndEndedIsStartedOnceMore(t *testing.T) {
	s := sshtest.Start(t)
	shell := New(connect(t, s), func(string, string, ...any) {})
	defer shell.Close()
	if _, err := shell.Sample(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	s.EndCommands()
	out, err := shell.Sample(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	looksLikeASample(t, out, false)
	if got := s.Commands(); count(got, PollShellCommand) != 2 || len(got) != 2 {
		t.Fatalf("commands %q, want the shell twice", got)
	}
}

func TestTooMuchOutputIsAParseErrorAndDropsTheShell(t *testing.T) {
	s := sshtest.Start(t)
	s.Behave = func(string) sshtest.Behaviour { return sshtest.Flood }
	shell := New(connect(t, s), func(string, string, ...any) {})
	defer shell.Close()
	_, err := shell.Sample(context.Background(), false)
	e, ok := problem.As(err)
	if !ok || e.Problem != problem.ParseError || e.Message != "web1 (127.0.0.1:"+strconv.Itoa(s.Port)+") sent too much output" {
		t.Fatalf("error %v", err)
	}
	if shell.shell != nil {
		t.Fatal("the flooding shell was kept")
	}
}
