// Command vpshealth-engine is the Go check engine: the child process of engine-go/PROTOCOL.md.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Stdin, os.Stdout, os.Stderr))
}

// run speaks the protocol until stop or the end of input; its exit code.
func run(in io.Reader, out, errOut io.Writer) int {
	e, err := start(in, out)
	if err != nil {
		fmt.Fprintf(errOut, "vpshealth-engine: %v\n", err)
		return 2
	}
	e.serve()
	return 0
}
