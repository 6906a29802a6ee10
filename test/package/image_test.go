package pkgtest

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// The parts of the OCI image layout, manifest and config the test reads (image-spec v1.1).
type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations"`
}

type ociIndex struct {
	SchemaVersion int             `json:"schemaVersion"`
	Manifests     []ociDescriptor `json:"manifests"`
}

type ociManifest struct {
	MediaType string          `json:"mediaType"`
	Config    ociDescriptor   `json:"config"`
	Layers    []ociDescriptor `json:"layers"`
}

type ociConfig struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Config       struct {
		Entrypoint []string          `json:"Entrypoint"`
		Cmd        []string          `json:"Cmd"`
		User       string            `json:"User"`
		Env        []string          `json:"Env"`
		Labels     map[string]string `json:"Labels"`
	} `json:"config"`
	RootFS struct {
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
}

// TestImage builds the image with `make image`, reads it as an OCI runtime would (index →
// manifest → config and layer, every blob checked against its digest), unpacks the layer and
// runs the binary from the unpacked root file system as the image's user: install-binary into
// a shared directory, then the copy.
func TestImage(t *testing.T) {
	testenv.RequireIntegration(t)
	archive := makeTarget(t, "image")["-oci.tar"]
	if archive == "" {
		t.Fatal("make image wrote no *-oci.tar")
	}
	layoutDir := t.TempDir()
	untar(t, archive, layoutDir, false)

	var marker struct {
		Version string `json:"imageLayoutVersion"`
	}
	if readJSON(t, filepath.Join(layoutDir, "oci-layout"), &marker); marker.Version != "1.0.0" {
		t.Errorf("oci-layout: imageLayoutVersion %q", marker.Version)
	}
	var index ociIndex
	readJSON(t, filepath.Join(layoutDir, "index.json"), &index)
	if index.SchemaVersion != 2 || len(index.Manifests) != 1 {
		t.Fatalf("index.json: %+v, want one manifest", index)
	}
	version := strings.TrimSpace(run(t, "git", "-C", testenv.RepoRoot(t), "describe", "--tags", "--always", "--dirty"))
	if got := index.Manifests[0].Annotations["org.opencontainers.image.ref.name"]; got != version {
		t.Errorf("ref name %q, want the version %q", got, version)
	}
	var manifest ociManifest
	readJSON(t, blob(t, layoutDir, index.Manifests[0]), &manifest)
	if manifest.MediaType != "application/vnd.oci.image.manifest.v1+json" || manifest.Config.MediaType != "application/vnd.oci.image.config.v1+json" {
		t.Errorf("manifest media types: %+v", manifest)
	}
	if len(manifest.Layers) != 1 || manifest.Layers[0].MediaType != "application/vnd.oci.image.layer.v1.tar+gzip" {
		t.Fatalf("layers %+v: want one gzip OCI layer (FROM scratch)", manifest.Layers)
	}
	var cfg ociConfig
	readJSON(t, blob(t, layoutDir, manifest.Config), &cfg)
	if cfg.OS != "linux" || cfg.Architecture != runtimeArch(t) {
		t.Errorf("platform %s/%s", cfg.OS, cfg.Architecture)
	}
	if !reflect.DeepEqual(cfg.Config.Entrypoint, []string{"/usr/bin/telegraf-certexpiry"}) || !reflect.DeepEqual(cfg.Config.Cmd, []string{"-help"}) {
		t.Errorf("entrypoint %q cmd %q", cfg.Config.Entrypoint, cfg.Config.Cmd)
	}
	if cfg.Config.User != "65534:65534" {
		t.Errorf("user %q, want 65534:65534 (numeric, non-root: runAsNonRoot can check it)", cfg.Config.User)
	}
	var labelKeys []string
	for k := range cfg.Config.Labels {
		labelKeys = append(labelKeys, k)
	}
	sort.Strings(labelKeys)
	wantKeys := []string{"org.opencontainers.image.created", "org.opencontainers.image.description", "org.opencontainers.image.documentation",
		"org.opencontainers.image.revision", "org.opencontainers.image.source", "org.opencontainers.image.title", "org.opencontainers.image.version"}
	if !reflect.DeepEqual(labelKeys, wantKeys) {
		t.Errorf("labels %v, want %v", labelKeys, wantKeys)
	}
	head := strings.TrimSpace(run(t, "git", "-C", testenv.RepoRoot(t), "rev-parse", "HEAD"))
	if l := cfg.Config.Labels; l["org.opencontainers.image.version"] != version || l["org.opencontainers.image.revision"] != head || l["org.opencontainers.image.title"] != "telegraf-certexpiry" {
		t.Errorf("labels %v: want version %s, revision %s", l, version, head)
	}

	// The layer: its gzip blob matches the manifest's digest, its tar the config's diff_id.
	rootfs := t.TempDir()
	layerPath := blob(t, layoutDir, manifest.Layers[0])
	if diffID := gunzipDigest(t, layerPath); len(cfg.RootFS.DiffIDs) != 1 || cfg.RootFS.DiffIDs[0] != diffID {
		t.Errorf("diff_ids %v, uncompressed layer is %s", cfg.RootFS.DiffIDs, diffID)
	}
	entries := untar(t, layerPath, rootfs, true)
	wantEntries := []string{"etc/", "etc/group", "etc/passwd", "usr/", "usr/bin/", "usr/bin/telegraf-certexpiry 0755 0:0"}
	if !reflect.DeepEqual(entries, wantEntries) {
		t.Errorf("layer holds %q, want %q", entries, wantEntries)
	}
	bin := filepath.Join(rootfs, "usr", "bin", "telegraf-certexpiry")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has an ELF interpreter: dynamically linked, it cannot run FROM scratch")
		}
	}
	f.Close()

	// The init container's job, as the image's user: copy the binary into a shared volume
	// (an emptyDir is world-writable), then the copy runs.
	shared := t.TempDir()
	if err := os.Chmod(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	asNobody := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = rootfs
		if os.Geteuid() == 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %q: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	if err := os.Chmod(rootfs, 0o755); err != nil {
		t.Fatal(err)
	}
	// t.TempDir's parent is 0700: let user 65534 reach the unpacked image.
	if err := os.Chmod(filepath.Dir(rootfs), 0o711); err != nil {
		t.Fatal(err)
	}
	out := asNobody(bin, "install-binary", shared)
	if !strings.HasPrefix(out, "install-binary: wrote "+filepath.Join(shared, "telegraf-certexpiry")+" (") || !strings.HasSuffix(out, "version "+version+")\n") {
		t.Errorf("install-binary said %q", out)
	}
	if out := asNobody(filepath.Join(shared, "telegraf-certexpiry"), "-version"); !strings.HasPrefix(out, "telegraf-certexpiry "+version+" (go") {
		t.Errorf("the copied binary's -version: %q", out)
	}
}

func runtimeArch(t *testing.T) string {
	return strings.TrimSpace(run(t, "go", "env", "GOARCH"))
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, data)
	}
}

// blob returns the path of a descriptor's blob after checking its size and digest.
func blob(t *testing.T, layoutDir string, d ociDescriptor) string {
	t.Helper()
	algo, hexDigest, ok := strings.Cut(d.Digest, ":")
	if !ok || algo != "sha256" {
		t.Fatalf("digest %q", d.Digest)
	}
	path := filepath.Join(layoutDir, "blobs", "sha256", hexDigest)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != hexDigest || int64(len(data)) != d.Size {
		t.Fatalf("blob %s: %d bytes with sha256 %x, descriptor says %d", d.Digest, len(data), sum, d.Size)
	}
	return path
}

func gunzipDigest(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, zr); err != nil {
		t.Fatal(err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// untar extracts a tar (gzipped when gz) into dir and lists its entries: directories as
// "name/", regular files as "name" or, when executable, "name MODE UID:GID".
func untar(t *testing.T, path, dir string, gz bool) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if gz {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	tr := tar.NewReader(r)
	var entries []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return entries
		}
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Clean(h.Name)
		if filepath.IsAbs(name) || strings.HasPrefix(name, "..") {
			t.Fatalf("tar entry %q escapes the root", h.Name)
		}
		target := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			entries = append(entries, name+"/")
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			e := name
			if h.Mode&0o111 != 0 {
				e += " " + strconvOctal(h.Mode) + " " + itoa(h.Uid) + ":" + itoa(h.Gid)
			}
			entries = append(entries, e)
			out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&os.ModePerm)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(out, tr); err != nil {
				t.Fatal(err)
			}
			out.Close()
		default:
			t.Fatalf("tar entry %q of type %c: the image holds only directories and files", h.Name, h.Typeflag)
		}
	}
}
