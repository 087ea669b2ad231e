package keycard

// The binding against the real libkeycard.a: the cases every C ABI test checks
// (ffi/tests/cases.tsv), bad input (each derived from an allowed request) as errors and never an
// allow, goroutines sharing one engine, a hot swap through Watch, the finalizer, and the
// per-call cost through cgo (BenchmarkAuthorize). Run by bindings/go/test.sh (go test -race).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	alice  = "arn:aws:iam::111122223333:user/dev/alice"
	report = "arn:aws:s3:::example-reports/2026/q1.csv"
	zedArn = "arn:aws:iam::999988887777:user/zed"
	zedKey = "arn:aws:s3:::zed-bucket/k"
	zed    = `{"AccountId": "999988887777", "UserDetailList": [{"UserName": "zed", "Path": "/",
 "UserPolicyList": [{"PolicyName": "Read", "PolicyDocument": {"Version": "2012-10-17",
 "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}]}]}`
)

var office = map[string]any{"aws:SourceIp": "203.0.113.7", "aws:SecureTransport": true}

func repo() string {
	if r := os.Getenv("KEYCARD_REPO"); r != "" {
		return r
	}
	return filepath.Join("..", "..")
}

type testCase struct {
	want Decision
	req  Request // Context as a map
	raw  Request // the same with ContextJSON, the text of cases.tsv
}

func cases(t testing.TB) []testCase {
	data, err := os.ReadFile(filepath.Join(repo(), "ffi", "tests", "cases.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var out []testCase
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		want, err := strconv.Atoi(f[0])
		if err != nil || len(f) != 5 {
			t.Fatalf("cases.tsv: %q", line)
		}
		r := Request{Principal: f[1], Action: f[2], Resource: f[3]}
		raw := r
		if f[4] != "-" {
			if err := json.Unmarshal([]byte(f[4]), &r.Context); err != nil {
				t.Fatal(err)
			}
			raw.ContextJSON = []byte(f[4])
		}
		out = append(out, testCase{Decision(want), r, raw})
	}
	if len(out) < 8 {
		t.Fatalf("%d cases", len(out))
	}
	return out
}

func open(t testing.TB, path string, flags Flags) *Engine {
	e, err := Open(path, flags)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func policies() string { return filepath.Join(repo(), "policies") }

// declarations is a header without its comments and blank space: what the compiler sees.
func declarations(header []byte) string {
	header = regexp.MustCompile(`(?s)/\*.*?\*/|//[^\n]*`).ReplaceAll(header, nil)
	return strings.Join(strings.Fields(string(header)), " ")
}

// The package's copy of keycard.h declares what the library's does (comments may differ: a
// change to the library's documentation alone does not need a new copy).
func TestHeaderIsTheLibrarys(t *testing.T) {
	ours, err := os.ReadFile("keycard.h")
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := os.ReadFile(filepath.Join(repo(), "ffi", "include", "keycard.h"))
	if err != nil {
		t.Skip("not in the keycard repository")
	}
	if declarations(ours) != declarations(theirs) || !strings.Contains(declarations(ours), "keycard_authorize") {
		t.Fatal("bindings/go/keycard.h declares other things than ffi/include/keycard.h: copy it")
	}
	if Version() == "" {
		t.Fatal("no version")
	}
}

func TestDecisions(t *testing.T) {
	e := open(t, policies(), 0)
	ctx := context.Background()
	snapshot, err := e.SnapshotID()
	if err != nil || len(snapshot) != 8 {
		t.Fatal(snapshot, err)
	}
	for _, c := range cases(t) {
		got, err := e.Authorize(ctx, c.req)
		if err != nil || got != c.want {
			t.Errorf("%+v: got %v, %v; want %v", c.req, got, err, c.want)
		}
		if got, err := e.Authorize(ctx, c.raw); err != nil || got != c.want {
			t.Errorf("%+v: got %v, %v; want %v", c.raw, got, err, c.want)
		}
		body, _ := json.Marshal(map[string]any{"principal": c.req.Principal, "action": c.req.Action,
			"resource": c.req.Resource, "context": c.req.Context})
		if c.req.Context == nil {
			body, _ = json.Marshal(map[string]any{"principal": c.req.Principal, "action": c.req.Action,
				"resource": c.req.Resource})
		}
		answer, err := e.AuthorizeJSON(ctx, body)
		want := `{"decision":"` + c.want.String() + `","snapshot":"` + snapshot + `"}`
		if err != nil || string(answer) != want {
			t.Errorf("%s: got %s, %v; want %s", body, answer, err, want)
		}
		explained, err := e.Explain(ctx, c.req)
		if err != nil || !bytes.Contains(explained, []byte(`"decision":"`+c.want.String()+`"`)) ||
			!bytes.Contains(explained, []byte(`"matched"`)) {
			t.Errorf("explain %+v: %s, %v", c.req, explained, err)
		}
	}
}

// Each bad request spoils one field of an allowed one.
func TestBadInputIsAnErrorNeverAnAllow(t *testing.T) {
	e := open(t, policies(), 0)
	ctx := context.Background()
	good := Request{Principal: alice, Action: "s3:GetObject", Resource: report, Context: office}
	if d, err := e.Authorize(ctx, good); err != nil || d != Allowed {
		t.Fatal("the unspoilt request:", d, err)
	}
	huge := strings.Repeat("x", MaxInputBytes)
	spoil := func(f func(r *Request)) Request {
		r := good
		r.Context = map[string]any{"aws:SourceIp": "203.0.113.7", "aws:SecureTransport": true}
		f(&r)
		return r
	}
	for _, c := range []struct {
		name string
		req  Request
		want *Error
		says string
	}{
		{"non-UTF-8 principal", spoil(func(r *Request) { r.Principal += "\xff" }), ErrUTF8, "principal is not valid UTF-8"},
		{"non-UTF-8 action", spoil(func(r *Request) { r.Action = "s3:Get\xc3Object" }), ErrUTF8, "action is not valid UTF-8"},
		{"non-UTF-8 context", spoil(func(r *Request) { r.Context["aws:SourceIp"] = "203.0.113.7\xff" }), ErrUTF8, "not valid UTF-8"},
		{"NUL in principal", spoil(func(r *Request) { r.Principal += "\x00/admin" }), ErrRequest, "NUL"},
		{"oversized principal", spoil(func(r *Request) { r.Principal += huge }), ErrRequest, "over"},
		{"oversized context", spoil(func(r *Request) { r.Context["x"] = huge }), ErrRequest, "over"},
		{"context not JSON", spoil(func(r *Request) { r.Context["x"] = func() {} }), ErrRequest, "context"},
		{"empty action", spoil(func(r *Request) { r.Action = "" }), ErrRequest, "/action"},
		{"bad action", spoil(func(r *Request) { r.Action = "GetObject" }), ErrRequest, "/action"},
		{"non-UTF-8 context JSON", spoil(func(r *Request) { r.Context = nil; r.ContextJSON = []byte("{\"aws:SourceIp\": \"\xff\"}") }), ErrUTF8, "context_json is not valid UTF-8"},
		{"two contexts", spoil(func(r *Request) { r.ContextJSON = []byte(`{}`) }), ErrArgument, "both"},
		{"forbidden context key", spoil(func(r *Request) { r.Context["aws:username"] = "alice" }), ErrRequest, "aws:username"},
	} {
		d, err := e.Authorize(ctx, c.req)
		if d == Allowed || !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: got %v, %v; want %v saying %q", c.name, d, err, c.want.Code, c.says)
		}
		if out, err := e.Explain(ctx, c.req); out != nil || !errors.Is(err, c.want) {
			t.Errorf("explain %s: got %s, %v", c.name, out, err)
		}
	}
	for _, c := range []struct {
		name string
		req  []byte
		want *Error
		says string
	}{
		{"nil", nil, ErrNull, "request_json is NULL"},
		{"non-UTF-8", []byte(`{"principal": "` + alice + "\xff" + `", "action": "s3:GetObject", "resource": "*"}`), ErrUTF8, "not valid UTF-8"},
		{"oversized", []byte(`{"principal": "` + alice + huge + `"}`), ErrRequest, "over"},
		{"unknown field", []byte(`{"principal": "*", "action": "s3:GetObject", "resource": "*", "x": 1}`), ErrRequest, "unknown field"},
		{"not JSON", []byte(`{`), ErrRequest, ""},
	} {
		out, err := e.AuthorizeJSON(ctx, c.req)
		if out != nil || !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("AuthorizeJSON %s: got %s, %v; want %v saying %q", c.name, out, err, c.want.Code, c.says)
		}
	}
	// A nil engine, a closed engine and a cancelled context: errors, never an allow.
	var none *Engine
	if d, err := none.Authorize(ctx, good); d == Allowed || !errors.Is(err, ErrNull) {
		t.Errorf("nil engine: %v, %v", d, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if d, err := e.Authorize(cancelled, good); d == Allowed || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, %v", d, err)
	}
	closed := open(t, policies(), 0)
	closed.Close()
	closed.Close()
	if d, err := closed.Authorize(ctx, good); d == Allowed || !errors.Is(err, ErrInternal) {
		t.Errorf("closed engine: %v, %v", d, err)
	}
}

// The context's JSON, written without reflection, means what encoding/json's would.
func TestContextJSON(t *testing.T) {
	context := map[string]any{"s": "a\"b\\c\n\x01é", "b": true, "n": nil, "i": 42, "i64": int64(-7),
		"f": 0.5, "big": 1e21, "list": []string{"x", "\t"}, "any": []any{"y", false, 1.5},
		"map": map[string]any{"k": "v"}, "other": []int{1, 2}, "u": uint8(3)}
	out, err := appendJSON(nil, context)
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	reference, _ := json.Marshal(context)
	json.Unmarshal(reference, &want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %s, want %s", out, reference)
	}
	if _, err := appendJSON(nil, map[string]any{"k": []any{"\xff"}}); !errors.Is(err, ErrUTF8) {
		t.Errorf("non-UTF-8 in a list: %v", err)
	}
	if _, err := appendJSON(nil, map[string]any{"\xfe": 1}); !errors.Is(err, ErrUTF8) {
		t.Errorf("non-UTF-8 key: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open("/nonexistent/store", 0); !errors.Is(err, ErrLoad) || !strings.Contains(err.Error(), "/nonexistent/store") {
		t.Errorf("missing store: %v", err)
	}
	if _, err := Open(policies(), 8); !errors.Is(err, ErrLoad) && !errors.Is(err, ErrArgument) {
		t.Errorf("unknown flags: %v", err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "broken.json"), []byte("{ broken"), 0o644)
	if _, err := Open(dir, 0); !errors.Is(err, ErrLoad) || !strings.Contains(err.Error(), "broken.json") {
		t.Errorf("broken store: %v", err)
	}
	if _, err := Open("policies\x00", 0); !errors.Is(err, ErrRequest) {
		t.Errorf("NUL in path: %v", err)
	}
}

// Errors on concurrent goroutines each carry their own call's message (the last error is per
// OS thread; the binding reads it in the same cgo call).
func TestGoroutinesShareOneEngine(t *testing.T) {
	e := open(t, policies(), 0)
	all := cases(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			for i := 0; i < 2000; i++ {
				c := all[rng.Intn(len(all))]
				if got, err := e.Authorize(ctx, c.req); err != nil || got != c.want {
					errs <- c.req.Principal + " " + c.req.Action + ": " + got.String()
					return
				}
				if i%50 == 0 {
					bad := "svc" + strconv.Itoa(int(seed))
					_, err := e.Authorize(ctx, Request{Principal: alice, Action: bad, Resource: report})
					if err == nil || !strings.Contains(err.Error(), bad) {
						errs <- fmt.Sprintf("%s: not this call's error: %v", bad, err)
						return
					}
				}
			}
		}(int64(g))
	}
	for i := 0; i < 3; i++ {
		if err := e.Reload(); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}

// Goroutines deciding while the engine is closed: each call decides or returns "engine is
// closed"; none runs on a freed engine (the race detector and the C side would see it).
func TestCloseWaitsForCallsInFlight(t *testing.T) {
	e, err := Open(policies(), Watch)
	if err != nil {
		t.Fatal(err)
	}
	good := Request{Principal: alice, Action: "s3:GetObject", Resource: report, Context: office}
	var wg sync.WaitGroup
	var started sync.WaitGroup
	outcomes := make([]error, 4)
	for g := range outcomes {
		wg.Add(1)
		started.Add(1)
		go func(g int) {
			defer wg.Done()
			for n := 0; ; n++ {
				d, err := e.Authorize(context.Background(), good)
				if n == 0 {
					started.Done()
				}
				if err != nil {
					outcomes[g] = err
					return
				}
				if d != Allowed {
					outcomes[g] = fmt.Errorf("decided %v", d)
					return
				}
			}
		}(g)
	}
	started.Wait()
	e.Close()
	wg.Wait()
	for g, err := range outcomes {
		if err != errClosed {
			t.Errorf("goroutine %d: %v", g, err)
		}
	}
}

func waitFor(t *testing.T, what string, check func() bool) {
	deadline := time.Now().Add(20 * time.Second)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHotSwapThroughWatch(t *testing.T) {
	store := t.TempDir()
	entries, err := os.ReadDir(policies())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range entries {
		data, err := os.ReadFile(filepath.Join(policies(), f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(store, f.Name()), data, 0o644)
	}
	e := open(t, store, Watch)
	ctx := context.Background()
	zedGet := Request{Principal: zedArn, Action: "s3:GetObject", Resource: zedKey}
	decide := func() Decision {
		d, err := e.Authorize(ctx, zedGet)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	before, _ := e.SnapshotID()
	if decide() != ImplicitDeny {
		t.Fatal("zed before the edit")
	}
	os.WriteFile(filepath.Join(store, "zed.json"), []byte(zed), 0o644)
	waitFor(t, "the watcher to load zed.json", func() bool { id, _ := e.SnapshotID(); return id != before })
	if decide() != Allowed {
		t.Fatal("zed after the edit")
	}
	os.WriteFile(filepath.Join(store, "zed.json"), []byte("{ broken"), 0o644)
	if err := e.Reload(); !errors.Is(err, ErrLoad) || !strings.Contains(err.Error(), "zed.json") {
		t.Fatal("broken edit:", err)
	}
	if decide() != Allowed {
		t.Fatal("the last good snapshot serves")
	}
	os.Remove(filepath.Join(store, "zed.json"))
	waitFor(t, "the watcher to drop zed.json", func() bool { return decide() == ImplicitDeny })
}

func TestFinalizerFreesAnUnclosedEngine(t *testing.T) {
	count := func() int { finalized.Lock(); defer finalized.Unlock(); return finalized.n }
	start := count()
	func() {
		e, err := Open(policies(), Watch)
		if err != nil {
			t.Fatal(err)
		}
		e.Authorize(context.Background(), Request{Principal: "*", Action: "s3:GetObject", Resource: "*"})
	}()
	waitFor(t, "the finalizer", func() bool { runtime.GC(); return count() > start })
}

// BenchmarkAuthorize: the per-call cost through cgo, cycling over the cases of
// ffi/tests/cases.tsv (the same request stream as ffi/bench/overhead.c).
func BenchmarkAuthorize(b *testing.B) {
	e := open(b, policies(), 0)
	all := cases(b)
	ctx := context.Background()
	var sum Decision
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, _ := e.Authorize(ctx, all[i%len(all)].req)
		sum += d
	}
	b.StopTimer()
	if sum == 0 && b.N > len(all) {
		b.Fatal("no decisions")
	}
}

// BenchmarkAuthorizeContextJSON: the same with each context as JSON text (Request.ContextJSON),
// as ffi/bench/overhead.c passes it; BenchmarkAuthorize marshals a map on every call.
func BenchmarkAuthorizeContextJSON(b *testing.B) {
	e := open(b, policies(), 0)
	all := cases(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Authorize(ctx, all[i%len(all)].raw)
	}
}

// BenchmarkCgoFloor: keycard_authorize through cgo with C strings made beforehand, the floor
// the binding's cost is measured against (the same cases, the same cycle).
func BenchmarkCgoFloor(b *testing.B) {
	e := open(b, policies(), 0)
	all := cases(b)
	raw := make([]Request, len(all))
	for i, c := range all {
		raw[i] = c.raw
	}
	floor := floorCases(raw)
	defer freeFloor(floor)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if e.floorAuthorize(&floor[i%len(floor)]) < 0 {
			b.Fatal("error")
		}
	}
}

// BenchmarkAuthorizeParallel: the same from GOMAXPROCS goroutines sharing the engine.
func BenchmarkAuthorizeParallel(b *testing.B) {
	e := open(b, policies(), 0)
	all := cases(b)
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			e.Authorize(ctx, all[i%len(all)].req)
			i++
		}
	})
}
