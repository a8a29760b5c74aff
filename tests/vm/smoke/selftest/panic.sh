# selftest: a guest panic.
echo c >/proc/sysrq-trigger
sleep 30
