package pkgtest

import (
	"bytes"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/metrictest"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testcerts"
	"github.com/telegraf-certexpiry/telegraf-certexpiry/internal/testenv"
)

const (
	pkgName   = "telegraf-certexpiry"
	binPath   = "/usr/bin/telegraf-certexpiry"
	confDir   = "/etc/telegraf-certexpiry"
	spoolDir  = "/var/lib/telegraf-certexpiry"
	dropIn    = "/usr/share/telegraf-certexpiry/telegraf.d/certexpiry.conf"
	spoolFile = spoolDir + "/certbot-spool.lp"
)

// systemInstallEnv turns on the part that installs the .deb into this machine's system. It
// changes files other tests may look at (/etc/telegraf-certexpiry, the telegraf group), so
// `make test` runs it after every other test, through `make test-package`, rather than in
// parallel with them inside its `go test ./...`.
const systemInstallEnv = "CERTEXPIRY_SYSTEM_INSTALL"

// TestPackages builds the .deb and .rpm with `make package`, reads the .rpm with rpm, and
// (with CERTEXPIRY_SYSTEM_INSTALL=1) installs, runs, removes and purges the .deb on this
// machine.
func TestPackages(t *testing.T) {
	testenv.RequireIntegration(t)
	files := makeTarget(t, "package")
	if files[".deb"] == "" || files[".rpm"] == "" {
		t.Fatalf("make package built %v, want a .deb and an .rpm", files)
	}
	t.Run("rpm", func(t *testing.T) { checkRPM(t, files[".rpm"]) })
	t.Run("deb", func(t *testing.T) { checkDeb(t, files[".deb"]) })
}

// The files every package ships, with mode, owner and whether it is a configuration file.
var wantFiles = map[string]string{
	binPath:                        "-rwxr-xr-x root:root",
	confDir + "/plugin.conf":       "-rw-r--r-- root:root config",
	confDir + "/certbot-hook.toml": "-rw------- root:root config",
	dropIn:                         "-rw-r--r-- root:root",
	"/usr/share/doc/" + pkgName + "/README.md":       "-rw-r--r-- root:root",
	"/usr/share/doc/" + pkgName + "/plugin.md":       "-rw-r--r-- root:root",
	"/usr/share/doc/" + pkgName + "/certbot-hook.md": "-rw-r--r-- root:root",
}

func checkRPM(t *testing.T, rpmFile string) {
	rpm := testenv.Command(t, "rpm", "rpm")
	out := run(t, rpm, "-qlp", "--scripts", rpmFile)
	root := testenv.RepoRoot(t)
	for _, script := range []struct{ header, file string }{
		{"postinstall scriptlet (using /bin/sh):", "postinstall.sh"},
		{"postuninstall scriptlet (using /bin/sh):", "postremove.sh"},
	} {
		body, err := os.ReadFile(filepath.Join(root, "packaging", "scripts", script.file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, script.header+"\n"+string(body)) {
			t.Errorf("rpm -qlp --scripts: no %q followed by packaging/scripts/%s\n%s", script.header, script.file, out)
		}
	}
	// The file list follows the scripts: one absolute path per line.
	var listed []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "/") {
			listed = append(listed, line)
		}
	}
	var want []string
	for path := range wantFiles {
		want = append(want, path)
	}
	sort.Strings(listed)
	sort.Strings(want)
	if !reflect.DeepEqual(listed, want) {
		t.Errorf("rpm file list\n got %q\nwant %q", listed, want)
	}

	// Modes, owners and %config(noreplace), file by file.
	out = run(t, rpm, "-qp", "--qf", `[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILEFLAGS:fflags} %{FILENAMES}\n]`, rpmFile)
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 { // no flags
			f = []string{f[0], f[1], "", f[2]}
		}
		if len(f) != 4 {
			t.Fatalf("rpm --qf line %q", line)
		}
		desc := f[0] + " " + f[1]
		switch f[2] {
		case "":
		case "cn":
			desc += " config"
		case "d":
			// documentation: nfpm marks nothing so; keep it visible if it ever does
			desc += " doc"
		default:
			desc += " flags=" + f[2]
		}
		got[f[3]] = desc
	}
	if !reflect.DeepEqual(got, wantFiles) {
		t.Errorf("rpm files\n got %v\nwant %v", got, wantFiles)
	}
}

func checkDeb(t *testing.T, deb string) {
	if os.Getenv(systemInstallEnv) != "1" {
		t.Skipf("installs the .deb into this machine's system: set %s=1 (make test runs it through make test-package, after the other tests)", systemInstallEnv)
	}
	if os.Geteuid() != 0 {
		t.Fatal("installing the .deb needs root (CI runs as root); run `make test-package` as root")
	}
	testenv.Command(t, "dpkg", "dpkg")
	telegrafBin := testenv.Binary(t, "telegraf")
	if out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", pkgName).Output(); err == nil {
		t.Fatalf("%s is already known to dpkg on this machine (%s); this test installs and purges it: purge it first", pkgName, out)
	}
	for _, dir := range []string{confDir, spoolDir} {
		if _, err := os.Lstat(dir); err == nil {
			t.Fatalf("%s exists on this machine; this test would purge it: move it away first", dir)
		}
	}
	_, err := user.LookupGroup("telegraf")
	hadGroup := err == nil
	t.Cleanup(func() {
		if out, err := exec.Command("dpkg", "--purge", pkgName).CombinedOutput(); err != nil {
			t.Errorf("clean-up: dpkg --purge: %v\n%s", err, out)
		}
		if !hadGroup {
			exec.Command("groupdel", "telegraf").Run()
		}
	})

	if hadGroup {
		t.Log("a telegraf group exists on this machine: the install without it is not exercised")
	} else {
		out := run(t, "dpkg", "-i", deb)
		for _, want := range []string{
			"there is no 'telegraf' group on this host",
			"chgrp telegraf /var/lib/telegraf-certexpiry && chmod 2770 /var/lib/telegraf-certexpiry",
			"nothing runs yet",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("dpkg -i without a telegraf group: output lacks %q:\n%s", want, out)
			}
		}
		checkDir(t, spoolDir, 0o700, "root", "root")
		run(t, "groupadd", "--system", "telegraf")
		// Reinstalling (what a user does after installing Telegraf) hands the spool to Telegraf.
		out = run(t, "dpkg", "-i", deb)
		if want := "/var/lib/telegraf-certexpiry now belongs to group telegraf (mode 2770)"; !strings.Contains(out, want) {
			t.Errorf("dpkg -i again with a telegraf group: output lacks %q:\n%s", want, out)
		}
		if strings.Contains(out, "nothing runs yet") {
			t.Errorf("the first-install notes were repeated on reinstall:\n%s", out)
		}
		checkDir(t, spoolDir, os.ModeSetgid|0o770, "root", "telegraf")
		run(t, "dpkg", "--purge", pkgName)
	}

	out := run(t, "dpkg", "-i", deb)
	if strings.Contains(out, "no 'telegraf' group") {
		t.Errorf("dpkg -i with a telegraf group complains about it:\n%s", out)
	}
	checkDir(t, spoolDir, os.ModeSetgid|0o770, "root", "telegraf")
	checkInstalledFiles(t)

	srv := startTLS(t, "pkg.test")
	hookScript := installCertbotHook(t)
	runCertbotHook(t, hookScript, "pkg.test")

	// The user's part: plugin.conf edited for their targets, the drop-in enabled.
	pluginConf := "[[inputs.certexpiry]]\n" +
		"  domains = [\"pkg.test\"]\n" +
		"  ports = [" + strconv.Itoa(srv.Port()) + "]\n" +
		"  gather_timeout = \"5s\"\n" +
		"  certbot_spool = \"" + spoolFile + "\"\n" +
		"  [[inputs.certexpiry.target]]\n" +
		"    address = \"127.0.0.1\"\n"
	if err := os.WriteFile(confDir+"/plugin.conf", []byte(pluginConf), 0o644); err != nil {
		t.Fatal(err)
	}
	rows := runTelegrafDropIn(t, telegrafBin)
	wantRows := []string{
		"cert_expiry address=127.0.0.1,domain=pkg.test,port=" + strconv.Itoa(srv.Port()) + ",source=static,status=valid",
		"certbot_renewal domain=all,host=pkg-host",
		"certbot_renewal domain=pkg.test,host=pkg-host",
	}
	if !reflect.DeepEqual(rows, wantRows) {
		t.Errorf("rows from telegraf running the installed drop-in\n got %q\nwant %q", rows, wantRows)
	}
	if data, err := os.ReadFile(spoolFile); err != nil || len(data) != 0 {
		t.Errorf("spool after delivery through Telegraf: %q, %v; want empty", data, err)
	}

	// Remove: the binary goes, the user's configuration and the spool stay.
	out = run(t, "dpkg", "-r", pkgName)
	if want := "kept /etc/telegraf-certexpiry and /var/lib/telegraf-certexpiry"; !strings.Contains(out, want) {
		t.Errorf("dpkg -r: output lacks %q:\n%s", want, out)
	}
	for _, gone := range []string{binPath, dropIn} {
		if _, err := os.Lstat(gone); !os.IsNotExist(err) {
			t.Errorf("after dpkg -r, %s: %v (want gone)", gone, err)
		}
	}
	if data, err := os.ReadFile(confDir + "/plugin.conf"); err != nil || string(data) != pluginConf {
		t.Errorf("after dpkg -r, the edited plugin.conf: %q, %v", data, err)
	}
	if _, err := os.Stat(confDir + "/certbot-hook.toml"); err != nil {
		t.Errorf("after dpkg -r: %v", err)
	}
	checkDir(t, spoolDir, os.ModeSetgid|0o770, "root", "telegraf")

	// Purge: configuration and spool go too.
	run(t, "dpkg", "--purge", pkgName)
	for _, gone := range []string{confDir, spoolDir, "/usr/share/telegraf-certexpiry", "/usr/share/doc/" + pkgName} {
		if _, err := os.Lstat(gone); !os.IsNotExist(err) {
			t.Errorf("after dpkg --purge, %s: %v (want gone)", gone, err)
		}
	}
	if out, err := exec.Command("dpkg-query", "-W", pkgName).CombinedOutput(); err == nil {
		t.Errorf("after dpkg --purge dpkg still knows the package: %s", out)
	}
}

// checkInstalledFiles compares what dpkg installed with the package's file list, and checks
// that nothing lands in Telegraf's own configuration directory.
func checkInstalledFiles(t *testing.T) {
	t.Helper()
	for path, want := range wantFiles {
		st, err := os.Lstat(path)
		if err != nil {
			t.Errorf("installed file: %v", err)
			continue
		}
		want, _, _ = strings.Cut(want, " ")
		if got := st.Mode().String(); got != want {
			t.Errorf("%s: mode %s, want %s", path, got, want)
		}
	}
	for _, path := range strings.Fields(run(t, "dpkg", "-L", pkgName)) {
		if strings.HasPrefix(path, "/etc/telegraf/") || path == "/etc/telegraf" {
			t.Errorf("the package installs %s: Telegraf would start probing the example targets", path)
		}
	}
	conffiles := run(t, "dpkg-query", "-W", "-f=${Conffiles}", pkgName)
	for _, path := range []string{confDir + "/plugin.conf", confDir + "/certbot-hook.toml"} {
		if !strings.Contains(conffiles, " "+path+" ") {
			t.Errorf("%s is not a conffile: %q", path, conffiles)
		}
	}
}

func checkDir(t *testing.T, path string, mode os.FileMode, owner, group string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Error(err)
		return
	}
	sys := st.Sys().(*syscall.Stat_t)
	u, _ := user.LookupId(strconv.Itoa(int(sys.Uid)))
	g, _ := user.LookupGroupId(strconv.Itoa(int(sys.Gid)))
	var uname, gname string
	if u != nil {
		uname = u.Username
	}
	if g != nil {
		gname = g.Name
	}
	if !st.IsDir() || st.Mode()&(os.ModePerm|os.ModeSetgid) != mode || uname != owner || gname != group {
		t.Errorf("%s: %v %s:%s, want a directory %v %s:%s", path, st.Mode(), uname, gname, os.ModeDir|mode, owner, group)
	}
}

func startTLS(t *testing.T, domain string) *testcerts.Server {
	t.Helper()
	now := time.Now()
	leaf, err := testcerts.SelfSigned(testcerts.Options{CommonName: domain, DNSNames: []string{domain}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(30 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := testcerts.ServeLeaf("127.0.0.1:0", leaf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	lineage := filepath.Join(t.TempDir(), "live", domain)
	if err := os.MkdirAll(lineage, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lineage, "cert.pem"), leaf.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_LINEAGE", lineage)
	return srv
}

// installCertbotHook runs `certbot-hook install` from the installed binary with the packaged
// settings file, into a certbot deploy hook directory of the test's own.
func installCertbotHook(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	out := run(t, binPath, "certbot-hook", "install", "--dir", dir)
	script := filepath.Join(dir, "telegraf-certexpiry")
	data, err := os.ReadFile(script)
	if err != nil {
		t.Fatalf("certbot-hook install said %q, but: %v", out, err)
	}
	if want := "exec '/usr/bin/telegraf-certexpiry' certbot-hook -config '/etc/telegraf-certexpiry/certbot-hook.toml'\n"; !strings.HasSuffix(string(data), want) {
		t.Errorf("installed hook script:\n%s\nwant it to end with %q", data, want)
	}
	return script
}

// runCertbotHook runs the installed hook script as certbot would after a renewal: the packaged
// settings (every key commented out) spool the renewal for Telegraf.
func runCertbotHook(t *testing.T, script, domain string) {
	t.Helper()
	cmd := exec.Command(script)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "RENEWED_DOMAINS=" + domain, "RENEWED_LINEAGE=" + os.Getenv("TEST_LINEAGE"), "CERTEXPIRY_HOOK_HOST=pkg-host"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() != 0 {
		t.Fatalf("deploy hook: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if want := "spooled 2 lines to " + spoolFile; !strings.Contains(stdout.String(), want) {
		t.Errorf("deploy hook said %q, want %q", stdout.String(), want)
	}
}

// runTelegrafDropIn enables the installed drop-in in a telegraf.d directory of the test's own
// (as `cp` into /etc/telegraf/telegraf.d does) and runs a real telegraf once; it returns the rows
// as "measurement tags", sorted.
func runTelegrafDropIn(t *testing.T, telegrafBin string) []string {
	t.Helper()
	confD := t.TempDir()
	data, err := os.ReadFile(dropIn)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(confD, "certexpiry.conf"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(t.TempDir(), "telegraf.conf")
	if err := os.WriteFile(main, []byte("[agent]\n  omit_hostname = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(telegrafBin, "--config", main, "--config-directory", confD, "--test", "--test-wait", "5")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("telegraf: %v\nstderr:\n%s", err, stderr.String())
	}
	parsed, err := metrictest.ParseLineProtocol([]byte(strings.ReplaceAll(stdout.String(), "> ", "")))
	if err != nil {
		t.Fatalf("parsing telegraf's output: %v\n%s", err, stdout.String())
	}
	var rows []string
	for _, r := range parsed {
		rows = append(rows, r.Measurement+" "+metrictest.TagLine(r.Tags))
	}
	sort.Strings(rows)
	if len(rows) == 0 {
		t.Logf("telegraf stderr:\n%s", stderr.String())
	}
	return rows
}
