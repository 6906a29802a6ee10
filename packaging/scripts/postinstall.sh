#!/bin/sh
# postinstall of telegraf-certexpiry (.deb postinst and .rpm %post).
#   deb: $1 = configure, $2 = the version configured before ("" on a first install)
#   rpm: $1 = number of installed versions after this one (1 on a first install)
set -e

SPOOL_DIR=/var/lib/telegraf-certexpiry
GROUP=telegraf

first_install=false
case "$1" in
	configure) [ -z "$2" ] && first_install=true ;;
	1) first_install=true ;;
	[0-9]*) ;;
	*) exit 0 ;; # abort-upgrade, abort-remove, ...: nothing to do
esac

# The spool of the certbot deploy hook: certbot (root) appends renewals, Telegraf (group
# telegraf) delivers and removes them. setgid keeps new files in group telegraf.
if getent group "$GROUP" >/dev/null 2>&1; then
	if [ ! -d "$SPOOL_DIR" ]; then
		install -d -o root -g "$GROUP" -m 2770 "$SPOOL_DIR"
	elif [ "$(stat -c %U:%G "$SPOOL_DIR")" = "root:root" ]; then
		# Created before Telegraf was installed: hand it to Telegraf now.
		chgrp "$GROUP" "$SPOOL_DIR"
		chmod 2770 "$SPOOL_DIR"
		echo "telegraf-certexpiry: $SPOOL_DIR now belongs to group $GROUP (mode 2770)"
	fi
else
	[ -d "$SPOOL_DIR" ] || install -d -o root -g root -m 0700 "$SPOOL_DIR"
	cat <<MSG
telegraf-certexpiry: there is no '$GROUP' group on this host (Telegraf is not installed),
  so the certbot hook's spool $SPOOL_DIR is root's only (mode 0700).
  Once Telegraf is installed, let it deliver the spooled renewals:
    chgrp $GROUP $SPOOL_DIR && chmod 2770 $SPOOL_DIR
  (or reinstall this package, which does the same).
MSG
fi

if $first_install; then
	cat <<'MSG'
telegraf-certexpiry: nothing runs yet. To probe your certificates with Telegraf:
  1. edit /etc/telegraf-certexpiry/plugin.conf (domains and targets; the shipped ones are examples)
  2. cp /usr/share/telegraf-certexpiry/telegraf.d/certexpiry.conf /etc/telegraf/telegraf.d/
  3. restart Telegraf (systemctl restart telegraf)
  Try it first: telegraf-certexpiry check -config /etc/telegraf-certexpiry/plugin.conf
  certbot renewals: edit /etc/telegraf-certexpiry/certbot-hook.toml, then run
    telegraf-certexpiry certbot-hook install
MSG
fi
exit 0
