#!/bin/sh
# postremove of telegraf-certexpiry (.deb postrm and .rpm %postun).
#   deb: $1 = remove | purge | upgrade | failed-upgrade | abort-install | ...
#   rpm: $1 = number of versions left installed (0 when the package is erased)
# Removing keeps the user's configuration and the spool (renewals not yet delivered);
# purging (deb) removes them.
set -e

SPOOL_DIR=/var/lib/telegraf-certexpiry
CONF_DIR=/etc/telegraf-certexpiry
DROP_IN=/etc/telegraf/telegraf.d/certexpiry.conf
HOOK=/etc/letsencrypt/renewal-hooks/deploy/telegraf-certexpiry

warn_leftovers() {
	if [ -e "$DROP_IN" ]; then
		echo "telegraf-certexpiry: $DROP_IN still runs the removed binary: delete it and restart Telegraf"
	fi
	if [ -e "$HOOK" ]; then
		echo "telegraf-certexpiry: certbot's deploy hook $HOOK still runs the removed binary: delete it"
	fi
}

case "$1" in
remove)
	warn_leftovers
	echo "telegraf-certexpiry: kept $CONF_DIR and $SPOOL_DIR (dpkg --purge telegraf-certexpiry removes them)"
	;;
purge)
	# dpkg has removed the conffiles; the spool and anything dpkg left beside them go now.
	rm -rf "$SPOOL_DIR"
	rm -f "$CONF_DIR"/*.dpkg-old "$CONF_DIR"/*.dpkg-new "$CONF_DIR"/*.dpkg-dist
	if [ -d "$CONF_DIR" ] && ! rmdir "$CONF_DIR" 2>/dev/null; then
		echo "telegraf-certexpiry: kept $CONF_DIR: it holds files this package did not install:"
		ls -A "$CONF_DIR" | sed 's/^/  /'
	fi
	warn_leftovers
	;;
0)
	# rpm -e: modified configuration files are kept as .rpmsave by rpm itself.
	warn_leftovers
	echo "telegraf-certexpiry: kept $SPOOL_DIR (renewals not yet delivered); remove it with: rm -rf $SPOOL_DIR"
	;;
esac
exit 0
