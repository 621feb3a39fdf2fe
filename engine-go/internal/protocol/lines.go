package protocol

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// MaxLine is the longest line either side may send, without its newline.
const MaxLine = 16 << 20

// ErrNotStart: the first line was not a start message; the engine exits 2.
var ErrNotStart = errors.New("the first line is not a start message")

// Reader yields the service's messages. Malformed lines are reported to Bad and skipped.
type Reader struct {
	in  *bufio.Reader
	Bad func(reason string)
}

func NewReader(r io.Reader) *Reader {
	return &Reader{in: bufio.NewReaderSize(r, 64<<10), Bad: func(string) {}}
}

// line returns the next line without its newline; too long is true when it passed MaxLine
// (the rest of it is skipped).
func (r *Reader) line() (line []byte, tooLong bool, err error) {
	for {
		chunk, err := r.in.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > MaxLine+1 {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		switch {
		case err == nil:
			if !tooLong {
				line = line[:len(line)-1]
			}
			return line, tooLong, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0 && !tooLong:
			return line, false, nil
		default:
			return nil, tooLong, err
		}
	}
}

// Next returns the next well-formed message, or io.EOF at the end of input.
func (r *Reader) Next() (Inbound, error) {
	for {
		line, tooLong, err := r.line()
		if err != nil {
			return Inbound{}, err
		}
		if tooLong {
			r.Bad(fmt.Sprintf("ignored a line longer than %d bytes", MaxLine))
			continue
		}
		if len(line) == 0 {
			continue
		}
		msg := Inbound{}
		if err := json.Unmarshal(line, &msg); err != nil || msg.Type == "" {
			r.Bad(fmt.Sprintf("ignored a malformed line (%s): %.200q", reasonOf(err), line))
			continue
		}
		return msg, nil
	}
}

func reasonOf(err error) string {
	if err == nil {
		return "no type"
	}
	return err.Error()
}

// Start reads the first line, which must be a start message; its options over the defaults.
func (r *Reader) Start() (Options, error) {
	line, tooLong, err := r.line()
	if err != nil || tooLong {
		return Options{}, ErrNotStart
	}
	var head struct {
		Type    string          `json:"type"`
		Options json.RawMessage `json:"options"`
	}
	if json.Unmarshal(line, &head) != nil || head.Type != "start" {
		return Options{}, ErrNotStart
	}
	opts := Defaults()
	if len(head.Options) > 0 && json.Unmarshal(head.Options, &opts) != nil {
		return Options{}, ErrNotStart
	}
	return opts, nil
}

// Writer writes one message per line, whole, from any goroutine.
type Writer struct {
	mu  sync.Mutex
	out *bufio.Writer
	seq int64
}

func NewWriter(w io.Writer) *Writer {
	return &Writer{out: bufio.NewWriterSize(w, 64<<10)}
}

// Send writes msg as one line and flushes it.
func (w *Writer) Send(msg any) error {
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writeLine(data)
}

func (w *Writer) writeLine(data []byte) error {
	w.out.Write(data)
	w.out.WriteByte('\n')
	return w.out.Flush()
}

// SendResult numbers the result (seq from 1, in the order written) and writes it.
func (w *Writer) SendResult(res Result) error {
	res.Type = "result"
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seq++
	res.Seq = w.seq
	data, err := json.Marshal(res)
	if err != nil {
		w.seq--
		return err
	}
	return w.writeLine(data)
}

// Log writes a log message; hostID 0 means none.
func (w *Writer) Log(level string, hostID int, format string, args ...any) {
	msg := Log{Type: "log", Level: level, Message: fmt.Sprintf(format, args...)}
	if hostID != 0 {
		msg.HostID = &hostID
	}
	_ = w.Send(msg)
}
