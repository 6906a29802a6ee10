package pkgtest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

// The shipped Deployment and DaemonSet run the official telegraf image and get the plugin from
// the image's init container: install-binary writes into an emptyDir, and the telegraf
// container mounts that file where telegraf.conf runs it.
func TestManifestsInstallPluginWithInitContainer(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(t), "deploy", "kubernetes")
	for _, name := range []string{"deployment.yaml", "daemonset.yaml"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			// Both kinds share the pod template's shape; decode just that.
			var obj struct {
				Spec appsv1.DeploymentSpec `json:"spec"`
			}
			if err := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(string(data)), 4096).Decode(&obj); err != nil {
				t.Fatal(err)
			}
			checkInitContainerPattern(t, obj.Spec.Template.Spec, "/usr/local/bin/telegraf-certexpiry")
		})
	}
}

// checkInitContainerPattern checks that spec's first init container copies the binary into an
// emptyDir that the telegraf container mounts as binPath.
func checkInitContainerPattern(t *testing.T, spec corev1.PodSpec, binPath string) {
	t.Helper()
	if len(spec.InitContainers) != 1 || len(spec.Containers) != 1 {
		t.Fatalf("%d init containers, %d containers; want one of each", len(spec.InitContainers), len(spec.Containers))
	}
	ini, tel := spec.InitContainers[0], spec.Containers[0]
	if !strings.HasPrefix(tel.Image, "telegraf:") {
		t.Errorf("telegraf container image %q, want the official telegraf image", tel.Image)
	}
	if len(ini.Args) != 2 || ini.Args[0] != "install-binary" || len(ini.Command) != 0 {
		t.Fatalf("init container command %q args %q, want the image's entrypoint with install-binary DIR", ini.Command, ini.Args)
	}
	var volume string
	for _, m := range ini.VolumeMounts {
		if m.MountPath == ini.Args[1] && !m.ReadOnly {
			volume = m.Name
		}
	}
	if volume == "" {
		t.Fatalf("init container mounts %+v: nothing writable at %s", ini.VolumeMounts, ini.Args[1])
	}
	var emptyDir bool
	for _, v := range spec.Volumes {
		if v.Name == volume && v.EmptyDir != nil {
			emptyDir = true
		}
	}
	if !emptyDir {
		t.Errorf("volume %q is not an emptyDir", volume)
	}
	var mounted []corev1.VolumeMount
	for _, m := range tel.VolumeMounts {
		if m.Name == volume {
			mounted = append(mounted, m)
		}
	}
	want := []corev1.VolumeMount{{Name: volume, MountPath: binPath, SubPath: "telegraf-certexpiry", ReadOnly: true}}
	if !reflect.DeepEqual(mounted, want) {
		t.Errorf("telegraf container mounts of %q: %+v, want %+v", volume, mounted, want)
	}
	sc := ini.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("init container securityContext %+v: want a read-only root and no privilege escalation", sc)
	}
}
