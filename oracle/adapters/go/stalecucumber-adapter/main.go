// Adapter of github.com/hydrogen18/stalecucumber (docs/adapters.md), view
// "go": prints each file's value in the view text of oracle/adapters/view.py.
// Globals that stalecucumber's own resolver does not know become an opaque
// value (nothing named by a stream runs); the view has no text for them,
// nor for Go maps with keys it cannot print, so those are cannot-represent.
// A panic in the library is left to kill the process: the matrix driver
// records it as a crash of that file and goes on with the next.
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"os"
	"sort"
	"strings"

	"github.com/hydrogen18/stalecucumber"
)

type opaque struct{}
type cannot struct{ why string }

type fallback struct{}

func (fallback) Resolve(module, name string, args []interface{}) (interface{}, error) {
	return opaque{}, nil
}

var resolver = stalecucumber.MakePythonResolverChain(
	stalecucumber.PythonBuiltinResolver{}, fallback{})

func escStr(s string) string {
	var b strings.Builder
	b.WriteString("s'")
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '\\' && c != '\'' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "\\x%02x", c)
		}
	}
	b.WriteString("'")
	return b.String()
}

func floatText(f float64) string {
	if math.IsNaN(f) {
		return "nan"
	}
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], math.Float64bits(f))
	return "f:" + hex.EncodeToString(buf[:])
}

func render(x interface{}, depth int) string {
	if depth > 2000 {
		panic(cannot{"nesting too deep"})
	}
	switch v := x.(type) {
	case nil, stalecucumber.PickleNone:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case int64:
		return fmt.Sprintf("i:%d", v)
	case *big.Int:
		return "i:" + v.String()
	case float64:
		return floatText(v)
	case string:
		return escStr(v)
	case []byte:
		return "b:" + hex.EncodeToString(v)
	case []interface{}:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = render(e, depth+1)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case stalecucumber.PickleTuple:
		return render([]interface{}(v), depth)
	case map[interface{}]interface{}:
		items := make([]string, 0, len(v))
		for k, e := range v {
			items = append(items, render(k, depth+1)+": "+render(e, depth+1))
		}
		sort.Strings(items)
		return "{" + strings.Join(items, ", ") + "}"
	case map[interface{}]bool:
		items := make([]string, 0, len(v))
		for k := range v {
			items = append(items, render(k, depth+1))
		}
		sort.Strings(items)
		return "set{" + strings.Join(items, ", ") + "}"
	}
	panic(cannot{fmt.Sprintf("a %T node", x)})
}

func decode(data []byte) (text string) {
	value, err := stalecucumber.UnpickleWithResolver(bytes.NewReader(data), resolver)
	if err != nil {
		msg := strings.ReplaceAll(strings.ReplaceAll(err.Error(), "\r", "\\r"), "\n", "\\n")
		return fmt.Sprintf("error: %T: %s\n", err, msg)
	}
	defer func() {
		if r := recover(); r != nil {
			c, ok := r.(cannot)
			if !ok {
				panic(r)
			}
			text = "cannot-represent: " + c.why + "\n"
		}
	}()
	return "root: " + render(value, 0) + "\n"
}

func main() {
	out := bufio.NewWriter(os.Stdout)
	for _, path := range os.Args[1:] {
		fmt.Fprintf(out, "### %s\n", path)
		out.Flush()
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%v\n", err)
			os.Exit(1)
		}
		out.WriteString(decode(data))
		out.Flush()
	}
}
