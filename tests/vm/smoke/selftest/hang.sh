# selftest: a script that never finishes.
echo "hanging on purpose"
sleep 600
