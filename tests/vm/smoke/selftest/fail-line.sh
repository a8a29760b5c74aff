# selftest: a FAIL line with exit 0 must fail the run.
. "$VM_LIB"
t_pass "this one passes"
t_fail "deliberate failure" "harness self-test"
exit 0
