package dockerparse

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"vpshealth/engine/internal/model"
	"vpshealth/engine/internal/vectors"
)

func loadVectors(t testing.TB) []vectors.Case { return vectors.MustLoad(t, "docker.json") }

func TestSharedVectors(t *testing.T) {
	counts := map[string]int{}
	for _, c := range loadVectors(t) {
		counts[c.Kind]++
		var check func(vectors.Case) error
		switch c.Kind {
		case "list":
			check = checkList
		case "inspect":
			check = checkInspect
		case "stats":
			check = checkStats
		case "event":
			check = checkEvent
		case "cpu_percent":
			check = checkCPUPercent
		case "memory":
			check = checkMemory
		case "logs":
			check = checkLogs
		default:
			t.Errorf("%s: unknown kind %q", c.Name, c.Kind)
			continue
		}
		if err := check(c); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
	}
	for _, kind := range []string{"list", "inspect", "stats", "event", "cpu_percent", "memory", "logs"} {
		if counts[kind] < 8 {
			t.Errorf("only %d %s vectors", counts[kind], kind)
		}
	}
}

// outcome compares a parse's error with the vector's; done is true when there is no result
// to compare.
func outcome(c vectors.Case, err error) (done bool, problem error) {
	switch {
	case c.Error && err == nil:
		return true, errors.New("parsed, but Python refuses it")
	case c.Error && !errors.Is(err, ErrParse):
		return true, fmt.Errorf("error %v does not wrap ErrParse", err)
	case c.Error:
		return true, nil
	case err != nil:
		return true, fmt.Errorf("%v, but Python parses it", err)
	}
	return false, nil
}

func compare[T any](c vectors.Case, got T) error {
	var want T
	if err := c.Expect(&want); err != nil {
		return err
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("got  %s\nwant %s", jsonOf(got), jsonOf(want))
	}
	return nil
}

func jsonOf(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

func checkList(c vectors.Case) error {
	body, err := c.Bytes()
	if err != nil {
		return err
	}
	got, err := ParseContainerList(body)
	if done, problem := outcome(c, err); done {
		return problem
	}
	return compare(c, got)
}

func checkInspect(c vectors.Case) error {
	body, err := c.Bytes()
	if err != nil {
		return err
	}
	got, err := ParseInspect(body)
	if done, problem := outcome(c, err); done {
		return problem
	}
	return compare(c, got)
}

func checkStats(c vectors.Case) error {
	body, err := c.Bytes()
	if err != nil {
		return err
	}
	got, err := ParseStats(body)
	if done, problem := outcome(c, err); done {
		return problem
	}
	return compare(c, got)
}

func checkEvent(c vectors.Case) error {
	line, err := c.Bytes()
	if err != nil {
		return err
	}
	got, ok, err := ParseEvent(line)
	if done, problem := outcome(c, err); done {
		return problem
	}
	if string(c.Expected) == "null" {
		if ok {
			return fmt.Errorf("got %s, but Python ignores it", jsonOf(got))
		}
		return nil
	}
	if !ok {
		return errors.New("ignored, but Python parses it")
	}
	return compare(c, got)
}

func checkCPUPercent(c vectors.Case) error {
	var before, after model.ContainerStats
	if err := json.Unmarshal(c.Before, &before); err != nil {
		return err
	}
	if err := json.Unmarshal(c.After, &after); err != nil {
		return err
	}
	var want *float64
	if err := c.Expect(&want); err != nil {
		return err
	}
	got := CPUPercent(before, after)
	if (got == nil) != (want == nil) || got != nil && !vectors.Close(*got, *want) {
		return fmt.Errorf("got %s, want %s", jsonOf(got), jsonOf(want))
	}
	return nil
}

func checkMemory(c vectors.Case) error {
	var stats model.ContainerStats
	if err := json.Unmarshal(c.Stats, &stats); err != nil {
		return err
	}
	return compare(c, MemoryBytes(stats))
}

func checkLogs(c vectors.Case) error {
	body, err := c.Bytes()
	if err != nil {
		return err
	}
	return compare(c, ParseLogs(body, c.TTY, c.Lines, c.MaxBytes))
}

func TestRoundingIsPythons(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{
		{0.125, 0.12}, {0.375, 0.38}, {2.675, 2.67}, {1.005, 1.0}, {0.0125 * 100, 1.25}, {100, 100},
	} {
		if got := roundTo2(tc.in); got != tc.want {
			t.Errorf("roundTo2(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func seeds(f *testing.F, kind string) {
	for _, c := range loadVectors(f) {
		if c.Kind == kind {
			body, err := c.Bytes()
			if err != nil {
				f.Fatal(err)
			}
			if len(body) <= maxSeedBytes {
				f.Add(body)
			}
		}
	}
}

// maxSeedBytes leaves out the 100 kB garbage seeds: Go's mutator stalls on inputs that big.
const maxSeedBytes = 64 * 1024

func mustWrap(t *testing.T, err error) {
	if err != nil && !errors.Is(err, ErrParse) {
		t.Fatalf("error %v does not wrap ErrParse", err)
	}
}

func FuzzParseContainerList(f *testing.F) {
	seeds(f, "list")
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := ParseContainerList(body)
		mustWrap(t, err)
	})
}

func FuzzParseInspect(f *testing.F) {
	seeds(f, "inspect")
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := ParseInspect(body)
		mustWrap(t, err)
		if err == nil && (c.Created < 0 || c.RestartCount < 0 || c.Ports == nil || c.Labels == nil) {
			t.Fatalf("implausible container %+v", c)
		}
	})
}

func FuzzParseStats(f *testing.F) {
	seeds(f, "stats")
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := ParseStats(body)
		mustWrap(t, err)
		if err == nil {
			if s.OnlineCPUs < 1 {
				t.Fatalf("online cpus %d", s.OnlineCPUs)
			}
			if m := MemoryBytes(s); m != nil && *m < 0 {
				t.Fatalf("negative memory %d", *m)
			}
		}
	})
}

func FuzzParseEvent(f *testing.F) {
	seeds(f, "event")
	f.Fuzz(func(t *testing.T, line []byte) {
		_, _, err := ParseEvent(line)
		mustWrap(t, err)
	})
}

func FuzzParseLogs(f *testing.F) {
	seeds(f, "logs")
	f.Fuzz(func(t *testing.T, body []byte) {
		if text := ParseLogs(body, nil, LogLines, LogBytes); len(text) > LogBytes {
			t.Fatalf("%d bytes kept", len(text))
		}
	})
}
