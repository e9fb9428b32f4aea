# make install, make deb, make test-system (included by the top Makefile).
#
#   make install [PREFIX=/usr/local] [DESTDIR=]   binaries, units, sysusers,
#                      man pages; /etc/evd.ini only when absent
#   make deb           a Debian package (dpkg-buildpackage -us -uc -b),
#                      left as ../evd_<version>_<arch>.deb, then lintian
#   make test-system   the end-to-end test on a real systemd (root; boots a
#                      cached debootstrapped Debian with systemd-nspawn)

PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
BINDIR_INS ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
DOCDIR     ?= $(PREFIX)/share/doc/evd
SYSCONFDIR ?= /etc

.PHONY: install deb test-system

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR_INS) \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)
	install -m 755 $(BINDIR)/evd $(DESTDIR)$(SBINDIR)/evd
	install -m 755 $(BINDIR)/evctl $(BINDIR)/evbench $(DESTDIR)$(BINDIR_INS)/
	install -m 644 packaging/man/evd.8 packaging/man/evctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 packaging/man/evd.ini.5 $(DESTDIR)$(MANDIR)/man5/
	sed 's|/usr/sbin/evd|$(SBINDIR)/evd|g' packaging/systemd/evd.service \
		>$(DESTDIR)$(UNITDIR)/evd.service
	chmod 644 $(DESTDIR)$(UNITDIR)/evd.service
	install -m 644 packaging/systemd/evd.socket $(DESTDIR)$(UNITDIR)/
	install -m 644 packaging/systemd/evd.sysusers $(DESTDIR)$(SYSUSERSDIR)/evd.conf
	install -m 644 packaging/systemd/evd-probes.conf README.md $(DESTDIR)$(DOCDIR)/
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/evd.ini ]; then \
		echo "install: keeping $(DESTDIR)$(SYSCONFDIR)/evd.ini"; \
	else \
		install -m 644 conf/evd.ini $(DESTDIR)$(SYSCONFDIR)/evd.ini; \
	fi

deb:
	dpkg-buildpackage -us -uc -b
	@deb=$$(ls -t ../evd_*.deb | head -1); echo "deb: $$deb"; \
		lintian --no-tag-display-limit "$$deb" || true

test-system: all
	$(Q)BUILD=$(BUILD) BINDIR=$(BINDIR) tests/run system
