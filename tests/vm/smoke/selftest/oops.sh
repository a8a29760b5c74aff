# selftest: an oops in a module (oops=panic).
modprobe siov_vm_smoke oops=1
sleep 30
