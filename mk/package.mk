# Installable artefacts: .deb and .rpm (nfpm), an OCI image (no container daemon) and a
# Helm chart (deploy/helm/telegraf-certexpiry).
#
#   make package     dist/telegraf-certexpiry_VERSION_ARCH.deb and .rpm (nfpm, built once and
#                    cached by test/tools/build.sh)
#   make image       dist/telegraf-certexpiry-VERSION-oci.tar: an OCI image layout in a tar
#                    (FROM scratch, the static binary, user 65534), built by packaging/image
#   make test-package  the integration tests of all three (test/package): installs the .deb
#                    on this machine (root), runs it under a real telegraf, removes and purges
#                    it; checks the .rpm with rpm; unpacks and runs the image; helm lint and
#                    template, rendered manifests applied to a real kube-apiserver
#   make test-package-install  only the .deb/.rpm part (make test runs it, see below)
#   make bench-package  cold and warm build times → bench/results/package.txt

.PHONY: package image test-package test-package-install bench-package

# Built once and cached by test/tools/build.sh, alongside the other components.
TOOLS += nfpm helm

DIST        ?= dist
# Package versions must start with a digit: v1.2.3 → 1.2.3, v1.2.3-4-gabc → 1.2.3+4.gabc,
# untagged → 0.0.0+gitSHA.
PKG_VERSION ?= $(shell v=$$(git describe --tags --match 'v[0-9]*' 2>/dev/null) && echo "$${v\#v}" | sed 's/-\([0-9]*\)-g/+\1.g/' || echo "0.0.0+git$$(git rev-parse --short HEAD 2>/dev/null || echo unknown)")
PKG_ARCH    ?= $(shell $(GO) env GOARCH)
STAGE        = $(DIST)/.stage

# One static binary for both packages and the image.
$(STAGE)/telegraf-certexpiry: FORCE
	mkdir -p $(STAGE)
	CGO_ENABLED=0 GOARCH=$(PKG_ARCH) $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./cmd/telegraf-certexpiry

# The host drop-in names the binary where the packages put it. nfpm expands variables in
# version and arch, not in contents' paths: the stage directory is filled in with sed.
package: $(STAGE)/telegraf-certexpiry
	sed 's#/usr/local/bin/telegraf-certexpiry#/usr/bin/telegraf-certexpiry#' deploy/telegraf/certexpiry.conf >$(STAGE)/certexpiry.conf
	grep -q '"/usr/bin/telegraf-certexpiry"' $(STAGE)/certexpiry.conf
	sed 's#$${STAGE}#$(STAGE)#g' packaging/nfpm.yaml >$(STAGE)/nfpm.yaml
	nfpm=$$(test/tools/build.sh nfpm) && for p in deb rpm; do \
		PKG_VERSION='$(PKG_VERSION)' PKG_ARCH=$(PKG_ARCH) $$nfpm package -f $(STAGE)/nfpm.yaml -p $$p -t $(DIST)/ || exit 1; \
	done

image: $(STAGE)/telegraf-certexpiry
	cd packaging/image && CGO_ENABLED=0 $(GO) run . -binary $(abspath $(STAGE)/telegraf-certexpiry) \
		-version '$(VERSION)' -revision '$(shell git rev-parse HEAD 2>/dev/null)' \
		-created '$(shell git log -1 --format=%cI 2>/dev/null || echo 1970-01-01T00:00:00Z)' -arch $(PKG_ARCH) -out $(abspath $(DIST))/telegraf-certexpiry-$(VERSION)-oci.tar

# test/package is a package of the root module, so `make test`'s go test run covers it, except
# the .deb's install into this machine's system: that changes files other tests look at, so it
# runs here, after them (CERTEXPIRY_SYSTEM_INSTALL=1). Needs root.
test-package:
	CERTEXPIRY_INTEGRATION=1 CERTEXPIRY_SYSTEM_INSTALL=1 $(GO) test -count=1 -timeout 20m ./test/package/

test-package-install:
	CERTEXPIRY_INTEGRATION=1 CERTEXPIRY_SYSTEM_INSTALL=1 $(GO) test -count=1 -timeout 20m -run '^TestPackages$$' ./test/package/

TEST_EXTRA += test-package-install

# Cold and warm build times of nfpm, helm and the image writer, and of make package / image
# (≈ 25 min on 2 cores: not part of make bench).
bench-package:
	mkdir -p $(BENCH_OUT)
	test/package/coldbuild.sh >$(BENCH_OUT)/package.txt; status=$$?; cat $(BENCH_OUT)/package.txt; exit $$status
