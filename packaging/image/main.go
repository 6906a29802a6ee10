// Command image writes the telegraf-certexpiry container image as an OCI image layout packed
// in a tar file (`make image`), without a container daemon: FROM scratch, one layer holding the
// static binary, a non-root user, OCI labels. Load it with any OCI tool, e.g.
//
//	skopeo copy oci-archive:dist/telegraf-certexpiry-VERSION-oci.tar docker://registry.example.com/telegraf-certexpiry:VERSION
//	crane push LAYOUT-DIR registry.example.com/telegraf-certexpiry:VERSION   (the tar unpacked)
//
// The image is meant as an init container: `telegraf-certexpiry install-binary DIR` copies the
// binary into a volume shared with the official telegraf image (deploy/kubernetes).
//
// The output is reproducible: every timestamp is -created (default: the Unix epoch), files are
// written in a fixed order, and gzip output depends only on the input.
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Paths and identity inside the image.
const (
	binaryPath = "/usr/bin/telegraf-certexpiry"
	// nobody: the Kubernetes manifests ask for runAsNonRoot with this numeric user, which
	// needs no /etc/passwd lookup; the files below only name it for tools that show names.
	user = "65534:65534"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "image: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fl := flag.NewFlagSet("image", flag.ContinueOnError)
	binary := fl.String("binary", "", "the static telegraf-certexpiry binary (required)")
	version := fl.String("version", "", "image version: the org.opencontainers.image.version label and the layout's ref name (required)")
	revision := fl.String("revision", "", "source revision for the org.opencontainers.image.revision label")
	arch := fl.String("arch", "amd64", "GOARCH the binary was built for")
	created := fl.String("created", "1970-01-01T00:00:00Z", "image creation time, RFC 3339 (fixed for reproducible output)")
	out := fl.String("out", "", "the OCI layout tar to write (required)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *binary == "" || *version == "" || *out == "" {
		return errors.New("-binary, -version and -out are required")
	}
	when, err := time.Parse(time.RFC3339, *created)
	if err != nil {
		return fmt.Errorf("-created: %w", err)
	}
	img, err := build(*binary, *version, *revision, *arch, when)
	if err != nil {
		return err
	}
	return writeLayoutTar(img, *version, *out, when)
}

// build assembles the image: scratch + one layer, and its config.
func build(binary, version, revision, arch string, created time.Time) (v1.Image, error) {
	bin, err := os.ReadFile(binary)
	if err != nil {
		return nil, err
	}
	layerTar, err := rootFS(bin, created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: v1.Time{Time: created}, CreatedBy: "make image (packaging/image)", Comment: "static telegraf-certexpiry binary"},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS = "linux"
	cf.Architecture = arch
	cf.Created = v1.Time{Time: created}
	cf.Config.Entrypoint = []string{binaryPath}
	// Without arguments the binary would run as a Telegraf input and ask for -config: print
	// the usage (every subcommand) instead.
	cf.Config.Cmd = []string{"-help"}
	cf.Config.User = user
	cf.Config.WorkingDir = "/"
	cf.Config.Labels = labels(version, revision, created)
	return mutate.ConfigFile(img, cf)
}

// labels are the OCI annotation keys, as image labels.
func labels(version, revision string, created time.Time) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":         "telegraf-certexpiry",
		"org.opencontainers.image.description":   "Telegraf execd input probing the TLS certificate of every pod and backend; init container: install-binary DIR copies it next to the official telegraf image",
		"org.opencontainers.image.source":        "https://github.com/telegraf-certexpiry/telegraf-certexpiry",
		"org.opencontainers.image.documentation": "https://github.com/telegraf-certexpiry/telegraf-certexpiry/tree/main/deploy/kubernetes",
		"org.opencontainers.image.version":       version,
		"org.opencontainers.image.created":       created.UTC().Format(time.RFC3339),
	}
	if revision != "" {
		l["org.opencontainers.image.revision"] = revision
	}
	return l
}

// rootFS is the layer's uncompressed tar: the binary and name entries for user nobody.
func rootFS(bin []byte, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(name string) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: mtime, Format: tar.FormatPAX})
	}
	file := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	for _, step := range []func() error{
		func() error { return dir("etc/") },
		func() error { return file("etc/group", 0o644, []byte("nogroup:x:65534:\n")) },
		func() error {
			return file("etc/passwd", 0o644, []byte("nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"))
		},
		func() error { return dir("usr/") },
		func() error { return dir("usr/bin/") },
		func() error { return file(binaryPath[1:], 0o755, bin) },
	} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeLayoutTar writes img as an OCI image layout (index.json, oci-layout, blobs/) into a tar
// file, the form `skopeo copy oci-archive:` reads.
func writeLayoutTar(img v1.Image, version, out string, mtime time.Time) error {
	dir, err := os.MkdirTemp("", "certexpiry-image-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": version,
	})); err != nil {
		return err
	}
	var names []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		names = append(names, path)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(names)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	tw := tar.NewWriter(f)
	for _, path := range names {
		rel, _ := filepath.Rel(dir, path)
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, ModTime: mtime, Format: tar.FormatPAX}
		if st.IsDir() {
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, h.Name+"/", 0o755
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		h.Typeflag, h.Size = tar.TypeReg, int64(len(data))
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}
