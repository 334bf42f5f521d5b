// Command thumbnails makes thumbnails on the background pool, the pool a
// program's C and C++ code would share.
//
// A Group scales a set of images in parallel with errgroup semantics: the
// first image that fails to decode cancels the images not yet started. A
// fire-and-forget Spawn warms a cache meanwhile. The program checks its own
// results and exits non-zero if they are wrong, so it doubles as a test.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"os"
	"sync"
	"sync/atomic"

	background "github.com/background-lib/background/bindings/go"
)

const (
	side  = 256 // source images are side×side
	thumb = 32  // thumbnails are thumb×thumb
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	sources := make([][]byte, 24)
	for i := range sources {
		sources[i] = encode(gradient(i))
	}

	// Fire and forget: warm a cache of decoded sources while the thumbnails
	// are made; a failure here would go to the error handler, not crash.
	var cache sync.Map
	warmed := make(chan struct{})
	background.Spawn(func() {
		defer close(warmed)
		for i, src := range sources[:4] {
			if img, err := png.Decode(bytes.NewReader(src)); err == nil {
				cache.Store(i, img)
			}
		}
	})

	// Every image decodes: all thumbnails are made.
	thumbs, err := makeThumbnails(context.Background(), sources)
	if err != nil {
		return fmt.Errorf("thumbnails of good images: %w", err)
	}
	const box = side / thumb // each thumbnail pixel averages a box×box block
	for i, th := range thumbs {
		if want := gradient(i).At(side/2+box/2, side/2+box/2); !near(th.At(thumb/2, thumb/2), want) {
			return fmt.Errorf("thumbnail %d: centre %v, want about %v", i, th.At(thumb/2, thumb/2), want)
		}
	}
	fmt.Printf("made %d thumbnails of %dx%d on %d threads\n", len(thumbs), thumb, thumb, background.Threads())

	// One corrupt image: the group stops starting the others.
	bad := append([][]byte(nil), sources...)
	bad[0] = []byte("not a png")
	started := atomic.Int32{}
	_, err = makeThumbnailsCounting(context.Background(), bad, &started)
	if err == nil || !errors.Is(err, errCorrupt) {
		return fmt.Errorf("thumbnails with a corrupt image: %v, want a decode error", err)
	}
	fmt.Printf("with one bad input: %v; %d of %d images were started\n", err, started.Load(), len(bad))

	<-warmed
	n := 0
	cache.Range(func(any, any) bool { n++; return true })
	if n != 4 {
		return fmt.Errorf("cache warmed with %d of 4 images", n)
	}
	fmt.Printf("cache warmed with %d decoded images\n", n)
	return nil
}

var errCorrupt = errors.New("corrupt image")

func makeThumbnails(ctx context.Context, sources [][]byte) ([]image.Image, error) {
	var started atomic.Int32
	return makeThumbnailsCounting(ctx, sources, &started)
}

// makeThumbnailsCounting scales every source on the pool; started counts
// the tasks that began.
func makeThumbnailsCounting(ctx context.Context, sources [][]byte, started *atomic.Int32) ([]image.Image, error) {
	g, ctx, err := background.GroupWithContext(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]image.Image, len(sources))
	for i, src := range sources {
		i, src := i, src
		g.Go(func() error {
			started.Add(1)
			if ctx.Err() != nil { // a task already running sees the cancellation too
				return ctx.Err()
			}
			img, err := png.Decode(bytes.NewReader(src))
			if err != nil {
				return fmt.Errorf("image %d: %w (%v)", i, errCorrupt, err)
			}
			out[i] = scale(img, thumb)
			return nil
		})
	}
	return out, g.Wait()
}

// scale shrinks img to n×n, each pixel the mean of the box it covers.
func scale(img image.Image, n int) image.Image {
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			x0, x1 := b.Min.X+x*b.Dx()/n, b.Min.X+(x+1)*b.Dx()/n
			y0, y1 := b.Min.Y+y*b.Dy()/n, b.Min.Y+(y+1)*b.Dy()/n
			var r, g, bl, a, count uint64
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					cr, cg, cb, ca := img.At(sx, sy).RGBA()
					r, g, bl, a, count = r+uint64(cr), g+uint64(cg), bl+uint64(cb), a+uint64(ca), count+1
				}
			}
			dst.Set(x, y, color.RGBA64{uint16(r / count), uint16(g / count), uint16(bl / count), uint16(a / count)})
		}
	}
	return dst
}

// gradient is source image i: a diagonal gradient tinted by i.
func gradient(i int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(i * 10), 255})
		}
	}
	return img
}

func encode(img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return buf.Bytes()
}

// near reports whether two colours differ by at most a few levels per channel.
func near(a, b color.Color) bool {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	d := func(x, y uint32) bool { return x-y < 4<<8 || y-x < 4<<8 }
	return d(ar, br) && d(ag, bg) && d(ab, bb)
}
