package problem

import "testing"

func TestGFormatsAsPython(t *testing.T) {
	// The right column is what Python's "%g" % value prints.
	cases := map[float64]string{
		30: "30", 0.5: "0.5", 2.25: "2.25", 1234567: "1.23457e+06", 1e6: "1e+06",
		0.0001: "0.0001", 0.00001: "1e-05", 100000: "100000", 20.123456789: "20.1235",
	}
	for in, want := range cases {
		if got := G(in); got != want {
			t.Errorf("G(%v) = %q, want %q", in, got, want)
		}
	}
}
