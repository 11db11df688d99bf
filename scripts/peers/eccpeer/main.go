// eccpeer: an independent Reed-Solomon encoder for Ferry's error-correction tests. It uses
// klauspost/reedsolomon — the library Kopia's REED-SOLOMON-CRC32 layer (repo/ecc) is built on — from Debian's
// golang-github-klauspost-reedsolomon-dev, built in GOPATH mode (no module downloads):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o eccpeer ./scripts/peers/eccpeer
//
// Usage:
//
//	eccpeer parity D P S < blocks > parity
//	    stdin holds whole blocks of D*S bytes; for each block, writes its P parity shards (P*S bytes).
//	eccpeer reconstruct D P S MISSING... < shards > data
//	    stdin holds one block's D+P shards of S bytes; the shards listed in MISSING are dropped (set to nil)
//	    and the D data shards are rebuilt with ReconstructData and written.
package main

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/klauspost/reedsolomon"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "eccpeer:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) < 5 {
		return fmt.Errorf("usage: eccpeer parity|reconstruct D P S [MISSING...]")
	}
	var n [3]int
	for i := range n {
		v, err := strconv.Atoi(os.Args[2+i])
		if err != nil {
			return err
		}
		n[i] = v
	}
	d, p, s := n[0], n[1], n[2]
	enc, err := reedsolomon.New(d, p, reedsolomon.WithMaxGoroutines(1))
	if err != nil {
		return err
	}
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	switch os.Args[1] {
	case "parity":
		if len(in)%(d*s) != 0 {
			return fmt.Errorf("input is not whole blocks")
		}
		for pos := 0; pos < len(in); pos += d * s {
			shards := make([][]byte, d+p)
			for i := 0; i < d; i++ {
				shards[i] = in[pos+i*s : pos+(i+1)*s]
			}
			for i := 0; i < p; i++ {
				shards[d+i] = make([]byte, s)
			}
			if err := enc.Encode(shards); err != nil {
				return err
			}
			for i := 0; i < p; i++ {
				if _, err := os.Stdout.Write(shards[d+i]); err != nil {
					return err
				}
			}
		}
	case "reconstruct":
		if len(in) != (d+p)*s {
			return fmt.Errorf("input is not one block of shards")
		}
		shards := make([][]byte, d+p)
		for i := range shards {
			shards[i] = in[i*s : (i+1)*s]
		}
		for _, a := range os.Args[5:] {
			k, err := strconv.Atoi(a)
			if err != nil {
				return err
			}
			shards[k] = nil
		}
		if err := enc.ReconstructData(shards); err != nil {
			return err
		}
		for i := 0; i < d; i++ {
			if _, err := os.Stdout.Write(shards[i]); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unknown mode %q", os.Args[1])
	}
	return nil
}
