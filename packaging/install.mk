# make install, make deb, make test-system (included by the top Makefile).
#
#   make install [PREFIX=/usr/local] [DESTDIR=]   binaries, systemd units,
#                      sysusers.d and tmpfiles.d entries, man pages, bash
#                      completions, docs;
#                      /etc/evd.ini only when absent (an edited one stays)
#   make deb           the Debian package (dpkg-buildpackage -us -uc -b),
#                      moved to ./evd_<version>_<arch>.deb, then lintian
#   make test-system   the end-to-end test on a real systemd (root; boots a
#                      cached debootstrapped Debian 12 with systemd-nspawn;
#                      builds the package first)
#
# Everything lands under $(DESTDIR)$(PREFIX) but the configuration
# ($(SYSCONFDIR), default /etc).  Units go to $(PREFIX)/lib/systemd/system,
# which systemd reads for PREFIX=/usr and PREFIX=/usr/local alike, as do
# systemd-sysusers and systemd-tmpfiles for their directories.

PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
BINDIR_INS  ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
DOCDIR      ?= $(PREFIX)/share/doc/evd
# Files evd needs at run time besides its binary (the probes' drop-in):
# evd finds them from its own path (PREFIX/sbin/evd -> PREFIX/share/evd).
DATADIR     ?= $(PREFIX)/share/evd
# bash-completion loads completions/NAME from each XDG_DATA_DIRS entry:
# /usr/share and /usr/local/share alike.
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
SYSCONFDIR  ?= /etc
INSTALL     ?= install

# Evaluated only where used (deb, test-system).
DEB_VERSION  = $(shell dpkg-parsechangelog -S Version 2>/dev/null)
DEB_ARCH     = $(shell dpkg-architecture -qDEB_HOST_ARCH 2>/dev/null)
DEB          = evd_$(DEB_VERSION)_$(DEB_ARCH).deb

.PHONY: install deb test-system test-build

install: all
	$(Q)$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR_INS) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(SYSCONFDIR) \
		$(DESTDIR)$(COMPLETIONDIR)
	$(Q)$(INSTALL) -m 755 $(BINDIR)/evd $(DESTDIR)$(SBINDIR)/evd
	$(Q)$(INSTALL) -m 755 $(BINDIR)/evctl $(BINDIR)/evbench $(DESTDIR)$(BINDIR_INS)/
	$(Q)$(INSTALL) -m 644 packaging/man/evbench.1 $(DESTDIR)$(MANDIR)/man1/
	$(Q)$(INSTALL) -m 644 packaging/man/evd.ini.5 $(DESTDIR)$(MANDIR)/man5/
	$(Q)$(INSTALL) -m 644 packaging/man/evd.8 packaging/man/evctl.8 \
		$(DESTDIR)$(MANDIR)/man8/
	$(Q)$(INSTALL) -m 644 packaging/completion/evd packaging/completion/evctl \
		packaging/completion/evbench $(DESTDIR)$(COMPLETIONDIR)/
	$(Q)sed -e 's|/usr/sbin/evd|$(SBINDIR)/evd|g' \
		-e 's|/usr/bin/evctl|$(BINDIR_INS)/evctl|g' packaging/systemd/evd.service \
		>$(DESTDIR)$(UNITDIR)/evd.service.tmp
	$(Q)chmod 644 $(DESTDIR)$(UNITDIR)/evd.service.tmp
	$(Q)mv $(DESTDIR)$(UNITDIR)/evd.service.tmp $(DESTDIR)$(UNITDIR)/evd.service
	$(Q)$(INSTALL) -m 644 packaging/systemd/evd.socket $(DESTDIR)$(UNITDIR)/
	$(Q)$(INSTALL) -m 644 packaging/systemd/evd.sysusers \
		$(DESTDIR)$(SYSUSERSDIR)/evd.conf
	$(Q)$(INSTALL) -m 644 packaging/systemd/evd.tmpfiles \
		$(DESTDIR)$(TMPFILESDIR)/evd.conf
	$(Q)$(INSTALL) -m 644 packaging/systemd/evd-probes.conf $(DESTDIR)$(DATADIR)/
	$(Q)$(INSTALL) -m 644 README.md $(DESTDIR)$(DOCDIR)/
	$(Q)if [ -e $(DESTDIR)$(SYSCONFDIR)/evd.ini ]; then \
		echo "install: keeping $(DESTDIR)$(SYSCONFDIR)/evd.ini" \
		     "(the new default: $(DESTDIR)$(DOCDIR)/evd.ini)"; \
	else \
		$(INSTALL) -m 644 conf/evd.ini $(DESTDIR)$(SYSCONFDIR)/evd.ini; \
	fi
	$(Q)$(INSTALL) -m 644 conf/evd.ini $(DESTDIR)$(DOCDIR)/evd.ini
	$(Q)if [ -z "$(DESTDIR)" ]; then \
		echo "install: done; now: systemd-sysusers && systemd-tmpfiles" \
		     "--create evd.conf && systemctl daemon-reload &&" \
		     "systemctl enable --now evd"; \
	fi

# The package is built from the tree (debian/rules runs `make all` and
# `make install` with BUILD=debian/build, so the tree's own build stays);
# dpkg-buildpackage leaves it in the parent directory: it is moved here.
# lintian's tags are printed, never fatal.
deb:
	$(Q)command -v dpkg-buildpackage >/dev/null || \
		{ echo "deb: dpkg-buildpackage missing: run packaging/deps.sh --package" >&2; exit 1; }
	$(Q)echo "deb: dpkg-buildpackage -us -uc -b (log: deb.log)"
	$(Q)dpkg-buildpackage -us -uc -b >deb.log 2>&1 || \
		{ tail -30 deb.log >&2; \
		  echo "deb: dpkg-buildpackage failed (whole log: deb.log)" >&2; exit 1; }
	$(Q)mv ../$(DEB) ../evd-dbgsym_$(DEB_VERSION)_$(DEB_ARCH).deb . 2>/dev/null; \
		rm -f ../evd_$(DEB_VERSION)_$(DEB_ARCH).buildinfo \
		      ../evd_$(DEB_VERSION)_$(DEB_ARCH).changes
	$(Q)test -f $(DEB) && echo "deb: $(DEB)"
	$(Q)echo "lintian:"; lintian --tag-display-limit 0 -I -E --pedantic $(DEB) || true

test-system: all
	$(Q)test -f $(DEB) -a $(DEB) -nt $(BINDIR)/evd || $(MAKE) --no-print-directory deb
	$(Q)EVD_DEB=$(CURDIR)/$(DEB) BUILD=$(BUILD) BINDIR=$(BINDIR) tests/run system

# Everything the suites need, built but not run: CI builds with this, then
# runs tests/run itself so that its tally is the last line of the output.
test-build: all $(UNIT_BINS) $(TOOL_BINS)
