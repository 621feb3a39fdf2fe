package procfs

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"vpshealth/engine/internal/model"
	"vpshealth/engine/internal/vectors"
)

func loadVectors(t testing.TB) []vectors.Case { return vectors.MustLoad(t, "procfs.json") }

func TestSharedVectors(t *testing.T) {
	counts := map[string]int{}
	for _, c := range loadVectors(t) {
		counts[c.Kind]++
		input, err := c.Bytes()
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		switch c.Kind {
		case "snapshot":
			got, err := ParseSnapshot(string(input))
			if !checkOutcome(t, c, err) {
				continue
			}
			var want model.Snapshot
			if err := c.Expect(&want); err != nil {
				t.Fatal(err)
			}
			compareSnapshot(t, c.Name, got, want)
		case "system_info":
			got, err := ParseSystemInfo(string(input))
			if !checkOutcome(t, c, err) {
				continue
			}
			var want model.SystemInfo
			if err := c.Expect(&want); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s: got %+v, want %+v", c.Name, got, want)
			}
		default:
			t.Errorf("%s: unknown kind %q", c.Name, c.Kind)
		}
	}
	if counts["snapshot"] < 20 || counts["system_info"] < 10 {
		t.Errorf("too few vectors: %v", counts)
	}
}

// checkOutcome reports a refusal that differs from Python's; true when there is a result to
// compare.
func checkOutcome(t *testing.T, c vectors.Case, err error) bool {
	t.Helper()
	switch {
	case c.Error && err == nil:
		t.Errorf("%s: parsed, but Python refuses it", c.Name)
	case c.Error && !errors.Is(err, ErrParse):
		t.Errorf("%s: error %v does not wrap ErrParse", c.Name, err)
	case !c.Error && err != nil:
		t.Errorf("%s: %v, but Python parses it", c.Name, err)
	}
	return !c.Error && err == nil
}

func compareSnapshot(t *testing.T, name string, got, want model.Snapshot) {
	t.Helper()
	for i := range got.Load {
		if !vectors.Close(got.Load[i], want.Load[i]) {
			t.Errorf("%s: load[%d] = %v, want %v", name, i, got.Load[i], want.Load[i])
		}
	}
	if !vectors.Close(got.UptimeSeconds, want.UptimeSeconds) {
		t.Errorf("%s: uptime = %v, want %v", name, got.UptimeSeconds, want.UptimeSeconds)
	}
	got.Load, want.Load = [3]float64{}, [3]float64{}
	got.UptimeSeconds, want.UptimeSeconds = 0, 0
	if got.Disks == nil || got.Network == nil {
		t.Errorf("%s: disks or network is nil (the protocol sends [])", name)
	}
	fields := []struct {
		what      string
		got, want any
	}{
		{"cpu_count", got.CPUCount, want.CPUCount},
		{"memory", got.Memory, want.Memory},
		{"swap", got.Swap, want.Swap},
		{"disks", got.Disks, want.Disks},
		{"network", got.Network, want.Network},
		{"cpu_times", got.CPUTimes, want.CPUTimes},
		{"cpu_times_previous", got.CPUTimesPrevious, want.CPUTimesPrevious},
	}
	for _, f := range fields {
		if !reflect.DeepEqual(f.got, f.want) {
			t.Errorf("%s: %s = %s, want %s", name, f.what, show(f.got), show(f.want))
		}
	}
}

func show(v any) string {
	switch x := v.(type) {
	case *model.CPUTimes:
		if x == nil {
			return "null"
		}
		return stringOf(*x)
	case []model.Disk:
		s := "["
		for _, d := range x {
			s += stringOf(d) + " "
			if d.InodesTotal != nil {
				s += stringOf([2]int64{*d.InodesTotal, *d.InodesUsed})
			}
		}
		return s + "]"
	}
	return stringOf(v)
}

func stringOf(v any) string { return fmt.Sprintf("%+v", v) }

func FuzzParseSnapshot(f *testing.F) {
	for _, c := range loadVectors(f) {
		if c.Kind == "snapshot" {
			input, err := c.Bytes()
			if err != nil {
				f.Fatal(err)
			}
			f.Add(string(input))
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		snap, err := ParseSnapshot(text)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
			return
		}
		if snap.Memory.AvailableBytes > snap.Memory.TotalBytes || snap.Swap.FreeBytes > snap.Swap.TotalBytes {
			t.Fatalf("available above total: %+v %+v", snap.Memory, snap.Swap)
		}
		for _, d := range snap.Disks {
			if d.TotalBytes <= 0 || d.UsedBytes < 0 || d.AvailableBytes < 0 {
				t.Fatalf("implausible disk %+v", d)
			}
		}
	})
}

func FuzzParseSystemInfo(f *testing.F) {
	for _, c := range loadVectors(f) {
		if c.Kind == "system_info" {
			input, err := c.Bytes()
			if err != nil {
				f.Fatal(err)
			}
			f.Add(string(input))
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		info, err := ParseSystemInfo(text)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
			return
		}
		if info.Hostname == "" || info.Kernel == "" || info.OSName == "" {
			t.Fatalf("empty field in %+v", info)
		}
	})
}
