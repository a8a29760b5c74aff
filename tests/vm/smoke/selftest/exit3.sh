# selftest: the script's exit status is vm-run's.
. "$VM_LIB"
t_pass "about to exit 3"
exit 3
