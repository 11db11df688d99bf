// codecpeer: an independent implementation of Kopia's compression streams for Ferry's codec tests.
// It uses klauspost/compress — the library Kopia itself compresses with — from Debian's
// golang-github-klauspost-compress-dev, built in GOPATH mode (no module downloads):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o codecpeer ./scripts/peers/codecpeer
//
// Usage: codecpeer MODE [BLOCKSIZE] < input > output, MODE one of
// s2-encode, s2-encode-better, s2-encode-best, snappy-encode, s2-decode,
// zstd-encode-{fastest,default,better,best}, zstd-decode, gzip-encode, gzip-decode, flate-encode, flate-decode.
package main

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "codecpeer:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) < 2 {
		return fmt.Errorf("usage: codecpeer MODE [BLOCKSIZE]")
	}
	mode := os.Args[1]
	blockSize := 1 << 20
	if len(os.Args) > 2 {
		n, err := strconv.Atoi(os.Args[2])
		if err != nil {
			return err
		}
		blockSize = n
	}
	in := os.Stdin
	out := os.Stdout
	switch mode {
	case "s2-encode", "s2-encode-better", "s2-encode-best", "snappy-encode":
		opts := []s2.WriterOption{s2.WriterBlockSize(blockSize), s2.WriterConcurrency(1)}
		switch mode {
		case "s2-encode-better":
			opts = append(opts, s2.WriterBetterCompression())
		case "s2-encode-best":
			opts = append(opts, s2.WriterBestCompression())
		case "snappy-encode":
			opts = append(opts, s2.WriterSnappyCompat())
		}
		w := s2.NewWriter(out, opts...)
		if _, err := io.Copy(w, in); err != nil {
			return err
		}
		return w.Close()
	case "s2-decode":
		_, err := io.Copy(out, s2.NewReader(in))
		return err
	case "zstd-encode-fastest", "zstd-encode-default", "zstd-encode-better", "zstd-encode-best":
		level := map[string]zstd.EncoderLevel{
			"zstd-encode-fastest": zstd.SpeedFastest, "zstd-encode-default": zstd.SpeedDefault,
			"zstd-encode-better": zstd.SpeedBetterCompression, "zstd-encode-best": zstd.SpeedBestCompression,
		}[mode]
		// Streaming writes, as Kopia's compressor does: the frame content size is not recorded.
		w, err := zstd.NewWriter(out, zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(1))
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, in); err != nil {
			return err
		}
		return w.Close()
	case "zstd-decode":
		r, err := zstd.NewReader(in, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return err
		}
		defer r.Close()
		_, err = io.Copy(out, r)
		return err
	case "gzip-encode":
		w := gzip.NewWriter(out)
		if _, err := io.Copy(w, in); err != nil {
			return err
		}
		return w.Close()
	case "gzip-decode":
		r, err := gzip.NewReader(in)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, r)
		return err
	case "flate-encode":
		w, err := flate.NewWriter(out, flate.DefaultCompression)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, in); err != nil {
			return err
		}
		return w.Close()
	case "flate-decode":
		_, err := io.Copy(out, flate.NewReader(in))
		return err
	}
	return fmt.Errorf("unknown mode %q", mode)
}
