package keycard

// The cgo floor, for BenchmarkCgoFloor: keycard_authorize called straight through cgo with C
// strings made once, as a C caller holds them. The benchmarks subtract it from the binding's
// cost to show what the binding adds over the C ABI itself, in one process.

// #include <stdlib.h>
// #include "keycard.h"
import "C"

import "unsafe"

type floorCase struct{ p, a, r, c *C.char }

// floorCases makes C strings of requests (ContextJSON as the context); free with freeFloor.
func floorCases(requests []Request) []floorCase {
	out := make([]floorCase, len(requests))
	for i, r := range requests {
		out[i] = floorCase{C.CString(r.Principal), C.CString(r.Action), C.CString(r.Resource), nil}
		if r.ContextJSON != nil {
			out[i].c = C.CString(string(r.ContextJSON))
		}
	}
	return out
}

func freeFloor(cases []floorCase) {
	for _, c := range cases {
		for _, p := range []*C.char{c.p, c.a, c.r, c.c} {
			C.free(unsafe.Pointer(p))
		}
	}
}

// floorAuthorize is one keycard_authorize through cgo, nothing else.
func (e *Engine) floorAuthorize(c *floorCase) int {
	return int(C.keycard_authorize(e.handle, c.p, c.a, c.r, c.c))
}
