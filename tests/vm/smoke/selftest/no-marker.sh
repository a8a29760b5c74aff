# selftest: a guest that powers off without the result marker.
poweroff -f
sleep 30
