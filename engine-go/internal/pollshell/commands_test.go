package pollshell

import (
	"encoding/json"
	"os"
	"testing"
)

// commands.json is written from collectors/remote_commands.py by scripts/make-test-vectors.
func TestCommandsAreRemoteCommandsPy(t *testing.T) {
	data, err := os.ReadFile("../../../tests/fixtures/vectors/commands.json")
	if err != nil {
		t.Fatalf("the shared vectors are missing (run scripts/make-test-vectors): %v", err)
	}
	var python map[string]any
	if err := json.Unmarshal(data, &python); err != nil {
		t.Fatal(err)
	}
	ours := map[string]string{
		"MARKER_PREFIX":        MarkerPrefix,
		"POLL_COMMAND":         PollCommand,
		"FIRST_POLL_COMMAND":   FirstPollCommand,
		"DONE_MARKER":          DoneMarker,
		"POLL_SHELL_COMMAND":   PollShellCommand,
		"SAMPLE_REQUEST":       SampleRequest,
		"FIRST_SAMPLE_REQUEST": FirstSampleRequest,
		"SYSTEM_INFO_COMMAND":  SystemInfoCommand,
	}
	for name, value := range ours {
		if python[name] != value {
			t.Errorf("%s differs from Python's:\n go: %q\npy: %q", name, value, python[name])
		}
	}
}
