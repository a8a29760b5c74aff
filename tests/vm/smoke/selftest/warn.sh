# selftest: a kernel WARN during the test is a failure even if the script passes.
. "$VM_LIB"
t_check "load with warn=1" modprobe siov_vm_smoke warn=1
t_summary
