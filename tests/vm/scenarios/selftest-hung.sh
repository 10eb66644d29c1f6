# Harness self-test: a task stuck in D state must be reported by the kernel's
# hung-task detector and fail the scenario.
echo 2 > /proc/sys/kernel/hung_task_timeout_secs
check load-hanging-module modprobe rswap_selftest mode=hung
# The detector checks every timeout interval; give it a few.
sleep 8
check unload-hanging-module rmmod rswap_selftest
