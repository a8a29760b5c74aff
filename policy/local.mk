# Bus policy and polkit actions.
# org.siov1.conf goes to $(dbuspolicydir), by default $(datadir)/dbus-1/system.d:
# with --prefix=/usr that is /usr/share/dbus-1/system.d, which dbus-daemon
# and dbus-broker both read (their shared /usr/share/dbus-1/system.conf has
# <includedir>system.d</includedir>). Under the default prefix /usr/local no
# bus reads it: configure packages with --prefix=/usr (or pass
# --with-dbuspolicydir=/usr/share/dbus-1/system.d).
dist_dbuspolicy_DATA = policy/org.siov1.conf
dist_polkitaction_DATA = policy/org.siov1.policy
# A polkit rule granting the actions to a group: documentation, not
# installed as a rule (who may change devices is the administrator's call).
policyexampledir = $(docdir)/examples
dist_policyexample_DATA = policy/org.siov1.rules.example
