// Regenerates the byte table in Sources/Kopia/Write/Buzhash32Table.swift.
//
// Kopia's DYNAMIC-*-BUZHASH splitters use github.com/chmduquesne/rollinghash v4.0.0 buzhash32.New(), whose
// table is GenerateHashes(1): Go's legacy math/rand source seeded with 1, uint32(Int63()), a value already
// drawn is redrawn. Run: GO111MODULE=off go run scripts/dev/buzhash-table.go
package main

import (
	"fmt"
	"math/rand"
)

func main() {
	r := rand.New(rand.NewSource(1))
	used := map[uint32]bool{}
	var t [256]uint32
	for i := range t {
		x := uint32(r.Int63())
		for used[x] {
			x = uint32(r.Int63())
		}
		used[x] = true
		t[i] = x
	}
	for i := 0; i < 256; i += 8 {
		fmt.Print("       ")
		for j := i; j < i+8; j++ {
			fmt.Printf(" 0x%08x,", t[j])
		}
		fmt.Println()
	}
}
